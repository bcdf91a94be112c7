"""Read-only queries for the partner register, each page in a fixed number of statements."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from crm.activity.models import FollowUp, Note, TimelineEvent
from crm.choices import OrganisationType, Relationship
from crm.core.sql import contains_word
from crm.extensions import db
from crm.inquiries.models import Inquiry
from crm.inquiries.queries import load_conflicts
from crm.inquiries.statuses import OPEN_STATUSES
from crm.partners.models import Contact, Organisation, email_key
from crm.regions import regions
from crm.tags.models import NAME_MAX as TAG_NAME_MAX
from crm.validation import clean_line, database_id

PAGE_SIZE = 50
TIMELINE_LIMIT = 100


@dataclass
class OrganisationFilters:
    q: str = ""
    type: str = ""
    relationship: str = ""
    region: str = ""
    tag: str = ""  # a tag's name, in any case

    @classmethod
    def from_args(cls, args) -> OrganisationFilters:
        def pick(name, allowed):
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""

        return cls(
            q=clean_line(args.get("q"))[:200],
            type=pick("type", {t.value for t in OrganisationType}),
            relationship=pick("relationship", {r.value for r in Relationship}),
            region=pick("region", set(regions())),
            tag=clean_line(args.get("tag"))[:TAG_NAME_MAX],
        )

    def as_args(self) -> dict:
        return {key: value for key, value in vars(self).items() if value}


def open_count_column():
    return (
        select(func.count())
        .where(Inquiry.organisation_id == Organisation.id, Inquiry.status.in_(OPEN_STATUSES))
        .correlate(Organisation)
        .scalar_subquery()
    )


def last_contact_column():
    return (
        select(func.max(Inquiry.created_at))
        .where(Inquiry.organisation_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
    )


def list_organisations(filters: OrganisationFilters, after: str | None = None):
    """One page of (organisation, open inquiries, last contact), by name, keyset-paginated."""
    query = select(Organisation, open_count_column(), last_contact_column())
    if filters.q:
        word = filters.q.lower()
        names = (Organisation.name, Organisation.short_name)
        query = query.where(or_(*(contains_word(column, word) for column in names)))
    if filters.type:
        query = query.where(Organisation.type == filters.type)
    if filters.relationship:
        query = query.where(Organisation.relationship == filters.relationship)
    if filters.region:
        query = query.where(Organisation.region == filters.region)
    if filters.tag:
        from crm.tags.queries import organisation_tagged_condition
        from crm.tags.services import fold

        query = query.where(organisation_tagged_condition(Organisation.id, fold(filters.tag)))
    if after:
        key, _, row_text = clean_line(after).rpartition("|")
        if (row_id := database_id(row_text)) is not None:
            # the index-friendly spelling of (name_key, id) > (key, row_id); see paging.beyond()
            query = query.where(
                Organisation.name_key >= key,
                or_(Organisation.name_key > key, Organisation.id > row_id),
            )
    rows = db.session.execute(
        query.order_by(Organisation.name_key, Organisation.id).limit(PAGE_SIZE + 1)
    ).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_cursor = f"{rows[-1][0].name_key}|{rows[-1][0].id}" if more and rows else None
    return rows, next_cursor


def get_organisation_or_404(organisation_id: int) -> Organisation:
    organisation = db.session.scalar(
        select(Organisation)
        .options(selectinload(Organisation.contacts))
        .where(Organisation.id == organisation_id)
    )
    if organisation is None:
        abort(404)
    return organisation


def record_of(organisation: Organisation) -> dict:
    """Everything on an organisation's page: inquiries, notes, follow-ups, combined timeline."""
    inquiries = db.session.scalars(
        select(Inquiry)
        .options(joinedload(Inquiry.assignee))
        .where(Inquiry.organisation_id == organisation.id)
        .order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
    ).all()
    notes = db.session.scalars(
        select(Note)
        .options(
            joinedload(Note.author),
            joinedload(Note.inquiry).load_only(Inquiry.id, Inquiry.reference),
        )
        .where(Note.organisation_id == organisation.id)
        .order_by(Note.created_at.desc(), Note.id.desc())
    ).all()
    # Whether the reader may still correct a note depends on jäv on its inquiry.
    load_conflicts({*inquiries, *(note.inquiry for note in notes)})
    follow_ups = db.session.scalars(
        select(FollowUp)
        .options(joinedload(FollowUp.owner), joinedload(FollowUp.inquiry))
        .where(FollowUp.organisation_id == organisation.id)
        .order_by(FollowUp.completed_at.is_not(None), FollowUp.due_on, FollowUp.id)
    ).all()
    # Two indexed reads merged here: one OR across both columns would scan the whole table.
    own = _events(TimelineEvent.organisation_id == organisation.id)
    ids = [inquiry.id for inquiry in inquiries]
    of_inquiries = _events(TimelineEvent.inquiry_id.in_(ids)) if ids else []
    merged = {event.id: event for event in [*own, *of_inquiries]}.values()
    timeline = sorted(merged, key=lambda e: (e.created_at, e.id), reverse=True)[:TIMELINE_LIMIT]
    return {"inquiries": inquiries, "notes": notes, "follow_ups": follow_ups, "timeline": timeline}


def _events(condition) -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            select(TimelineEvent)
            .options(
                joinedload(TimelineEvent.actor),
                # The page names the inquiry: its whole row, message included, is not needed.
                joinedload(TimelineEvent.inquiry).load_only(Inquiry.id, Inquiry.reference),
            )
            .where(condition)
            .order_by(TimelineEvent.created_at.desc(), TimelineEvent.id.desc())
            .limit(TIMELINE_LIMIT)
        )
    )


