"""A personal iCalendar feed of follow-ups and first-response deadlines."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crm.activity.models import FollowUp
from crm.auth.models import User
from crm.core.urls import external_url
from crm.extensions import db
from crm.inquiries.models import Inquiry
from crm.tokens import hash_token, new_token, plausible


def issue_calendar_token(user: User) -> str:
    """A new secret feed address for the user; any earlier one stops working."""
    token = new_token()
    user.calendar_token_hash = hash_token(token)
    return token


def revoke_calendar_token(user: User) -> None:
    user.calendar_token_hash = None


def user_for_calendar_token(token: str) -> User | None:
    if not plausible(token):
        return None
    user = db.session.scalar(select(User).where(User.calendar_token_hash == hash_token(token)))
    return user if user is not None and user.active else None


def calendar_for(user: User, domain: str = "samverka") -> bytes:
    """The user's open follow-ups (all-day) and first-response deadlines as iCalendar."""
    from icalendar import Calendar, Event  # imported on use: only calendar clients need it

    calendar = Calendar()
    calendar.add("prodid", "-//Länsmuseernas samarbetsråd//Samverka//SV")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Samverka – {user.name}")
    follow_ups = db.session.scalars(
        select(FollowUp)
        .where(FollowUp.owner_id == user.id, FollowUp.completed_at.is_(None))
        .order_by(FollowUp.due_on, FollowUp.id)
    )
    for follow_up in follow_ups:
        event = Event()
        event.add("uid", f"follow-up-{follow_up.id}@{domain}")
        event.add("summary", follow_up.title)
        event.add("dtstart", follow_up.due_on)
        event.add("dtend", follow_up.due_on + timedelta(days=1))
        event.add("dtstamp", follow_up.created_at)
        calendar.add_component(event)
    deadlines = db.session.scalars(
        select(Inquiry)
        .where(
            Inquiry.assignee_id == user.id,
            Inquiry.awaiting_response,
            Inquiry.first_response_due_at.is_not(None),
        )
        .order_by(Inquiry.first_response_due_at, Inquiry.id)
    )
    for inquiry in deadlines:
        event = Event()
        event.add("uid", f"first-response-{inquiry.id}@{domain}")
        event.add("summary", f"Svara: {inquiry.reference} {inquiry.organisation_name}")
        event.add("dtstart", inquiry.first_response_due_at)
        event.add("dtend", inquiry.first_response_due_at + timedelta(minutes=30))
        event.add("dtstamp", inquiry.created_at)
        event.add("url", external_url("inquiries.detail", reference=inquiry.reference))
        calendar.add_component(event)
    return calendar.to_ical()
