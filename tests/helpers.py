"""Small read helpers shared by the view tests."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm.activity.models import TimelineEvent
from crm.inquiries.models import Inquiry
from crm.inquiries.statuses import Status
from crm.mail.models import OutboxMessage
from crm.timeutil import utcnow

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def fresh(db, inquiry):
    """The inquiry as stored now."""
    return db.session.get(Inquiry, inquiry.id)


def events(db, inquiry):
    """The kinds of the inquiry's timeline events, oldest first."""
    return db.session.scalars(
        select(TimelineEvent.kind)
        .where(TimelineEvent.inquiry_id == inquiry.id)
        .order_by(TimelineEvent.id)
    ).all()


def mails(db, kind=None):
    """Queued mail, oldest first, of one kind if given."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return db.session.scalars(query).all()


def rendered(db, kind=None):
    """Queued mail as it will be sent: a submission's receipt and notice, which the sender
    renders, are rendered first by the function the sender uses (`render_queued`)."""
    from crm.mail.services import render_queued

    messages = mails(db, kind)
    for message in messages:
        render_queued(message)
    db.session.flush()
    return messages


def late_and_not(days_late=1, **attrs):
    """One inquiry per case of "late for a first response", and the ones that look late but
    are not: answered, on hold (the clock is paused), ended, or not yet due."""
    from tests.factories import InquiryFactory

    past = utcnow() - timedelta(days=days_late)
    return {
        "new": (InquiryFactory(**attrs, first_response_due_at=past), True),
        "triaged": (
            InquiryFactory(**attrs, status=Status.TRIAGED, first_response_due_at=past),
            True,
        ),
        "in_dialogue": (
            InquiryFactory(**attrs, status=Status.IN_DIALOGUE, first_response_due_at=past),
            True,
        ),
        "answered": (
            InquiryFactory(**attrs, first_response_due_at=past, first_response_at=past),
            False,
        ),
        "on_hold": (
            InquiryFactory(**attrs, status=Status.ON_HOLD, first_response_due_at=past),
            False,
        ),
        "declined": (
            InquiryFactory(**attrs, status=Status.DECLINED, first_response_due_at=past),
            False,
        ),
        "not_yet_due": (InquiryFactory(**attrs), False),
    }


def wait_for(condition, what: str, seconds: float = 60):
    """Poll `condition` until it returns something true (returned), or fail after `seconds`:
    a regression fails, never hangs."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")
