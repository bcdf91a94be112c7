"""The conversation's rules, called directly: replies both ways, who hears of them, the thread."""

from datetime import timedelta

import pytest

from crm.activity.services import add_note
from crm.choices import Channel
from crm.conversation.models import Direction, MessageChannel
from crm.conversation.queries import messages_of, thread_message_ids, thread_of
from crm.conversation.services import (
    REPLY_MARKER,
    acknowledge_answer,
    answer_on_status_page,
    send_reply,
)
from crm.errors import DomainError
from crm.inquiries.intake import status_link, status_link_token
from crm.inquiries.queries import inbox_for, menu_counts
from crm.inquiries.services import log_contact
from crm.inquiries.statuses import Status
from crm.mail.threading import signed_reference
from crm.timeutil import utcnow
from crm.tokens import hash_token
from tests.factories import InquiryFactory, UserFactory, make_attachment
from tests.helpers import events, fresh, mails


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


@pytest.fixture
def staff(db):
    return UserFactory(role="secretary_general", name="Greta Generalsekreterare")


def queue_receipt(inquiry):
    from crm.mail.services import queue_mail

    return queue_mail("receipt", inquiry.email, "receipt", inquiry=inquiry, status_link="x")


# ---- staff reply -------------------------------------------------------------------------


def test_a_reply_is_on_the_thread_mailed_under_the_writers_name_and_threads(ctx, db, staff):
    inquiry = InquiryFactory(
        assignee_id=staff.id, status_link_seed="frö",
        status_token_hash=hash_token(status_link_token("frö")),
    )  # fmt: skip
    receipt = queue_receipt(inquiry)
    message = send_reply(inquiry, "  Tack, vi ses i maj.  ", staff)
    [mail] = mails(db, "public_reply")
    assert (message.direction, message.channel, message.author_id, message.body) == (
        Direction.OUTBOUND, MessageChannel.SAMVERKA, staff.id, "Tack, vi ses i maj.",
    )  # fmt: skip
    assert message.message_id == mail.message_id
    assert signed_reference(mail.message_id) == inquiry.reference
    assert mail.from_name == "Greta Generalsekreterare"
    assert (mail.in_reply_to, mail.thread_references) == (receipt.message_id, receipt.message_id)
    assert mail.subject == f"[{inquiry.reference}] Svar på din förfrågan / Reply to your inquiry"
    assert mail.body_text.startswith(f"## {REPLY_MARKER} ##")
    assert status_link(inquiry) in mail.body_text
    assert status_link_token("frö") in status_link(inquiry)


def test_a_second_reply_points_at_the_first_and_keeps_the_whole_chain(ctx, db, staff):
    inquiry = InquiryFactory()
    receipt = queue_receipt(inquiry)
    first = send_reply(inquiry, "Ett", staff)
    send_reply(inquiry, "Två", staff)
    second_mail = mails(db, "public_reply")[-1]
    assert second_mail.in_reply_to == first.message_id
    assert second_mail.thread_references == f"{receipt.message_id} {first.message_id}"
    assert thread_message_ids(inquiry)[-1] == second_mail.message_id


def test_a_reply_answers_the_partner_and_clears_their_waiting_answer(ctx, db, staff):
    inquiry = InquiryFactory(assignee_id=staff.id)
    answer_on_status_page(inquiry, "Hur går det?")
    assert inquiry.submitter_replied_at is not None
    before = utcnow()
    send_reply(inquiry, "Bra, tack!", staff)
    stored = fresh(db, inquiry)
    assert stored.submitter_replied_at is None
    assert stored.first_response_at >= before


@pytest.mark.parametrize(("body", "error"), [("   ", "Skriv ett svar."), ("x" * 10_001, "Högst")])
def test_an_empty_or_too_long_reply_is_refused_and_nothing_is_sent(ctx, db, staff, body, error):
    inquiry = InquiryFactory()
    with pytest.raises(DomainError) as refused:
        send_reply(inquiry, body, staff)
    assert error in str(refused.value)
    assert refused.value.field == "body"
    assert (mails(db), messages_of(inquiry)) == ([], [])


def test_an_anonymised_inquiry_gets_no_reply(ctx, db, staff):
    inquiry = InquiryFactory(anonymised_at=utcnow())
    with pytest.raises(DomainError):
        send_reply(inquiry, "Hej", staff)
    assert mails(db) == []


# ---- the submitter answers -----------------------------------------------------------------


def test_an_answer_on_the_status_page_reaches_the_thread_the_timeline_and_the_assignee(
    ctx, db, staff
):
    inquiry = InquiryFactory(assignee_id=staff.id, status=Status.ON_HOLD, contact_name="Åsa")
    message = answer_on_status_page(inquiry, "Här är budgeten.")
    assert (message.direction, message.channel, message.sender_name, message.sender_address) == (
        Direction.INBOUND, MessageChannel.STATUS_PAGE, "Åsa", inquiry.email,
    )  # fmt: skip
    assert events(db, inquiry)[-1] == "submitter_replied"
    [notice] = mails(db, "submitter_reply_notice")
    assert notice.recipient == staff.email
    assert "Här är budgeten." in notice.body_text
    assert notice.subject == f"[{inquiry.reference}] Svar från Åsa"
    stored = fresh(db, inquiry)
    assert stored.submitter_replied_at == message.created_at
    assert (stored.status, stored.first_response_at) == (Status.ON_HOLD, None)  # no response


def test_an_answer_to_an_unassigned_inquiry_mails_nobody(ctx, db):
    inquiry = InquiryFactory(assignee_id=None)
    answer_on_status_page(inquiry, "Hallå?")
    assert mails(db) == []


