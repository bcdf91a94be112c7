"""Mail goes through the outbox and a real SMTP server (aiosmtpd), and survives outages."""

from datetime import timedelta
from email.utils import parsedate_to_datetime
from itertools import pairwise

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from crm.activity.models import FollowUp
from crm.mail.models import OutboxMessage, OutboxStatus
from crm.mail.services import LONGEST_RETRY, build_email, retry_delay, send_pending
from crm.models import TimelineEvent
from crm.timeutil import local_today, utcnow
from tests.factories import InquiryFactory, UserFactory
from tests.helpers import rendered
from tests.public.helpers import form_data
from tests.smtp import Inbox, parse


def outbox(db):
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def queued(db, **values) -> OutboxMessage:
    message = OutboxMessage(
        kind=values.pop("kind", "test"), recipient=values.pop("recipient", "a@exempel.se"),
        subject="Hej", body_text="Hej", **values,
    )  # fmt: skip
    db.session.add(message)
    db.session.commit()
    return message


def test_receipt_arrives_with_headers_both_parts_and_swedish_intact(app, client, db, smtp_server):
    UserFactory(role="secretary_general", email="greta@lansmuseerna.se")
    client.post("/samverkan", data=form_data(app))
    report = send_pending()
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)

    by_recipient = {tuple(rcpts): parse(raw) for _, rcpts, raw in smtp_server.messages}
    receipt = by_recipient[("asa.oberg@hembygd-sormland.se",)]
    reference = receipt["Subject"].split()[0].strip("[]")
    assert (
        receipt["Subject"] == f"[{reference}] Tack för din förfrågan / Thank you for your inquiry"
    )
    assert receipt["From"] == "Samverka <samverka@lansmuseerna.se>"
    assert receipt["To"] == "asa.oberg@hembygd-sormland.se"
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


def test_every_kind_has_date_message_id_and_the_right_auto_submitted(
    app, client, db, login_as, smtp_server
):
    """RFC 5322 Date and Message-ID on every message; RFC 3834 Auto-Submitted by kind."""
    secretary = login_as("secretary_general")
    client.post("/samverkan", data=form_data(app))  # receipt and assignee notice
    inquiry = InquiryFactory(email="svar@exempel.se")
    client.post(f"/inquiries/{inquiry.reference}/reply", data={"body": "Vi ses i maj!"})
    db.session.add(
        FollowUp(title="Förfallen", due_on=local_today() - timedelta(days=1), owner_id=secretary.id)
    )
    db.session.commit()
    from crm.activity.reminders import send_reminders

    send_reminders()
    db.session.commit()

    assert send_pending().sent == 4
    stored = {m.message_id: m for m in outbox(db)}
    got = {m["Message-ID"]: m for m in smtp_server.parsed()}
    assert set(got) == set(stored)
    expected = {
        "receipt": "auto-replied",
        "assignee_notice": "auto-generated",
        "reminder": "auto-generated",
        "public_reply": None,
    }
    assert {m.kind for m in stored.values()} == set(expected)
    for message_id, sent in got.items():
        row = stored[message_id]
        assert sent["Auto-Submitted"] == expected[row.kind], row.kind
        assert parsedate_to_datetime(sent["Date"]) == row.created_at.replace(microsecond=0)
        assert message_id.startswith("<sam.")
        assert message_id.endswith("@lansmuseerna.se>")
        assert len(sent.get_all("Message-ID")) == 1


class RefuseFirst(Inbox):
    """Answers the first message with a temporary failure (451), then accepts."""

    def __init__(self):
        super().__init__()
        self.refused = []

    async def handle_DATA(self, server, session, envelope):
        if not self.refused:
            self.refused.append(parse(envelope.original_content))
            return "451 Try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_retry_sends_the_same_message_id_and_date(app, db, smtp_port):
    inbox = RefuseFirst()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        message = queued(db, kind="receipt")
        assert send_pending().retrying == 1
        assert send_pending(now=utcnow() + timedelta(minutes=5)).sent == 1
    finally:
        controller.stop()
    [first], [second] = inbox.refused, inbox.parsed()
    assert first["Message-ID"] == second["Message-ID"] == message.message_id
    assert first["Date"] == second["Date"]
    assert db.session.get(OutboxMessage, message.id).attempts == 2


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
        assert message.claimed_by is None

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


