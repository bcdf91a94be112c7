"""Double submission is harmless everywhere: one mechanism, the form's one-time id.

A double click, a reload of a POST or a retry after a timeout sends the same form twice; the
second copy must get the first one's result page and change nothing.
"""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier

import pytest
from sqlalchemy import func, select

from crm.activity.models import FollowUp, Note, TimelineEvent
from crm.core.idempotency import FormSubmission, claim, new_submission_id
from crm.mail.models import OutboxMessage
from crm.models import Contact, Inquiry, Message, Organisation
from crm.timeutil import local_today
from tests.conftest import TEST_PASSWORD
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory


def count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def twice(client, path, data):
    """Post the same form twice, as a double click does; both answers."""
    data = {**data, "submission_id": new_submission_id()}
    return client.post(path, data=data), client.post(path, data=data)


def same_result(first, second):
    assert first.status_code == 302, first.text
    assert second.status_code == 302, second.text
    assert second.location == first.location


# ---- the rule, where it lives --------------------------------------------------------------


def test_claim_takes_an_id_once_and_returns_the_earlier_use(app, db):
    with app.test_request_context():
        key = new_submission_id()
        assert claim(key, "inquiries.add_note", None) is None
        from crm.core.idempotency import remember_result

        remember_result("/inquiries/SAM-2099-0001")
        db.session.commit()
        earlier = claim(key, "inquiries.add_note", None)
    assert earlier is not None
    assert earlier.result_url == "/inquiries/SAM-2099-0001"
    assert count(db, FormSubmission) == 1
    # only a hash of the id is stored
    assert db.session.scalar(select(FormSubmission.key_hash)) != key


@pytest.mark.parametrize("key", [None, "", "short", "x" * 65, "<script>alert(1)</script>-xxxx"])
def test_a_missing_or_malformed_id_is_processed_without_protection(app, db, key):
    with app.test_request_context():
        assert claim(key, "inquiries.add_note", None) is None
    assert count(db, FormSubmission) == 0


# ---- through HTTP, form by form -------------------------------------------------------------


