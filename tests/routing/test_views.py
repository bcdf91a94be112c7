"""/admin/routing: list, add, edit, reorder and delete rules, with validation."""

from sqlalchemy import select

from crm.models import AuditLog, RoutingRule
from tests.factories import OrganisationFactory, UserFactory


def rules(db):
    return db.session.scalars(select(RoutingRule).order_by(RoutingRule.position)).all()


def rule_form(target, **overrides):
    data = {
        "name": "Forskning",
        "addressee": "",
        "category": "research",
        "organisation_type": "",
        "organisation_name": "",
        "target_user_id": str(target.id),
        "active": "y",
    }
    data.update(overrides)
    return data


def test_secretary_general_adds_a_rule(client, db, login_as):
    me = login_as("secretary_general")
    page = client.get("/admin/routing/new")
    assert page.status_code == 200
    assert me.name in page.text
    response = client.post("/admin/routing/new", data=rule_form(me))
    assert response.headers["Location"] == "/admin/routing"
    [rule] = rules(db)
    assert (rule.name, rule.category, rule.addressee, rule.target_user_id) == (
        "Forskning",
        "research",
        None,
        me.id,
    )
    assert "Forskning" in client.get("/admin/routing").text
    assert db.session.scalar(select(AuditLog.action).order_by(AuditLog.id.desc())) == (
        "routing_rule_created"
    )


def test_rule_for_an_organisation_by_name(client, db, login_as):
    me = login_as("admin")
    chair = UserFactory(role="chair")
    raa = OrganisationFactory(name="Riksantikvarieämbetet")
    client.post(
        "/admin/routing/new",
        data=rule_form(chair, organisation_name="riksantikvarieämbetet", category=""),
    )
    assert rules(db)[0].organisation_id == raa.id
    assert me.role == "admin"


def test_rule_validation_errors(client, db, login_as):
    me = login_as("secretary_general")
    board = UserFactory(role="board")
    cases = [
        ({"name": ""}, "Ge regeln ett namn."),
        ({"category": "piracy"}, "Välj ett av alternativen."),
        ({"target_user_id": str(board.id)}, "Välj generalsekreteraren eller ordföranden."),
        ({"organisation_name": "Finns Inte"}, "Det finns ingen organisation med det namnet."),
    ]
    for overrides, message in cases:
        response = client.post("/admin/routing/new", data=rule_form(me, **overrides))
        assert response.status_code == 422
        assert message in response.text
    assert rules(db) == []


def test_edit_reorder_and_delete(client, db, login_as):
    me = login_as("secretary_general")
    for name in ("A", "B", "C"):
        client.post("/admin/routing/new", data=rule_form(me, name=name))
    a, b, c = rules(db)
    client.post(f"/admin/routing/{c.id}/move", data={"direction": "up"})
    assert [r.name for r in rules(db)] == ["A", "C", "B"]
    client.post(f"/admin/routing/{a.id}/move", data={"direction": "up"})  # already first
    assert [r.name for r in rules(db)] == ["A", "C", "B"]
    client.post(f"/admin/routing/{b.id}", data=rule_form(me, name="B2", active=None))
    edited = db.session.get(RoutingRule, b.id)
    assert (edited.name, edited.active) == ("B2", False)
    asked = client.get(f"/admin/routing/{a.id}/delete")
    assert "Ta bort regeln A?" in asked.text
    assert "Förfrågningar som redan är fördelade påverkas inte." in asked.text
    client.post(f"/admin/routing/{a.id}/delete")  # not confirmed: asks again, keeps the rule
    assert [r.name for r in rules(db)] == ["A", "C", "B2"]
    client.post(f"/admin/routing/{a.id}/delete", data={"confirm": "yes"})
    assert [r.name for r in rules(db)] == ["C", "B2"]
    assert client.post("/admin/routing/999999/delete").status_code == 404
    assert (
        client.post(f"/admin/routing/{b.id}/move", data={"direction": "sideways"}).status_code
        == 400
    )


def test_board_and_chair_cannot_manage_rules(client, db, login_as):
    login_as("chair")
    assert client.get("/admin/routing").status_code == 403
    assert client.post("/admin/routing/new", data={}).status_code == 403