@pytest.mark.parametrize("status", [Status.AGREED, Status.CLOSED, Status.WITHDRAWN, Status.SPAM])
def test_an_ended_inquiry_takes_no_answer_on_the_status_page(ctx, db, status):
    inquiry = InquiryFactory(status=status)
    with pytest.raises(DomainError, match="avslutad"):
        answer_on_status_page(inquiry, "Hej igen")
    assert messages_of(inquiry) == []


def test_the_first_answer_stays_the_one_that_waits_longest(ctx, db, staff):
    inquiry = InquiryFactory(assignee_id=staff.id)
    first = answer_on_status_page(inquiry, "Ett", now=utcnow() - timedelta(hours=2))
    answer_on_status_page(inquiry, "Två")
    assert fresh(db, inquiry).submitter_replied_at == first.created_at
    assert len(mails(db, "submitter_reply_notice")) == 2  # one mail per answer


def test_an_answer_is_in_the_answered_inbox_group_until_acknowledged(ctx, db, staff):
    seen = {"assignee_id": staff.id, "assignee_seen_at": utcnow(), "status": Status.ON_HOLD}
    on_hold, quiet = InquiryFactory(**seen), InquiryFactory(**seen)
    answer_on_status_page(on_hold, "Nu har vi styrelsebeslutet.")
    db.session.commit()
    assert [i.id for i in inbox_for(staff)["answered"]] == [on_hold.id]
    assert menu_counts(staff)[0] == 1
    acknowledge_answer(on_hold, staff)
    db.session.commit()
    assert inbox_for(staff)["answered"] == []
    assert menu_counts(staff)[0] == 0
    assert events(db, on_hold)[-1] == "submitter_reply_acknowledged"
    assert quiet.submitter_replied_at is None


def test_a_logged_call_answers_the_waiting_answer_too(ctx, db, staff):
    inquiry = InquiryFactory(assignee_id=staff.id, created_at=utcnow() - timedelta(days=1))
    answer_on_status_page(inquiry, "Ring mig")
    log_contact(inquiry, Channel.PHONE, "Ringde", utcnow() - timedelta(minutes=5), staff)
    assert fresh(db, inquiry).submitter_replied_at is None


# ---- the thread ------------------------------------------------------------------------------


def test_the_staff_thread_holds_everything_in_time_order_and_marks_internal_entries(ctx, db, staff):
    start = utcnow() - timedelta(days=3)
    inquiry = InquiryFactory(created_at=start)
    send_reply(inquiry, "Svar", staff, now=start + timedelta(hours=3))
    note = add_note("Intern tanke", staff, inquiry=inquiry)
    note.created_at = start + timedelta(hours=1)
    log_contact(inquiry, Channel.PHONE, "Samtal", start + timedelta(hours=2), staff)
    answer_on_status_page(inquiry, "Tack", now=start + timedelta(hours=4))
    db.session.commit()
    thread = thread_of(fresh(db, inquiry))
    assert thread.earlier == 0
    assert [(entry.kind, entry.internal) for entry in thread.entries] == [
        ("original", False), ("note", True), ("contact", True),
        ("message", False), ("message", False),
    ]  # fmt: skip
    assert [m.body for m in messages_of(inquiry)] == ["Svar", "Tack"]  # the submitter's view


def test_the_thread_is_read_in_a_fixed_number_of_statements(ctx, db, staff, count_queries):
    inquiry = InquiryFactory()
    make_attachment(inquiry=inquiry)
    for n in range(5):
        make_attachment(message=send_reply(inquiry, f"Svar {n}", staff))
        answer_on_status_page(inquiry, f"Fråga {n}")
        make_attachment(note=add_note(f"Not {n}", staff, inquiry=inquiry), filename=f"{n}.pdf")
    db.session.commit()
    inquiry = fresh(db, inquiry)
    with count_queries() as counted:
        thread = thread_of(inquiry)
        [entry.item.author for entry in thread.entries if entry.kind == "message"]  # loaded
    assert counted() == 4  # messages, notes, logged contacts, and the files of all of them
    assert len(thread.entries) == 16
    files = [thread.files.of(entry.kind, entry.item.id) for entry in thread.entries[1:]]
    assert len(thread.files.of("original")) == 1
    assert sum(len(entry_files) for entry_files in files) == 10


def test_a_long_thread_opens_on_its_latest_entries_with_the_rest_counted(ctx, db, staff):
    start = utcnow() - timedelta(days=10)
    inquiry = InquiryFactory(created_at=start)
    for n in range(40):
        send_reply(inquiry, f"Svar {n}", staff, now=start + timedelta(hours=2 * n))
        answer_on_status_page(inquiry, f"Fråga {n}", now=start + timedelta(hours=2 * n + 1))
    for n in range(5):
        note = add_note(f"Not {n}", staff, inquiry=inquiry)
        note.created_at = start + timedelta(hours=2 * n, minutes=30)  # among the oldest
    db.session.commit()
    thread = thread_of(fresh(db, inquiry), shown=50)
    assert thread.entries[0].kind == "original"
    assert len(thread.entries) == 51
    assert thread.earlier == 85 - 50
    shown = [entry.item.body for entry in thread.entries[1:]]
    assert (shown[0], shown[-1]) == ("Svar 15", "Fråga 39")  # the latest 50, oldest first
    whole = thread_of(fresh(db, inquiry), shown=None)
    assert (len(whole.entries), whole.earlier) == (86, 0)
