"""Bulk actions through HTTP: who may, what is refused with 422, what is reported, where to."""

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from crm.inquiries.statuses import Status
from crm.models import AuditLog, Inquiry
from crm.tags.queries import tags_of_inquiry
from tests.factories import InquiryFactory, UserFactory

LIST = "/inquiries?status=new&sort=oldest"


def post(client, data):
    return client.post("/inquiries/bulk", data={"next": LIST, **data})


def status_of(db, inquiry_id):
    return db.session.scalar(select(Inquiry.status).where(Inquiry.id == inquiry_id))


def audits(db, action):
    return db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
    )


@pytest.mark.parametrize("role", ["board", "admin"])
def test_only_inquiry_editors_may_act_in_bulk(client, db, login_as, role):
    inquiry = InquiryFactory()
    db.session.commit()
    login_as(role)
    inquiry_id = inquiry.id
    response = post(client, {"selected": [inquiry_id], "action": "status", "status": "triaged"})
    assert response.status_code == 403
    assert status_of(db, inquiry_id) is Status.NEW


def test_board_sees_no_checkboxes_and_no_bulk_form(client, db, login_as):
    InquiryFactory()
    login_as("board")
    page = client.get("/inquiries").text
    assert 'name="selected"' not in page
    assert "/inquiries/bulk" not in page


def test_editors_see_checkboxes_actions_and_export_buttons(client, db, login_as):
    inquiry = InquiryFactory()
    login_as("chair")
    page = client.get(LIST).text
    assert f'name="selected" value="{inquiry.id}"' in page
    assert 'value="assign"' in page
    assert 'value="status"' in page
    assert 'value="tag"' in page
    assert 'formaction="/export/inquiries.xlsx"' in page
    assert 'formaction="/export/inquiries.csv"' in page
    assert 'value="spam"' not in page.split('id="bulk-status"')[1].split("</select>")[0]


def test_status_in_bulk_keeps_the_filters_and_reports_refusals(client, db, login_as):
    login_as("secretary_general")
    movable = InquiryFactory(status=Status.NEW)
    stuck = InquiryFactory(status=Status.AGREED)
    db.session.commit()
    ids, stuck_reference = [movable.id, stuck.id], stuck.reference
    response = post(client, {"selected": ids, "action": "status", "status": "triaged"})
    assert response.status_code == 302
    target = urlsplit(response.location)
    assert (target.path, target.query) == ("/inquiries", "status=new&sort=oldest")
    page = client.get(response.location).text
    assert "1 förfrågan är ändrad." in page
    assert f"{stuck_reference}: En förfrågan med status ”Överenskommen”" in page
    assert [status_of(db, i) for i in ids] == [Status.TRIAGED, Status.AGREED]
    assert audits(db, "inquiry_status_changed") == 1


def test_one_audit_row_per_affected_inquiry(client, db, login_as):
    login_as("secretary_general")
    inquiries = [InquiryFactory() for _ in range(3)]
    db.session.commit()
    ids = [i.id for i in inquiries]
    response = post(client, {"selected": ids, "action": "tag", "tag": "remiss"})
    assert response.status_code == 302
    assert audits(db, "inquiry_tagged") == 3
    for inquiry_id in ids:
        assert [t.name for t in tags_of_inquiry(db.session.get(Inquiry, inquiry_id))] == ["remiss"]


