"""Small read helpers shared by the view tests."""

from sqlalchemy import select

from crm.activity.models import TimelineEvent
from crm.inquiries.models import Inquiry
from crm.mail.models import OutboxMessage


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
