"""The audit log reads as sentences in the UI language, with names instead of database ids
(issue 19), and every action the code writes has words."""

import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from crm.audit.describe import ACTIONS, action_name, describe, names_for
from crm.audit.models import AuditLog
from crm.audit.services import audit
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory

CRM = Path(__file__).parents[2] / "crm"
# audit("some_action", …) and the conditional form audit("a" if … else "b", …)
WRITTEN = re.compile(r'audit\(\s*"([a-z_]+)"(?:\s+if\s+\w+\s+else\s+"([a-z_]+)")?')


def written_actions() -> set[str]:
    found = set()
    for path in CRM.rglob("*.py"):
        for match in WRITTEN.finditer(path.read_text(encoding="utf-8")):
            found.update(name for name in match.groups() if name)
    return found


def test_the_scan_finds_the_actions_it_should():
    actions = written_actions()
    assert {"inquiry_status_changed", "organisation_created", "organisation_updated"} <= actions
    assert len(actions) > 50


def test_every_action_the_code_writes_has_a_name_and_a_sentence():
    assert sorted(written_actions() - ACTIONS.keys()) == []


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def said(db, row):
    db.session.flush()
    return describe(row, names_for([row], list(_users(db))))


def _users(db):
    from crm.auth.models import User

    return db.session.query(User).all()


def test_a_status_change_is_one_sentence_with_names_and_labels(ctx, db):
    greta = UserFactory(name="Greta Gustafsson")
    inquiry = InquiryFactory()
    row = audit("inquiry_status_changed", greta, inquiry, old="new", new="triaged")
    text = said(db, row)
    assert (
        text.sentence
        == f"Greta Gustafsson ändrade status på {inquiry.reference} från Ny till Bedömd"
    )
    assert text.details == []
    with force_locale("en"):
        english = said(db, row).sentence
    assert (
        english == f"Greta Gustafsson changed the status of {inquiry.reference} from New to Triaged"
    )


def test_people_and_organisations_in_the_details_are_named(ctx, db):
    greta, karin = UserFactory(name="Greta G"), UserFactory(name="Karin K")
    inquiry = InquiryFactory()
    museum = OrganisationFactory(name="Jamtli")
    assigned = audit("inquiry_assigned", greta, inquiry, assignee_id=karin.id)
    linked = audit("inquiry_organisation_changed", greta, inquiry, organisation_id=museum.id)
    assert said(db, assigned).sentence == f"Greta G gav {inquiry.reference} till Karin K"
    assert said(db, linked).sentence == f"Greta G kopplade {inquiry.reference} till Jamtli"


def test_other_details_are_a_readable_list_not_json(ctx, db):
    admin = UserFactory(name="Ada Admin")
    row = audit(
        "personal_data_exported", admin, None, what="inquiries.csv",
        filters={"status": "open", "year": "2026"},
    )  # fmt: skip
    text = said(db, row)
    assert text.sentence == "Ada Admin exporterade förfrågningar (inquiries.csv)"
    assert text.details == [("Filter", "status: open; year: 2026")]


def test_a_failed_log_in_says_why_in_words(ctx, db):
    row = audit("login_failed", None, None, reason="unknown_or_inactive")
    assert said(db, row).sentence == "Misslyckad inloggning: okänd eller avstängd adress"


def test_a_removed_object_or_an_unknown_action_still_reads_without_error(ctx, db):
    greta = UserFactory(name="Greta G")
    gone = AuditLog(action="note_edited", actor_id=greta.id, object_type="Note", object_id="999")
    odd = AuditLog(action="something_new", actor_label="cron", details={"count": 3})
    missing = AuditLog(action="inquiry_status_changed", actor_id=greta.id,
                       object_type="Inquiry", object_id="424242", details={})  # fmt: skip
    db.session.add_all([gone, odd, missing])
    assert said(db, gone).sentence == "Greta G ändrade en anteckning"
    assert said(db, odd).sentence == "cron: something_new"
    assert said(db, odd).details == [("count", "3")]
    assert (
        said(db, missing).sentence == "Greta G ändrade status på förfrågan nr 424242 från – till –"
    )


def test_the_filter_names_actions_in_words(ctx):
    assert action_name("inquiry_status_changed") == "Status ändrad"
    assert action_name("not_an_action") == "not_an_action"


def test_the_page_shows_sentences_and_keeps_its_filters(client, db, login_as):
    admin = login_as("admin", name="Ada Admin")
    inquiry = InquiryFactory()
    with client.application.test_request_context():
        audit("inquiry_status_changed", admin, inquiry, old="new", new="triaged")
    db.session.commit()
    page = client.get("/admin/audit?action=inquiry_status_changed")
    assert page.status_code == 200
    assert f"Ada Admin ändrade status på {inquiry.reference} från Ny till Bedömd" in page.text
    assert '<option value="inquiry_status_changed" selected>Status ändrad</option>' in page.text
    assert "{&#34;" not in page.text
    assert '{"' not in page.text


def test_the_page_names_objects_with_a_fixed_number_of_statements(db, login_as, statements_for):
    admin = login_as("admin")

    def add(n):
        for _ in range(n):
            inquiry, organisation = InquiryFactory(), OrganisationFactory()
            user = UserFactory()
            db.session.add_all([
                AuditLog(action="inquiry_assigned", actor_id=admin.id, object_type="Inquiry",
                         object_id=str(inquiry.id), details={"assignee_id": user.id}),
                AuditLog(action="organisation_updated", actor_id=admin.id,
                         object_type="Organisation", object_id=str(organisation.id)),
                AuditLog(action="user_invited", actor_id=admin.id, object_type="User",
                         object_id=str(user.id), details={"role": "board"}),
                AuditLog(action="note_added", actor_id=admin.id, object_type="Note",
                         object_id="1", details={"inquiry_id": inquiry.id}),
            ])  # fmt: skip
        db.session.commit()

    add(2)
    few = statements_for("/admin/audit")
    add(20)
    assert statements_for("/admin/audit") == few