def get_contact_or_404(organisation: Organisation, contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.organisation_id != organisation.id:
        abort(404)
    return contact


def contact_with_address(organisation_id: int | None, email: str | None) -> Contact | None:
    """The organisation's contact with this address (any case), if there is one."""
    key = email_key(email)
    if organisation_id is None or key is None:
        return None
    return db.session.scalar(
        select(Contact).where(Contact.organisation_id == organisation_id, Contact.email_key == key)
    )


def find_organisation_named(name: str | None, field: str = "organisation_name"):
    """The register entry with this name (however it is spelled); None for no name, and a
    DomainError on `field` when no entry has it."""
    from flask_babel import gettext as _

    from crm.errors import DomainError
    from crm.partners.services import normalise_name

    if not name:
        return None
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name_key == normalise_name(name))
    )
    if organisation is None:
        raise DomainError(_("Det finns ingen organisation med det namnet."), field=field)
    return organisation


# ---- likely duplicates --------------------------------------------------------------------

DUPLICATE_GROUPS = 50  # groups listed per kind: the page stays bounded however messy the data


@dataclass
class DuplicateSuggestions:
    """Records that look like one another, grouped; each group's first record is the oldest."""

    same_domain: list[list[Organisation]]
    similar_name: list[list[Organisation]]
    shared_address: list[list[Contact]]
    same_name_contacts: list[list[Contact]]

    def __bool__(self) -> bool:
        return any(vars(self).values())


def _compact_name():
    """The name key without spaces: "Jam tli" and "Jamtli" are likely one organisation."""
    return func.replace(Organisation.name_key, " ", "")


def duplicate_suggestions() -> DuplicateSuggestions:
    """Likely duplicate organisations (a shared e-mail domain, names equal but for spaces) and
    contacts (one address at several organisations, one name twice at an organisation), in
    four statements whatever the register holds."""
    from sqlalchemy import tuple_

    shared_domains = (
        select(Organisation.email_domain)
        .where(Organisation.email_domain.is_not(None))
        .group_by(Organisation.email_domain)
        .having(func.count() > 1)
        .order_by(Organisation.email_domain)
        .limit(DUPLICATE_GROUPS)
    )
    same_domain = db.session.scalars(
        select(Organisation)
        .where(Organisation.email_domain.in_(shared_domains))
        .order_by(Organisation.email_domain, Organisation.id)
    ).all()
    compact = _compact_name()
    shared_names = (
        select(compact).group_by(compact).having(func.count() > 1).order_by(compact)
        .limit(DUPLICATE_GROUPS)
    )  # fmt: skip
    similar = db.session.execute(
        select(Organisation, compact.label("compact"))
        .where(compact.in_(shared_names))
        .order_by(compact, Organisation.id)
    ).all()
    shared_addresses = (
        select(Contact.email_key)
        .where(Contact.email_key.is_not(None))
        .group_by(Contact.email_key)
        .having(func.count(Contact.organisation_id.distinct()) > 1)
        .order_by(Contact.email_key)
        .limit(DUPLICATE_GROUPS)
    )
    by_address = db.session.scalars(
        select(Contact)
        .options(joinedload(Contact.organisation).load_only(Organisation.name))
        .where(Contact.email_key.in_(shared_addresses))
        .order_by(Contact.email_key, Contact.organisation_id, Contact.id)
    ).all()
    folded = func.lower(func.trim(Contact.name))
    twice_named = (
        select(Contact.organisation_id, folded)
        .group_by(Contact.organisation_id, folded)
        .having(func.count() > 1)
        .order_by(Contact.organisation_id, folded)
        .limit(DUPLICATE_GROUPS)
    )
    by_name = db.session.execute(
        select(Contact, folded.label("folded"))
        .options(joinedload(Contact.organisation).load_only(Organisation.name))
        .where(tuple_(Contact.organisation_id, folded).in_(twice_named))
        .order_by(Contact.organisation_id, folded, Contact.id)
    ).all()
    return DuplicateSuggestions(
        same_domain=_grouped(same_domain, lambda o: o.email_domain),
        similar_name=_grouped([row[0] for row in similar], key=None, keys=[r[1] for r in similar]),
        shared_address=_grouped(by_address, lambda c: c.email_key),
        same_name_contacts=_grouped(
            [row[0] for row in by_name], key=None,
            keys=[(row[0].organisation_id, row[1]) for row in by_name],
        ),
    )  # fmt: skip


def duplicates_of(organisation: Organisation, limit: int = 10) -> list[Organisation]:
    """Organisations that look like this one (its e-mail domain, or its name but for spaces),
    for the record page; one statement."""
    compact = _compact_name()
    alike = compact == organisation.name_key.replace(" ", "")
    if organisation.email_domain:
        alike = or_(alike, Organisation.email_domain == organisation.email_domain)
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.id != organisation.id, alike)
            .order_by(Organisation.name_key, Organisation.id)
            .limit(limit)
        )
    )


def _grouped(items, key, keys=None) -> list[list]:
    """Consecutive items with the same key, as lists (the queries order by the key)."""
    groups: dict = {}
    for index, item in enumerate(items):
        groups.setdefault(keys[index] if keys is not None else key(item), []).append(item)
    return [group for group in groups.values() if len(group) > 1]
