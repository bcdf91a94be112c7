"""Taking in a new inquiry: reference number, organisation match, routing, receipts."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from functools import cache

from flask import current_app
from sqlalchemy import (
    Integer,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from crm.activity.services import record_events, timeline_event
from crm.attachments.services import attach_files
from crm.auth.models import User
from crm.choices import Addressee, Category, Channel, OrganisationType, Priority
from crm.core.urls import external_url
from crm.extensions import db
from crm.inquiries.models import Inquiry, ReferenceCounter
from crm.inquiries.response import response_deadline
from crm.mail.services import LaterMail, NotRenderable, queue_to_render, renders_later
from crm.partners.services import match_organisation
from crm.routing.services import choose_assignee
from crm.timeutil import utcnow
from crm.tokens import derived_token, hash_token, new_token, plausible

PRIVACY_NOTICE_VERSION = "2026-11"


@dataclass
class IntakeData:
    """What a submitter (or staff, for another channel) tells us about a new inquiry."""

    organisation_name: str
    organisation_type: OrganisationType
    contact_name: str
    email: str
    category: Category
    subject: str
    message: str
    addressee: Addressee = Addressee.NO_PREFERENCE
    organisation_number: str | None = None
    phone: str | None = None
    regions: list[str] = field(default_factory=list)
    consent: bool = False


def next_reference(year: int) -> str:
    """The next `SAM-<year>-<nnnn>`; the counter row stays locked until the transaction ends."""
    statement = _counter_upsert(db.engine.dialect.name)
    number = db.session.execute(statement, {"year": year}).scalar_one()
    return f"SAM-{year}-{number:04d}"


@cache
def _counter_upsert(dialect_name: str):
    """Insert the year's counter at 1 or add one to it, returning the number (built once)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (
        dialect.insert(ReferenceCounter)
        .values(year=bindparam("year"), last_number=1)
        .on_conflict_do_update(
            index_elements=[ReferenceCounter.year],
            set_={"last_number": ReferenceCounter.last_number + 1},
        )
        .returning(ReferenceCounter.last_number)
    )


def plausible_reference(year: int | None = None) -> str:
    """What the next reference will look like, without taking it (the honeypot's receipt)."""
    year = year or utcnow().year
    last = db.session.scalar(
        select(ReferenceCounter.last_number).where(ReferenceCounter.year == year)
    )
    return f"SAM-{year}-{(last or 0) + 1:04d}"


def reserve_references(reserve: int, current_year: int) -> dict[int, tuple[int, int]]:
    """Move each year's counter past every reference in the database, plus `reserve`.

    After a restore the counters are as old as the dump, but references handed out after the
    dump stand in people's receipts: issuing them again would give two inquiries one number.
    Those inquiries are not in the dump, so the database cannot tell how many there were; the
    operator's `reserve` skips that many numbers in every year, this one included. Returns
    {year: (old last number, new last number)}.
    """
    issued = dict(
        db.session.execute(
            select(_reference_year(), func.max(_reference_number()))
            .where(Inquiry.reference.like("SAM-____-%"))
            .group_by(_reference_year())
        ).all()
    )
    counters = {c.year: c for c in db.session.scalars(select(ReferenceCounter))}
    moved = {}
    for year in sorted({*issued, *counters, current_year}):
        counter = counters.get(year) or ReferenceCounter(year=year, last_number=0)
        old = counter.last_number
        counter.last_number = max(old, issued.get(year) or 0) + reserve
        db.session.add(counter)
        moved[year] = (old, counter.last_number)
    db.session.flush()
    return moved


# Positions in `SAM-<year>-<nnnn>` as literals, not parameters: PostgreSQL must see the same
# expression in SELECT and GROUP BY.
def _reference_year():
    return cast(func.substr(Inquiry.reference, literal_column("5"), literal_column("4")), Integer)


def _reference_number():
    return cast(func.substr(Inquiry.reference, literal_column("10")), Integer)


def find_by_status_token(token: str) -> Inquiry | None:
    """The inquiry whose private link carries `token`, compared in constant time."""
    if not plausible(token):
        return None
    wanted = hash_token(token)
    inquiry = db.session.scalar(select(Inquiry).where(Inquiry.status_token_hash == wanted))
    if inquiry is None or not hmac.compare_digest(inquiry.status_token_hash, wanted):
        return None
    return inquiry


def status_link_token(seed: str) -> str:
    """The token of the submitter's private link: the same for the same seed (a repeated
    submission shows the same link; later mail can carry it), unguessable without the key."""
    return derived_token(current_app.config["SECRET_KEY"], "status-link", seed)


