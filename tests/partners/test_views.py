"""The partner register: list, record, create/edit with validation, contacts, merge."""

import pytest
from sqlalchemy import func, select

from crm.activity.models import FollowUp, Note, TimelineEvent
from crm.models import AuditLog, Contact, Inquiry, Organisation, RoutingRule
from tests.factories import InquiryFactory, OrganisationFactory


def org_form(**overrides):
    data = {
        "name": "Kulturens hus",
        "short_name": "",
        "org_number": "",
        "type": "museum",
        "relationship": "prospect",
        "website": "",
        "email_domain": "",
        "region": "",
        "description": "",
    }
    data.update(overrides)
    return data


def test_list_shows_open_counts_and_last_contact(client, db, login_as):
    login_as("board")
    museum = OrganisationFactory(name="Jamtli", region="23")
    InquiryFactory(organisation_id=museum.id)
    InquiryFactory(organisation_id=museum.id, status="agreed")
    OrganisationFactory(name="Annat")
    page = client.get("/organisations").text
    row = page.split("Jamtli")[1].split("</tr>")[0]
    assert '<td class="num nowrap" data-label="Öppna förfrågningar">1</td>' in row
    assert "Jämtlands län" in row
    assert "Annat" in client.get("/organisations?type=museum").text
    filtered = client.get("/organisations?q=jamt&region=23").text
    assert "Jamtli" in filtered
    assert "Annat" not in filtered


def test_record_shows_the_whole_relationship(client, db, login_as):
    me = login_as("secretary_general")
    raa = OrganisationFactory(name="Riksantikvarieämbetet")
    inquiry = InquiryFactory(organisation_id=raa.id, subject="Årlig dialog 2026")
    db.session.add_all(
        [
            Contact(organisation_id=raa.id, name="Rita Riks", email="rita@raa.se"),
            Note(organisation_id=raa.id, author_id=me.id, body="Bra möte i våras."),
            FollowUp(
                title="Årligt dialogsamtal",
                due_on=__import__("datetime").date(2027, 2, 1),
                organisation_id=raa.id,
                owner_id=me.id,
                recurrence="yearly",
            ),
            TimelineEvent(inquiry_id=inquiry.id, actor_id=me.id, kind="note_added"),
        ]
    )
    db.session.commit()
    page = client.get(f"/organisations/{raa.id}").text
    for text in (
        "Rita Riks",
        "Bra möte i våras.",
        "Årligt dialogsamtal",
        "Årlig dialog 2026",
        inquiry.reference,
        "varje år",
    ):
        assert text in page, text


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Ange organisationens namn."),
        ({"org_number": "556036-0794"}, "org_number", "Kontrollera siffrorna"),
        ({"website": "inte en adress"}, "website", "Ange en webbadress"),
        ({"type": "pirate"}, "type", "Välj ett av alternativen."),
        ({"email_domain": "a b"}, "email_domain", "Ange bara domänen"),
    ],
)
def test_create_validation(client, db, login_as, overrides, field, message):
    login_as("secretary_general")
    response = client.post("/organisations/new", data=org_form(**overrides))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert message in response.text
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0


def test_create_normalises_website_and_refuses_duplicates(client, db, login_as):
    login_as("secretary_general")
    response = client.post(
        "/organisations/new", data=org_form(website="WWW.Kulturenshus.SE/", org_number="5560360793")
    )
    created = db.session.scalar(select(Organisation))
    assert response.headers["Location"] == f"/organisations/{created.id}"
    assert created.website == "https://www.kulturenshus.se"
    assert created.org_number == "556036-0793"
    for name in ("KULTURENS  HUS", "Kulturens hus AB", "kulturens hus ideell förening"):
        again = client.post("/organisations/new", data=org_form(name=name))
        assert "finns redan i registret" in again.text, name
    other_number = client.post(
        "/organisations/new", data=org_form(name="Annat", org_number="556036-0793")
    )
    assert "används redan" in other_number.text
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def test_edit_contacts(client, db, login_as):
    login_as("secretary_general")
    org = OrganisationFactory()
    client.post(
        f"/organisations/{org.id}/contacts",
        data={"name": "Karin", "title": "Chef", "email": "KARIN@museum.se"},
    )
    contact = db.session.scalar(select(Contact))
    assert contact.email == "karin@museum.se"
    bad = client.post(f"/organisations/{org.id}/contacts", data={"name": "", "email": "x@"})
    assert bad.status_code == 422
    client.post(
        f"/organisations/{org.id}/contacts/{contact.id}", data={"name": "Karin K", "email": ""}
    )
    assert db.session.get(Contact, contact.id).name == "Karin K"
    client.post(f"/organisations/{org.id}/contacts/{contact.id}/delete")
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0


