"""Mail that needs a person is visible: the admin's mail page, its actions, and /healthz/mail."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.audit.models import AuditLog
from crm.mail.models import OutboxMessage, OutboxStatus
from crm.mail.services import send_pending
from crm.timeutil import utcnow
from tests.factories import InquiryFactory


def message(db, **values) -> OutboxMessage:
    row = OutboxMessage(
        kind=values.pop("kind", "receipt"), subject="Tack", body_text="Tack",
        recipient=values.pop("recipient", "a@exempel.se"), **values,
    )  # fmt: skip
    db.session.add(row)
    db.session.commit()
    return row


def fresh(db, row) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, row.id)


@pytest.fixture
def problems(db):
    """One of each kind of message the page must and must not list."""
    inquiry = InquiryFactory(reference="SAM-2026-0042")
    old = utcnow() - timedelta(hours=3)
    return {
        "failed": message(
            db, recipient="failed@exempel.se", status=OutboxStatus.FAILED, attempts=57,
            last_error="SMTPRecipientsRefused: 550 mailbox unavailable", inquiry_id=inquiry.id,
        ),
        "held": message(db, recipient="held@exempel.se", kind="assignee_notice",
                        status=OutboxStatus.HELD),
        "delayed": message(db, recipient="delayed@exempel.se", kind="reminder", attempts=6,
                           pending_since=old, next_attempt_at=utcnow() + timedelta(minutes=20),
                           last_error="ConnectionRefusedError: [Errno 111] Connection refused"),
        "fresh": message(db, recipient="fresh@exempel.se"),
        "sent": message(db, recipient="sent@exempel.se", status=OutboxStatus.SENT,
                        pending_since=old),
        "discarded": message(db, recipient="discarded@exempel.se",
                             status=OutboxStatus.DISCARDED, pending_since=old),
    }  # fmt: skip


def test_the_page_lists_failed_held_and_delayed_mail_only(client, login_as, problems):
    login_as("admin")
    page = client.get("/admin/mail").text
    for shown in ("failed@", "held@", "delayed@"):
        assert shown in page
    for hidden in ("fresh@", "sent@", "discarded@"):
        assert hidden not in page
    assert "SMTPRecipientsRefused: 550 mailbox unavailable" in page
    assert "SAM-2026-0042" in page
    assert ">57<" in page
    assert "Mottagningskvitto" in page
    assert "Avisering till ansvarig" in page
    assert "Misslyckade: 1" in page
    assert "Kvarhållna: 1" in page
    assert "Försenade: 1" in page
    assert page.index("failed@") < page.index("held@") < page.index("delayed@")
    assert '<span class="count">3</span>' in page  # in the menu, on every page


def test_the_page_in_english(client, login_as, problems):
    login_as("admin")
    client.post("/language", data={"lang": "en"})
    page = client.get("/admin/mail").text
    assert "Mail queue" in page
    assert "Failed: 1" in page
    assert "Send again" in page
    assert "Receipt" in page


def test_an_empty_queue(client, login_as, db):
    login_as("admin")
    page = client.get("/admin/mail").text
    assert "Ingen e-post behöver åtgärdas." in page


def test_send_again_queues_a_failed_message_once_and_is_audited(
    client, login_as, db, problems, smtp_server
):
    admin = login_as("admin")
    failed = problems["failed"]
    before = utcnow()
    response = client.post(f"/admin/mail/{failed.id}/send-again")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/mail"
    row = fresh(db, failed)
    assert row.status == OutboxStatus.PENDING
    assert row.next_attempt_at >= before
    assert row.pending_since >= before  # a fresh give-up window
    assert row.attempts == 57  # the history stays
    [entry] = db.session.scalars(select(AuditLog).where(AuditLog.action == "mail_sent_again"))
    assert (entry.actor_id, entry.object_id) == (admin.id, str(failed.id))
    assert entry.details == {"old_status": "failed", "kind": "receipt"}

    client.post(f"/admin/mail/{failed.id}/send-again")  # pressed twice: still one message
    send_pending()
    again = client.post(f"/admin/mail/{failed.id}/send-again", follow_redirects=True)
    assert "redan skickat" in again.text
    send_pending(now=utcnow() + timedelta(days=1))
    recipients = [rcpts for _, rcpts, _ in smtp_server.messages]
    assert recipients.count(["failed@exempel.se"]) == 1
    assert fresh(db, failed).status == OutboxStatus.SENT
    assert fresh(db, failed).message_id in smtp_server.message_ids()


def test_discard_keeps_a_held_message_from_ever_being_sent(
    client, login_as, db, problems, smtp_server
):
    login_as("admin")
    held = problems["held"]
    page = client.post(f"/admin/mail/{held.id}/discard", follow_redirects=True).text
    assert "Meddelandet är kasserat och skickas inte." in page
    assert fresh(db, held).status == OutboxStatus.DISCARDED
    assert "held@" not in page
    assert client.post(f"/admin/mail/{held.id}/discard").status_code == 302
    send_pending(now=utcnow() + timedelta(days=3))
    assert ["held@exempel.se"] not in [rcpts for _, rcpts, _ in smtp_server.messages]
    audits = db.session.scalars(select(AuditLog.action).where(AuditLog.object_id == str(held.id)))
    assert audits.all() == ["mail_discarded"]


def test_a_held_message_sent_again_goes_out(client, login_as, db, problems, smtp_server):
    login_as("admin")
    held = problems["held"]
    send_pending()
    assert ["held@exempel.se"] not in [rcpts for _, rcpts, _ in smtp_server.messages]
    client.post(f"/admin/mail/{held.id}/send-again")
    send_pending()
    assert ["held@exempel.se"] in [rcpts for _, rcpts, _ in smtp_server.messages]


def test_a_message_being_sent_is_left_to_its_sender(client, login_as, db):
    login_as("admin")
    sending = message(
        db, status=OutboxStatus.SENDING, claimed_by="other",
        pending_since=utcnow() - timedelta(days=1), claimed_until=utcnow() + timedelta(minutes=5),
    )  # fmt: skip
    assert "Skickas just nu" in client.get("/admin/mail").text
    for action in ("send-again", "discard"):
        page = client.post(f"/admin/mail/{sending.id}/{action}", follow_redirects=True).text
        assert "skickas just nu" in page
    row = fresh(db, sending)
    assert (row.status, row.claimed_by) == (OutboxStatus.SENDING, "other")


def test_the_page_runs_the_same_statements_for_few_and_many(db, login_as, statements_for):
    login_as("admin")
    for n in range(3):
        message(db, recipient=f"f{n}@exempel.se", status=OutboxStatus.FAILED,
                inquiry_id=InquiryFactory().id)  # fmt: skip
    few = statements_for("/admin/mail")
    for n in range(40):
        message(db, recipient=f"g{n}@exempel.se", status=OutboxStatus.FAILED,
                inquiry_id=InquiryFactory().id)  # fmt: skip
    assert statements_for("/admin/mail") == few


# ---- /healthz/mail ----------------------------------------------------------------------


def test_mail_health_is_ok_with_an_empty_or_flowing_queue(client, db):
    assert client.get("/healthz/mail").json["status"] == "ok"
    message(db)  # just queued: on its way
    message(db, status=OutboxStatus.SENT, pending_since=utcnow() - timedelta(days=2))
    response = client.get("/healthz/mail")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok"
    assert (body["failed"], body["held"], body["delayed"]) == (0, 0, 0)
    assert body["oldest_unsent_minutes"] == 0
    assert body["alert_after_minutes"] == 60


@pytest.mark.parametrize(
    ("values", "counts"),
    [
        ({"status": OutboxStatus.FAILED}, (1, 0, 0)),
        ({"status": OutboxStatus.HELD}, (0, 1, 0)),
        ({"pending_since": utcnow() - timedelta(minutes=61)}, (0, 0, 1)),
        ({"status": OutboxStatus.SENDING, "pending_since": utcnow() - timedelta(hours=5)},
         (0, 0, 1)),
    ],
    ids=["failed", "held", "delayed", "stuck-sending"],
)  # fmt: skip
def test_mail_health_is_503_when_mail_needs_a_person(client, db, values, counts):
    message(db, **values)
    response = client.get("/healthz/mail")
    assert response.status_code == 503
    body = response.json
    assert body["status"] == "stuck"
    assert (body["failed"], body["held"], body["delayed"]) == counts
    assert client.get("/healthz").status_code == 200  # the app itself is fine


def test_mail_health_follows_the_alert_setting(app, client, db, monkeypatch):
    message(db, pending_since=utcnow() - timedelta(minutes=30))
    assert client.get("/healthz/mail").status_code == 200
    monkeypatch.setitem(app.config, "MAIL_ALERT_MINUTES", 20)
    response = client.get("/healthz/mail")
    assert response.status_code == 503
    assert response.json["oldest_unsent_minutes"] == 30