def test_a_repeated_note_is_stored_once(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    same_result(*twice(client, f"/inquiries/{inquiry.reference}/notes", {"body": "En gång"}))
    assert count(db, Note) == 1


def test_a_repeated_reply_is_mailed_once(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    path = f"/inquiries/{inquiry.reference}/reply"
    first, second = twice(client, path, {"body": "Tack, vi hör av oss."})
    same_result(first, second)
    assert count(db, OutboxMessage, OutboxMessage.kind == "public_reply") == 1
    assert count(db, Message) == 1
    assert "redan sparat" in client.get(second.location).text  # the repeat is told so


def test_a_repeated_logged_contact_is_stored_once(client, db, login_as):
    from crm.timeutil import utcnow
    from tests.helpers import STOCKHOLM

    login_as("secretary_general")
    inquiry = InquiryFactory(created_at=datetime(2026, 11, 2, 9, tzinfo=UTC))
    data = {
        "channel": "phone", "summary": "Ringde en gång.",
        "happened_at": utcnow().astimezone(STOCKHOLM).strftime("%Y-%m-%dT%H:%M"),
    }  # fmt: skip
    same_result(*twice(client, f"/inquiries/{inquiry.reference}/contacts", data))
    assert count(db, TimelineEvent, TimelineEvent.kind == "contact_logged") == 1


def test_a_repeated_follow_up_is_stored_once_wherever_it_is_added(client, db, login_as):
    me = login_as("secretary_general")
    inquiry = InquiryFactory()
    organisation = OrganisationFactory()
    base = {"owner": me.id, "recurrence": "none", "due_on": local_today().isoformat()}
    for n, path in enumerate(
        (
            f"/inquiries/{inquiry.reference}/follow-ups",
            f"/organisations/{organisation.id}/follow-ups",
            "/follow-ups",
        )
    ):
        same_result(*twice(client, path, {**base, "title": f"Ring {n}"}))
        assert count(db, FollowUp, FollowUp.title == f"Ring {n}") == 1, path


def test_a_repeated_logged_inquiry_is_stored_once(client, db, login_as):
    login_as("secretary_general")
    data = {
        "channel": "phone", "organisation_name": "Föreningen Telefon",
        "organisation_type": "civil_society", "contact_name": "Tove Telefon",
        "email": "tove@exempel.se", "category": "research", "subject": "Samtal",
        "message": "Hon ringde.", "addressee": "no_preference",
    }  # fmt: skip
    first, second = twice(client, "/inquiries/new", data)
    same_result(first, second)
    assert re.search(r"/inquiries/SAM-\d{4}-\d{4}$", first.location)
    assert count(db, Inquiry) == 1


def test_repeated_organisation_and_contact_are_stored_once(client, db, login_as):
    login_as("secretary_general")
    data = {"name": "Kulturens hus", "type": "museum", "relationship": "prospect"}
    same_result(*twice(client, "/organisations/new", data))
    assert count(db, Organisation) == 1
    organisation = db.session.scalar(select(Organisation))
    contact = {"name": "Kim Kontakt", "email": "kim@kulturenshus.se"}
    same_result(*twice(client, f"/organisations/{organisation.id}/contacts", contact))
    assert count(db, Contact) == 1
    same_result(*twice(client, f"/organisations/{organisation.id}/notes", {"body": "Ett möte"}))
    assert count(db, Note, Note.organisation_id == organisation.id) == 1


def test_a_repeated_reply_template_is_stored_once(client, db, login_as):
    from crm.models import ReplyTemplate

    login_as("secretary_general")
    data = {"name": "Tack", "scope": "shared", "text_sv": "Tack {kontakt}"}
    same_result(*twice(client, "/svarsmallar/ny", data))
    assert count(db, ReplyTemplate) == 1
    template = db.session.scalar(select(ReplyTemplate))
    data = {**data, "name": "Tack!"}
    same_result(*twice(client, f"/svarsmallar/{template.id}", data))
    same_result(*twice(client, f"/svarsmallar/{template.id}/ta-bort", {}))
    assert count(db, ReplyTemplate) == 0


def test_a_repeated_case_number_is_recorded_once(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    path = f"/inquiries/{inquiry.reference}/diarienummer"
    first, second = twice(client, path, {"counterpart_reference": "KS 2026/1", "version": 1})
    same_result(first, second)  # not a 409 "someone else changed it"
    kind = "counterpart_reference_changed"
    assert count(db, TimelineEvent, TimelineEvent.kind == kind) == 1


def test_a_repeated_status_change_is_not_taken_for_someone_elses_edit(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    path = f"/inquiries/{inquiry.reference}/status"
    first, second = twice(client, path, {"status": "triaged", "version": 1})
    same_result(first, second)  # not a 409 "someone else changed it"
    changes = count(db, TimelineEvent, TimelineEvent.kind == "status_changed")
    assert changes == 1


def test_a_failed_attempt_leaves_the_id_unused(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    path = f"/inquiries/{inquiry.reference}/notes"
    key = new_submission_id()
    refused = client.post(path, data={"body": "", "submission_id": key})
    assert refused.status_code == 422
    assert f'value="{key}"' in refused.text  # the form comes back with the same id
    assert client.post(path, data={"body": "Nu", "submission_id": key}).status_code == 302
    assert count(db, Note) == 1


def test_an_id_used_by_someone_else_is_refused(app, client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    path = f"/inquiries/{inquiry.reference}/notes"
    key = new_submission_id()
    assert client.post(path, data={"body": "Min", "submission_id": key}).status_code == 302
    other = app.test_client()
    chair = UserFactory(role="chair")
    other.post("/login", data={"email": chair.email, "password": TEST_PASSWORD})
    refused = other.post(path, data={"body": "Din", "submission_id": key})
    assert refused.status_code == 409
    assert count(db, Note) == 1


def test_every_post_route_is_idempotent_or_says_why_not(app):
    """One mechanism for every form: a new POST route without it fails here."""
    exempt = {
        "auth.login": "changes only the session; a repeat logs in again",
        "auth.logout": "a repeat finds the session already ended",
        "core.set_language": "sets the same language again",
        "account.profile": "a repeat asks for the current password again",
        "account.new_calendar_link": "replaces the feed address; the newest one is shown",
        "account.revoke_calendar_link": "a repeat revokes nothing more",
        "auth.second_factor": "a repeat is a replayed code, which is refused",
        "auth.forgot_password": "a repeat sends a new link, which ends the earlier one",
        "auth.set_password": "the link is used up: a repeat finds it gone",
        "account.two_factor_page": "enrolment: a repeat is a replayed code, which is refused",
        "privacy.person": "a search: it changes nothing",
        "privacy.export": "a download: a repeat downloads again",
        "reports.export_inquiries": "a download of ticked rows: a repeat downloads again",
        "reports.export_inquiries_xlsx": "a download of ticked rows: a repeat downloads again",
    }
    missing = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in exempt:
            continue
        if not getattr(app.view_functions[rule.endpoint], "idempotent", False):
            missing.append(rule.endpoint)
    assert missing == []


def test_a_repeated_bulk_action_is_done_once(client, db, login_as):
    from crm.models import AuditLog

    login_as("secretary_general")
    inquiries = [InquiryFactory() for _ in range(2)]
    db.session.commit()
    data = {
        "selected": [i.id for i in inquiries], "action": "status", "status": "triaged",
        "next": "/inquiries?status=new",
    }  # fmt: skip
    same_result(*twice(client, "/inquiries/bulk", data))
    assert count(db, AuditLog, AuditLog.action == "inquiry_status_changed") == 2


def test_repeated_tags_and_saved_views_are_stored_once(client, db, login_as):
    from crm.models import AuditLog, SavedView

    login_as("secretary_general")
    inquiry = InquiryFactory()
    db.session.commit()
    same_result(*twice(client, f"/inquiries/{inquiry.reference}/tags", {"name": "remiss"}))
    assert count(db, AuditLog, AuditLog.action == "inquiry_tagged") == 1
    same_result(
        *twice(client, "/inquiries/views", {"name": "Nya", "next": "/inquiries?status=new"})
    )
    assert count(db, SavedView) == 1


def test_a_repeated_save_of_the_submitter_as_contact_is_stored_once(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory(organisation_id=OrganisationFactory().id)
    same_result(*twice(client, f"/inquiries/{inquiry.reference}/spara-kontakt", {}))
    assert count(db, Contact) == 1


def test_a_repeated_import_upload_and_confirmation_write_once(client, db, login_as):
    import io

    from crm.partners.models import OrganisationImport

    login_as("secretary_general")
    key = new_submission_id()
    content = b"namn;typ;kontaktperson;e-post\r\nKulturens hus;museum;Kim;kim@k.se"
    uploads = [
        client.post(
            "/organisations/import",
            data={"file": (io.BytesIO(content), "r.csv"), "submission_id": key},
            content_type="multipart/form-data",
        )
        for _ in range(2)
    ]
    same_result(*uploads)
    assert count(db, OrganisationImport) == 1
    same_result(*twice(client, uploads[0].location, {}))
    assert count(db, Organisation) == 1
    assert count(db, Contact) == 1


# ---- two copies at the same moment ------------------------------------------------------


def test_two_copies_of_a_reply_at_the_same_moment_send_one_mail(app, committed):
    email = UserFactory(role="secretary_general").email
    reference = InquiryFactory().reference
    committed.session.remove()
    data = {"body": "Samtidigt", "submission_id": new_submission_id()}
    start = Barrier(4)

    def send(_):
        client = app.test_client()
        client.post("/login", data={"email": email, "password": TEST_PASSWORD})
        start.wait(timeout=30)
        return client.post(f"/inquiries/{reference}/reply", data=data).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(send, range(4)))
    assert statuses == [302] * 4
    with app.app_context():
        mails = committed.session.scalar(
            select(func.count()).where(OutboxMessage.kind == "public_reply")
        )
    assert mails == 1


def test_used_ids_are_forgotten_after_thirty_days(runner, db):
    from datetime import timedelta

    from crm.timeutil import utcnow

    now = utcnow()
    for age in (timedelta(days=31), timedelta(days=29)):
        db.session.add(
            FormSubmission(key_hash=f"{age.days:064d}", endpoint="x", created_at=now - age)
        )
    db.session.commit()
    assert runner.invoke(args=["crm", "purge-expired"]).exit_code == 0
    ages = db.session.scalars(select(FormSubmission.key_hash)).all()
    assert ages == [f"{29:064d}"]