def test_merge_moves_everything_and_loses_nothing(client, db, login_as):
    me = login_as("secretary_general")
    survivor = OrganisationFactory(name="Sörmlands museum")
    duplicate = OrganisationFactory(
        name="Sörmlands läns museum", org_number="556036-0793", website="https://sormland.se"
    )
    inquiries = [InquiryFactory(organisation_id=duplicate.id) for _ in range(3)]
    db.session.add_all(
        [
            Contact(organisation_id=duplicate.id, name="Kim"),
            Note(organisation_id=duplicate.id, author_id=me.id, body="n"),
            FollowUp(
                title="f",
                due_on=__import__("datetime").date(2027, 1, 1),
                organisation_id=duplicate.id,
                owner_id=me.id,
            ),
            TimelineEvent(organisation_id=duplicate.id, kind="created"),
            RoutingRule(position=1, name="r", organisation_id=duplicate.id, target_user_id=me.id),
        ]
    )
    db.session.commit()
    survivor_id, duplicate_id = survivor.id, duplicate.id
    response = client.post(
        f"/organisations/{survivor_id}/merge", data={"duplicate": "sörmlands läns museum"}
    )
    assert response.headers["Location"] == f"/organisations/{survivor_id}"
    assert db.session.get(Organisation, duplicate_id) is None
    for model in (Contact, Note, FollowUp, RoutingRule):
        assert (
            db.session.scalar(
                select(func.count()).select_from(model).where(model.organisation_id == survivor_id)
            )
            == 1
        )
    assert {i.organisation_id for i in db.session.scalars(select(Inquiry))} == {survivor_id}
    assert len(inquiries) == 3
    kept = db.session.get(Organisation, survivor_id)
    assert (kept.org_number, kept.website) == ("556036-0793", "https://sormland.se")
    merged = db.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "merged"))
    assert merged.organisation_id == survivor_id
    assert merged.data["merged_name"] == "Sörmlands läns museum"
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "organisations_merged"))
    said = client.get(f"/organisations/{survivor_id}").text
    assert (
        "Sörmlands läns museum är sammanslagen med Sörmlands museum. Flyttade hit: "
        "3 förfrågningar, 1 kontaktperson, 1 anteckning, 1 uppföljning, 1 fördelningsregel."
    ) in said


def test_merge_refuses_itself_and_unknown(client, db, login_as):
    login_as("secretary_general")
    org = OrganisationFactory(name="Ett")
    assert (
        "Välj en annan organisation"
        in client.post(f"/organisations/{org.id}/merge", data={"duplicate": "Ett"}).text
    )
    assert (
        "ingen organisation med det namnet"
        in client.post(f"/organisations/{org.id}/merge", data={"duplicate": "Två"}).text
    )


def test_board_and_chair_read_but_cannot_change(client, db, login_as):
    login_as("chair")
    org = OrganisationFactory()
    page = client.get(f"/organisations/{org.id}").text
    assert org.name in page
    assert "Ändra uppgifter" not in page
    assert client.post(f"/organisations/{org.id}/notes", data={"body": "x"}).status_code == 403
    assert client.get("/organisations/new").status_code == 403


@pytest.mark.parametrize("path", ["/organisations", "/organisations/{id}"])
def test_query_count_does_not_grow(db, login_as, statements_for, path):
    me = login_as("secretary_general")
    org = OrganisationFactory()

    def add(n):
        orgs = OrganisationFactory.build_batch(n)
        db.session.add_all(orgs)
        batch = InquiryFactory.build_batch(n, organisation_id=org.id, assignee_id=me.id)
        db.session.add_all(batch)
        db.session.flush()
        for inquiry in batch:
            db.session.add(
                Note(inquiry_id=inquiry.id, organisation_id=org.id, author_id=me.id, body="x")
            )
            db.session.add(TimelineEvent(inquiry_id=inquiry.id, actor_id=me.id, kind="note_added"))
            db.session.add(Contact(organisation_id=org.id, name="c"))
        db.session.commit()

    add(5)
    small = statements_for(path.format(id=org.id))
    add(200)
    assert statements_for(path.format(id=org.id)) == small