def status_link(inquiry: Inquiry) -> str | None:
    """The submitter's private link, for mail; None for inquiries from before the seed was
    kept (their link is only in the receipt) and for anonymised ones."""
    if inquiry.status_link_seed is None or inquiry.status_token_hash is None:
        return None
    return external_url("public.status", token=status_link_token(inquiry.status_link_seed))


def submit_inquiry(
    data: IntakeData,
    channel: Channel = Channel.WEB_FORM,
    actor=None,
    send_receipt: bool = True,
    link_seed: str | None = None,
    files=(),
    language: str | None = None,
) -> tuple[Inquiry, str]:
    """Store a new inquiry with its `files` (prepared uploads), route it and queue its
    e-mails; return it and its status token. `language` is the one the submitter wrote in,
    when known (the public form's).

    Routed before it is stored, so the row is written once, with its assignee.
    """
    now = utcnow()
    # The counter lock is the first lock the inquiry's own work takes (only the submission's
    # one-time id comes before it), so two submissions never wait on each other in turn.
    reference = next_reference(now.year)
    seed = link_seed or new_token()
    token = status_link_token(seed)
    organisation = match_organisation(data.organisation_number, data.organisation_name, data.email)
    inquiry = Inquiry(
        reference=reference,
        channel=channel,
        organisation_name=data.organisation_name,
        organisation_id=organisation.id if organisation else None,
        organisation_type=data.organisation_type,
        organisation_number=data.organisation_number or None,
        contact_name=data.contact_name,
        email=data.email,
        phone=data.phone or None,
        category=data.category,
        subject=data.subject,
        message=data.message,
        addressee=data.addressee,
        priority=Priority.NORMAL,
        consent_text_version=PRIVACY_NOTICE_VERSION if data.consent else None,
        consent_at=now if data.consent else None,
        status_token_hash=hash_token(token),
        status_link_seed=seed,
        created_by_id=actor.id if actor is not None else None,
        created_at=now,
        language=language,
    )
    inquiry.regions = data.regions
    inquiry.first_response_due_at = response_deadline(inquiry)
    decision, assignee = choose_assignee(inquiry)
    inquiry.assignee = assignee
    db.session.add(inquiry)
    db.session.flush()
    attach_files(files, inquiry=inquiry, uploaded_by=actor)
    # The events and the mails go in with one statement each; the mails are rendered by the
    # sender (below: what it needs to render them), not in the request.
    events = [timeline_event("created", actor, inquiry=inquiry, channel=channel)]
    if organisation is not None:
        events.append(
            timeline_event(
                "organisation_linked",
                None,
                inquiry=inquiry,
                organisation=organisation,
                name=organisation.name,
                by="matching",
            )
        )
    events.append(
        timeline_event(
            "routed",
            None,
            inquiry=inquiry,
            assignee_id=decision.user_id,
            assignee=assignee.name if assignee else None,
            reason=decision.reason,
            rule=decision.rule_name,
        )
    )
    record_events(events, at=now)
    mails = []
    if assignee is not None:
        mails.append(
            LaterMail(
                "assignee_notice", assignee.email, "assignee_notice", {"assignee_id": assignee.id}
            )
        )
    if send_receipt:
        mails.append(LaterMail("receipt", inquiry.email, "receipt"))
    queue_to_render(inquiry, mails)
    return inquiry, token


@renders_later("receipt")
def _receipt_context(inquiry: Inquiry, _data: dict) -> dict:
    """The receipt's status link, derived again from the stored seed: the token itself is
    never stored. A link that would not open the status page is not sent."""
    if inquiry.status_link_seed is None or inquiry.status_token_hash is None:
        raise NotRenderable("the inquiry has no status link (anonymised?)")
    token = status_link_token(inquiry.status_link_seed)
    if not hmac.compare_digest(hash_token(token), inquiry.status_token_hash):
        raise NotRenderable("the status link no longer matches the inquiry (SECRET_KEY changed?)")
    return {"status_link": external_url("public.status", token=token)}


@renders_later("assignee_notice")
def _new_inquiry_notice_context(inquiry: Inquiry, data: dict) -> dict:
    """The notice to the person a new inquiry was routed to."""
    assignee = db.session.get(User, data["assignee_id"])
    if assignee is None:
        raise NotRenderable("its assignee is gone")
    return {
        "assignee": assignee,
        "link": external_url("inquiries.detail", reference=inquiry.reference),
    }
