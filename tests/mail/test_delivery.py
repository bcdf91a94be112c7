"""Mail goes through the outbox and a real SMTP server (aiosmtpd), and survives outages."""

import email
import email.policy
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from crm.mail.models import OutboxMessage, OutboxStatus
from crm.mail.services import MAX_ATTEMPTS, build_email, retry_delay, send_pending
from crm.models import TimelineEvent
from crm.timeutil import utcnow
from tests.factories import UserFactory
from tests.public.helpers import form_data
from tests.smtp import Inbox, free_port


@pytest.fixture
def smtp_port(app, monkeypatch):
    port = free_port()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    return port


@pytest.fixture
def smtp_server(smtp_port):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def outbox(db):
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_receipt_arrives_with_headers_both_parts_and_swedish_intact(app, client, db, smtp_server):
    UserFactory(role="secretary_general", email="greta@lansmuseerna.se")
    client.post("/samverkan", data=form_data(app))
    report = send_pending()
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)

    by_recipient = {tuple(rcpts): parsed(raw) for _, rcpts, raw in smtp_server.messages}
    receipt = by_recipient[("asa.oberg@hembygd-sormland.se",)]
    reference = receipt["Subject"].split()[4]
    assert receipt["Subject"] == f"Tack för din förfrågan {reference} / Thank you for your inquiry"
    assert receipt["From"] == "Samverka <samverka@lansmuseerna.se>"
    assert receipt["To"] == "asa.oberg@hembygd-sormland.se"
    assert receipt["Message-ID"]
    assert receipt.get_content_type() == "multipart/alternative"
    text = receipt.get_body(("plain",)).get_content()
    html = receipt.get_body(("html",)).get_content()
    assert "Hej Åsa Öberg," in text
    assert "Vandringsutställning om sörmländska gårdar" in text
    assert "http://127.0.0.1:5000/samverkan/status/" in text
    assert "Mvh Åsa" in text
    assert "Vi vill gärna göra en utställning tillsammans.<br>" in html
    notice = by_recipient[("greta@lansmuseerna.se",)]
    assert "/inquiries/" + reference in notice.get_body(("plain",)).get_content()

    assert {m.status for m in outbox(db)} == {OutboxStatus.SENT}
    assert db.session.scalars(
        select(TimelineEvent.kind).where(TimelineEvent.kind == "email_sent")
    ).all() == ["email_sent", "email_sent"]


def test_smtp_outage_loses_nothing_and_sends_exactly_once(app, client, db, smtp_port):
    UserFactory(role="secretary_general")
    response = client.post("/samverkan", data=form_data(app))
    assert response.status_code == 302  # the submission succeeds with SMTP down

    down = send_pending()
    assert (down.sent, down.retrying) == (0, 2)
    for message in outbox(db):
        assert message.status == OutboxStatus.PENDING
        assert message.attempts == 1
        assert "Connection" in message.last_error or "refused" in message.last_error.lower()
        assert message.next_attempt_at > utcnow()

    assert send_pending().sent == 0  # not due yet: back-off

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        later = utcnow() + timedelta(minutes=5)
        assert send_pending(now=later).sent == 2
        assert send_pending(now=later + timedelta(hours=1)).sent == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 2
    assert {m.status for m in outbox(db)} == {OutboxStatus.SENT}


def test_message_is_given_up_after_the_last_attempt(app, db, smtp_port):
    message = OutboxMessage(
        kind="test", recipient="a@exempel.se", subject="s", body_text="t", attempts=MAX_ATTEMPTS - 1
    )
    db.session.add(message)
    db.session.commit()
    report = send_pending()
    assert report.failed == 1
    assert db.session.get(OutboxMessage, message.id).status == OutboxStatus.FAILED


def test_back_off_doubles_up_to_six_hours():
    assert [retry_delay(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert retry_delay(30) == timedelta(hours=6)


def test_v5_2_3_no_header_injection_through_form_fields(app, client, db):
    UserFactory(role="secretary_general")
    client.post(
        "/samverkan",
        data=form_data(
            app,
            organisation_name="Museet\r\nBcc: x@evil.example",
            contact_name="Eva\r\nBcc: y@evil.example",
        ),
    )
    for message in outbox(db):
        built = build_email(message)
        assert "Bcc" not in built
        assert "\n" not in built["Subject"]
        assert built["To"] == message.recipient
        assert "evil" not in built["To"]


def test_send_mail_command_reports(app, runner, db, smtp_server):
    db.session.add(
        OutboxMessage(kind="test", recipient="a@exempel.se", subject="Hej", body_text="Hej")
    )
    db.session.commit()
    result = runner.invoke(args=["crm", "send-mail"])
    assert result.exit_code == 0
    assert "Sent 1, will retry 0, gave up on 0." in result.output
    assert len(smtp_server.messages) == 1


@pytest.mark.skipif(
    "postgresql" not in (__import__("os").environ.get("DATABASE_URL") or ""),
    reason="row locks with SKIP LOCKED exist on PostgreSQL; on SQLite run one sender",
)
def test_parallel_senders_send_each_message_once(app, committed, smtp_server):
    from concurrent.futures import ThreadPoolExecutor

    for n in range(30):
        committed.session.add(
            OutboxMessage(kind="test", recipient=f"r{n}@exempel.se", subject=f"{n}", body_text="x")
        )
    committed.session.commit()
    committed.session.remove()

    def sender(_):
        with app.app_context():
            return send_pending().sent

    with ThreadPoolExecutor(max_workers=3) as pool:
        sent = list(pool.map(sender, range(3)))

    assert sum(sent) == 30
    recipients = [rcpts[0] for _, rcpts, _ in smtp_server.messages]
    assert sorted(recipients) == sorted(f"r{n}@exempel.se" for n in range(30))