def test_a_final_status_needs_confirmation(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    db.session.commit()
    inquiry_id = inquiry.id
    data = {"selected": [inquiry_id], "action": "status", "status": "declined"}
    refused = post(client, data)
    assert refused.status_code == 422
    assert 'id="bulk-confirm-error"' in refused.text
    assert status_of(db, inquiry_id) is Status.NEW
    assert post(client, {**data, "confirm_final": "y"}).status_code == 302
    assert status_of(db, inquiry_id) is Status.DECLINED


@pytest.mark.parametrize(
    ("data", "error_id"),
    [
        ({"action": "status", "status": "triaged"}, "selected-error"),
        ({"selected": ["x"], "action": "status", "status": "triaged"}, "selected-error"),
        ({"selected": ["{id}"], "action": "status", "status": "spam"}, "bulk-status-error"),
        ({"selected": ["{id}"], "action": "status", "status": ""}, "bulk-status-error"),
        ({"selected": ["{id}"], "action": "assign", "assignee": "999999"}, "bulk-assignee-error"),
        ({"selected": ["{id}"], "action": "tag", "tag": "  "}, "bulk-tag-error"),
        ({"selected": ["{id}"], "action": "tag", "tag": "x" * 61}, "bulk-tag-error"),
    ],
)
def test_bad_input_is_422_beside_the_field_and_changes_nothing(
    client, db, login_as, data, error_id
):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    db.session.commit()
    inquiry_id = inquiry.id
    data = {k: [v.format(id=inquiry_id) for v in vs] if isinstance(vs, list) else vs
            for k, vs in data.items()}  # fmt: skip
    response = post(client, data)
    assert response.status_code == 422
    assert f'id="{error_id}"' in response.text
    assert 'name="status" value="new"' not in response.text  # the list, with its filters
    assert 'id="f-status"' in response.text
    assert status_of(db, inquiry_id) is Status.NEW
    assert audits(db, "inquiry_status_changed") == 0
    assert audits(db, "inquiry_tagged") == 0


def test_bulk_assign_refuses_jav_per_row(client, db, login_as):
    from crm.inquiries.services import declare_conflict

    login_as("secretary_general")
    chair = UserFactory(role="chair")
    free, conflicted = InquiryFactory(), InquiryFactory()
    declare_conflict(conflicted, chair, "Jävig")
    db.session.commit()
    free_id, conflicted_id, chair_id = free.id, conflicted.id, chair.id
    reference, name = conflicted.reference, chair.name
    response = post(
        client, {"selected": [free_id, conflicted_id], "action": "assign", "assignee": chair_id}
    )
    assert response.status_code == 302
    page = client.get(response.location).text
    assert f"{reference}: {name} har anmält jäv" in page
    assignee = lambda i: db.session.scalar(select(Inquiry.assignee_id).where(Inquiry.id == i))  # noqa: E731
    assert assignee(free_id) == chair_id
    assert assignee(conflicted_id) != chair_id


def test_next_cannot_lead_elsewhere(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    db.session.commit()
    response = client.post(
        "/inquiries/bulk",
        data={"next": "https://evil.example/inquiries", "selected": [inquiry.id],
              "action": "tag", "tag": "remiss"},
    )  # fmt: skip
    assert response.status_code == 302
    assert response.location == "/inquiries"


def test_list_with_tags_costs_the_same_for_few_and_many_rows(db, login_as, statements_for):
    from crm.tags.services import tag_inquiry

    me = login_as("secretary_general")

    def add(n):
        for _ in range(n):
            inquiry = InquiryFactory()
            tag_inquiry(inquiry, "remiss", me)
            tag_inquiry(inquiry, f"Etikett {inquiry.id}", me)
        db.session.commit()

    add(2)
    small = statements_for("/inquiries")
    add(30)
    assert statements_for("/inquiries") == small
    assert statements_for("/inquiries?tag=REMISS") == small


@pytest.mark.parametrize(
    "query",
    [
        "endpoint=x&status=new",  # url_for's own parameter name: was a TypeError, a 500
        "_anchor=x&_external=1&_scheme=javascript&status=new",
        "values=1&status=new&after=",
    ],
)
def test_next_with_foreign_arguments_leads_to_the_list_with_its_own_filters(
    client, db, login_as, query
):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    db.session.commit()
    response = client.post(
        "/inquiries/bulk",
        data={"next": f"/inquiries?{query}", "selected": [inquiry.id], "action": "tag",
              "tag": "remiss"},
    )  # fmt: skip
    assert response.status_code == 302
    assert response.location == "/inquiries?status=new"


def flashes(page, category):
    import re

    return re.findall(rf'class="flash flash-{category}"[^>]*>([^<]*)</p>', page)


def test_the_report_counts_in_good_swedish_and_claims_no_success_when_nothing_changed(
    client, db, login_as
):
    login_as("secretary_general")
    movable, stuck = InquiryFactory(status=Status.NEW), InquiryFactory(status=Status.AGREED)
    db.session.commit()
    movable_id, stuck_id, stuck_reference = movable.id, stuck.id, stuck.reference
    data = {"action": "status", "status": "triaged"}
    response = post(client, {"selected": [movable_id], **data})
    assert flashes(client.get(response.location).text, "success") == ["1 förfrågan är ändrad."]

    response = post(client, {"selected": [stuck_id], **data})
    page = client.get(response.location).text
    assert flashes(page, "success") == []  # nothing changed: no green "0 … ändrade"
    assert flashes(page, "error")[0] == "1 förfrågan kunde inte ändras:"
    assert flashes(page, "error")[1].startswith(f"{stuck_reference}: ")


def test_v4_2_2_the_list_forms_work_with_csrf_on_and_a_twice_sent_form_acts_once(database, db):
    """With CSRF on, as in production: the bulk form and "Spara vyn" as the list renders them
    are accepted, and the same bulk form sent twice (a double click) tags once."""
    import re

    from tests.conftest import TEST_PASSWORD, make_app

    app = make_app(database, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = UserFactory(role="secretary_general")
    inquiry = InquiryFactory()
    db.session.commit()
    inquiry_id = inquiry.id
    login = client.get("/login").text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', login).group(1)
    data = {"email": user.email, "password": TEST_PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    page = client.get("/inquiries").text

    def hidden(form_action, name):
        form = page.split(f'action="{form_action}"')[1].split("</form>")[0]
        return re.search(rf'name="{name}"[^>]*value="([^"]*)"', form).group(1)

    bulk = {
        "csrf_token": hidden("/inquiries/bulk", "csrf_token"),
        "submission_id": hidden("/inquiries/bulk", "submission_id"),
        "next": "/inquiries", "selected": [inquiry_id], "action": "tag", "tag": "remiss",
    }  # fmt: skip
    assert client.post("/inquiries/bulk", data=bulk).status_code == 302
    assert client.post("/inquiries/bulk", data=bulk).status_code == 302
    assert audits(db, "inquiry_tagged") == 1
    view = {
        "csrf_token": hidden("/inquiries/views", "csrf_token"),
        "submission_id": hidden("/inquiries/views", "submission_id"),
        "next": "/inquiries?status=new", "name": "Nya",
    }  # fmt: skip
    assert client.post("/inquiries/views", data=view).status_code == 302