@pytest.mark.parametrize("hours", [48, 2])
def test_retried_until_the_give_up_window_ends_then_failed(app, db, smtp_port, monkeypatch, hours):
    """The boundary, with explicit times: a failure a minute before the end of the window is
    retried (at the end of the window at the latest); a failure at its end gives up."""
    monkeypatch.setitem(app.config, "MAIL_GIVE_UP_HOURS", hours)
    start = utcnow() - timedelta(days=10)
    inquiry = InquiryFactory()
    message = queued(db, pending_since=start, next_attempt_at=start, inquiry_id=inquiry.id)
    end = start + timedelta(hours=hours)

    report = send_pending(now=end - timedelta(minutes=1))
    assert (report.retrying, report.failed) == (1, 0)
    row = db.session.get(OutboxMessage, message.id)
    db.session.refresh(row)
    assert row.status == OutboxStatus.PENDING
    assert row.next_attempt_at == end

    report = send_pending(now=end)
    assert (report.retrying, report.failed) == (0, 1)
    db.session.refresh(row)
    assert row.status == OutboxStatus.FAILED
    assert "refused" in row.last_error.lower() or "Connection" in row.last_error
    assert db.session.scalars(
        select(TimelineEvent.data).where(
            TimelineEvent.inquiry_id == inquiry.id, TimelineEvent.kind == "email_failed"
        )
    ).all() == [{"mail": "test"}]


def test_an_outage_is_retried_for_the_whole_window_at_least_hourly(app, db, smtp_port):
    """Follow the schedule a dead SMTP server gets: no gap longer than an hour, no give-up
    before 48 hours (the old schedule gave up after 8 attempts, about 2 hours)."""
    start = utcnow() - timedelta(days=10)
    message = queued(db, pending_since=start, next_attempt_at=start)
    now, tried_at = start, []
    while True:
        report = send_pending(now=now)
        tried_at.append(now)
        row = db.session.get(OutboxMessage, message.id)
        db.session.refresh(row)
        if report.failed:
            break
        assert row.status == OutboxStatus.PENDING
        now = row.next_attempt_at
    assert tried_at[-1] - start == timedelta(hours=48)
    gaps = [later - earlier for earlier, later in pairwise(tried_at)]
    assert gaps[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert max(gaps) == LONGEST_RETRY == timedelta(hours=1)
    assert row.attempts == len(tried_at)


def test_back_off_doubles_up_to_an_hour():
    assert [retry_delay(n).total_seconds() / 60 for n in (1, 2, 3, 4, 5, 6, 7)] == [
        1, 2, 4, 8, 16, 32, 60,
    ]  # fmt: skip
    assert retry_delay(500) == timedelta(hours=1)


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
    messages = rendered(db)  # the sender renders a submission's mails, subject included
    assert all(message.subject for message in messages)
    for message in messages:
        built = build_email(message)
        assert "Bcc" not in built
        assert "\n" not in built["Subject"]
        assert built["To"] == message.recipient
        assert "evil" not in built["To"]


def test_send_mail_command_reports(app, runner, db, smtp_server):
    queued(db)
    result = runner.invoke(args=["crm", "send-mail"])
    assert result.exit_code == 0
    assert "Sent 1, will retry 0, gave up on 0." in result.output
    assert len(smtp_server.messages) == 1


def test_send_mail_command_fails_when_it_gives_up(app, runner, db, smtp_port):
    old = utcnow() - timedelta(hours=49)
    queued(db, pending_since=old, next_attempt_at=old)
    queued(db, recipient="b@exempel.se")  # new: only retried
    queued(db, recipient="c@exempel.se", status=OutboxStatus.FAILED)  # from an earlier run
    result = runner.invoke(args=["crm", "send-mail"])
    assert result.exit_code == 1
    assert "Sent 0, will retry 1, gave up on 1." in result.output
    assert "2 failed messages await the admin at /admin/mail." in result.output


def test_send_mail_command_succeeds_while_only_retrying(app, runner, db, smtp_port):
    queued(db)
    result = runner.invoke(args=["crm", "send-mail"])
    assert result.exit_code == 0, result.output
    assert "Sent 0, will retry 1, gave up on 0." in result.output


def test_queued_mail_gets_one_stable_message_id_at_once(app, client, db):
    UserFactory(role="secretary_general")
    client.post("/samverkan", data=form_data(app))
    messages = outbox(db)
    ids = [m.message_id for m in messages]
    assert len(set(ids)) == len(ids) == 2
    assert all(m.created_at == m.pending_since == m.next_attempt_at for m in messages)
    assert [build_email(m)["Message-ID"] for m in messages] == ids


def test_staff_see_on_the_timeline_that_a_mail_was_given_up(app, client, db, login_as, smtp_port):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    old = utcnow() - timedelta(hours=49)
    queued(db, kind="receipt", inquiry_id=inquiry.id, pending_since=old, next_attempt_at=old)
    assert send_pending().failed == 1
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert "E-post kunde inte skickas; administratören har fått veta" in page
