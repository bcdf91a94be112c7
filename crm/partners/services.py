"""Organisations: name matching and the seed of standing partners and member museums."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, timedelta
from functools import cache
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

from flask_babel import gettext as _
from sqlalchemy import bindparam, literal, select, union_all, update

from crm.activity.models import FollowUp, Note, TimelineEvent
from crm.activity.services import record_event
from crm.audit.services import audit
from crm.auth.models import User
from crm.auth.permissions import Role
from crm.choices import OrganisationType, Recurrence, Relationship
from crm.errors import DomainError, NotPermitted
from crm.extensions import db
from crm.partners.models import Contact, Organisation, email_key
from crm.timeutil import local_today

# Legal-form words that do not make a different organisation ("Kulturlyftet ideell förening").
_LEGAL_SUFFIXES = (
    "ideell förening",
    "ideella föreningen",
    "ekonomisk förening",
    "ek för",
    "aktiebolag",
    "ab",
    "hb",
    "kb",
)
# Addresses at these domains say nothing about the sender's organisation.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "hotmail.com", "hotmail.se", "outlook.com", "outlook.se",
        "live.com", "live.se", "msn.com", "yahoo.com", "yahoo.se", "icloud.com", "me.com",
        "telia.com", "bredband.net", "comhem.se", "spray.se", "protonmail.com", "proton.me",
    }
)  # fmt: skip


_PUNCTUATION = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def normalise_name(name: str) -> str:
    """The key two spellings of the same organisation share: case, spacing, legal form."""
    key = unicodedata.normalize("NFKC", name).casefold()
    key = _SPACES.sub(" ", _PUNCTUATION.sub(" ", key)).strip()
    changed = True
    while changed:
        changed = False
        for suffix in _LEGAL_SUFFIXES:
            if key.endswith(" " + suffix):
                key = key[: -len(suffix) - 1].strip()
                changed = True
    return key


def match_organisation(
    organisation_number: str | None, name: str, email: str
) -> Organisation | None:
    """An existing organisation by number, then normalised name, then e-mail domain.

    One statement fetches the candidates in that order of preference.
    """
    domain = email_domain_of(email)
    name_key = normalise_name(name)
    values = {"name_key": name_key}
    if organisation_number:
        values["number"] = organisation_number
    if domain:
        values["domain"] = domain
    statement = _candidates(by_number=bool(organisation_number), by_domain=bool(domain))
    candidates = db.session.scalars(statement, values).all()
    return choose_match(candidates, organisation_number, name_key, domain)


@cache
def _candidates(by_number: bool, by_domain: bool):
    """`match_organisation`'s statement, built once per shape (every public submission runs
    it): one indexed look-up per rule, best first; a third row shows two share the domain."""
    conditions = [(1, Organisation.name_key == bindparam("name_key"))]
    if by_number:
        conditions.append((0, Organisation.org_number == bindparam("number")))
    if by_domain:
        conditions.append((2, Organisation.email_domain == bindparam("domain")))
    ranked = union_all(
        *(select(Organisation.id, literal(rank).label("rank")).where(c) for rank, c in conditions)
    ).subquery()
    return (
        select(Organisation)
        .join(ranked, ranked.c.id == Organisation.id)
        .order_by(ranked.c.rank, Organisation.id)
        .limit(3)
    )


def choose_match(candidates, organisation_number: str | None, name_key: str, domain: str | None):
    """The rule of `match_organisation` over candidates already found (best first: by number,
    by name, by domain): number, then name, then a domain exactly one of them has. The import
    (`crm.partners.importing`) uses it over candidates it loaded for a whole file at once."""
    if candidates and organisation_number and candidates[0].org_number == organisation_number:
        return candidates[0]
    found = next((o for o in candidates if o.name_key == name_key), None)
    if found:
        return found
    same_domain = [o for o in candidates if domain and o.email_domain == domain]
    if len(same_domain) == 1:  # two organisations sharing a domain: let staff decide
        return same_domain[0]
    return None


def email_domain_of(email: str) -> str | None:
    """The organisation's own domain in an address; None for webmail, which says nothing."""
    _, at, domain = email.rpartition("@")
    domain = domain.lower()
    return None if not at or not domain or domain in PUBLIC_MAIL_DOMAINS else domain


def load_partner_seed() -> list[dict]:
    text = resources.files("crm.data").joinpath("partners.json").read_text("utf-8")
    return json.loads(text)["organisations"]


SEEDED_FILLS = ("website", "email_domain")


def seed_partners(today: date | None = None) -> tuple[int, int, int]:
    """Create missing standing partners and member museums, and give existing ones the
    website and e-mail domain they lack; return (orgs, follow-ups, fields) added.

    A value staff have entered is never replaced: only empty fields are filled.
    """
    today = today or local_today()
    owner = db.session.scalar(
        select(User)
        .where(User.role == Role.SECRETARY_GENERAL, User.active.is_(True))
        .order_by(User.id)
    )
    registered = list(db.session.scalars(select(Organisation)))
    existing = {org.name_key: org for org in registered}
    domains = {org.email_domain for org in registered if org.email_domain}
    created_orgs = created_follow_ups = filled = 0
    for entry in load_partner_seed():
        key = normalise_name(entry["name"])
        organisation = existing.get(key)
        if organisation is None:
            organisation = _organisation_from_seed(entry, key)
            if organisation.email_domain in domains:
                organisation.email_domain = None  # shared, it would match neither
            db.session.add(organisation)
            db.session.flush()
            record_event("created", None, organisation=organisation, source="seed")
            existing[key] = organisation
            created_orgs += 1
        else:
            filled += _fill_from_seed(organisation, entry, domains)
        domains.add(organisation.email_domain)
        created_follow_ups += _seed_follow_ups(organisation, entry, owner, today)
    db.session.flush()
    return created_orgs, created_follow_ups, filled


def _fill_from_seed(organisation: Organisation, entry: dict, domains: set) -> int:
    """Fill what the record lacks from the seed; a domain another organisation already has is
    left out (two organisations sharing a domain would match neither)."""
    values = {field: entry.get(field) for field in SEEDED_FILLS}
    if values["email_domain"] in domains:
        values["email_domain"] = None
    changed = {
        field: value
        for field, value in values.items()
        if value and getattr(organisation, field) is None
    }
    for field, value in changed.items():
        setattr(organisation, field, value)
    if changed:
        record_event("updated", None, organisation=organisation, source="seed", **changed)
    return len(changed)


def _organisation_from_seed(entry: dict, key: str) -> Organisation:
    return Organisation(
        name=entry["name"],
        name_key=key,
        short_name=entry.get("short_name"),
        type=OrganisationType(entry["type"]),
        relationship=Relationship(entry["relationship"]),
        region=entry.get("region"),
        description=entry.get("description"),
        website=entry.get("website"),
        email_domain=entry.get("email_domain"),
    )


def _seed_follow_ups(organisation: Organisation, entry: dict, owner, today: date) -> int:
    present = set(
        db.session.scalars(
            select(FollowUp.title).where(FollowUp.organisation_id == organisation.id)
        )
    )
    created = 0
    for item in entry.get("follow_ups", []):
        if item["title"] in present:
            continue
        # The seed has no dates; staff set the real one. A month ahead keeps it visible.
        db.session.add(
            FollowUp(
                title=item["title"],
                due_on=today + timedelta(days=30),
                organisation_id=organisation.id,
                owner_id=owner.id if owner else None,
                recurrence=Recurrence(item.get("recurrence", "none")),
            )
        )
        created += 1
    return created


# ---- register maintenance -------------------------------------------------------------


def normalise_website(value: str | None) -> str | None:
    """`https://host/path` with a lower-case host; None when empty; DomainError when not a URL."""
    value = (value or "").strip()
    if not value:
        return None
    if "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or "." not in host or " " in value:
        raise DomainError(_("Ange en webbadress, till exempel www.exempel.se."), field="website")
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def save_organisation(organisation: Organisation | None, values: dict, actor) -> Organisation:
    """Create or update an organisation; the name and the number must stay unique."""
    key = normalise_name(values["name"])
    clash = db.session.scalar(select(Organisation).where(Organisation.name_key == key))
    if clash is not None and clash is not organisation:
        raise DomainError(_("%(name)s finns redan i registret.", name=clash.name), field="name")
    number = values.get("org_number") or None
    if number:
        taken = db.session.scalar(select(Organisation).where(Organisation.org_number == number))
        if taken is not None and taken is not organisation:
            raise DomainError(
                _("Organisationsnumret används redan av %(name)s.", name=taken.name),
                field="org_number",
            )
    website = normalise_website(values.get("website"))
    created = organisation is None
    if created:
        organisation = Organisation()
        db.session.add(organisation)
    organisation.name = values["name"]
    organisation.name_key = key
    organisation.short_name = values.get("short_name") or None
    organisation.org_number = number
    organisation.type = OrganisationType(values["type"])
    organisation.relationship = Relationship(values["relationship"])
    organisation.website = website
    organisation.email_domain = values.get("email_domain") or None
    organisation.region = values.get("region") or None
    organisation.description = values.get("description") or None
    db.session.flush()
    record_event("created" if created else "updated", actor, organisation=organisation)
    audit("organisation_created" if created else "organisation_updated", actor, organisation)
    return organisation


MERGE_FILLS = ("org_number", "website", "email_domain", "region", "description", "short_name")


def merge_organisations(survivor: Organisation, duplicate: Organisation, actor) -> dict:
    """Move everything from `duplicate` to `survivor`, then delete the duplicate."""
    from crm.inquiries.models import Inquiry
    from crm.routing.models import RoutingRule

    if survivor.id == duplicate.id:
        raise DomainError(_("Välj en annan organisation att slå ihop med."), field="duplicate")
    _fold_shared_contacts(survivor, duplicate)
    moved = {}
    for model in (Inquiry, Contact, Note, FollowUp, TimelineEvent, RoutingRule):
        result = db.session.execute(
            update(model)
            .where(model.organisation_id == duplicate.id)
            .values(organisation_id=survivor.id)
            .execution_options(synchronize_session=False)
        )
        moved[model.__tablename__] = result.rowcount
    inherited = {
        field: getattr(duplicate, field)
        for field in MERGE_FILLS
        if getattr(survivor, field) is None and getattr(duplicate, field) is not None
    }
    if "org_number" in inherited:
        duplicate.org_number = None  # unique: free it before the survivor takes it
        db.session.flush()
    for field, value in inherited.items():
        setattr(survivor, field, value)
    # The bulk updates bypassed the session: reload so the delete cascades over nothing moved.
    db.session.expire(duplicate)
    record_event("merged", actor, organisation=survivor, merged_name=duplicate.name, **moved)
    audit("organisations_merged", actor, survivor, merged_id=duplicate.id,
          merged_name=duplicate.name, moved=moved)  # fmt: skip
    db.session.delete(duplicate)
    db.session.flush()
    db.session.expire(survivor)
    return moved


def _fold_shared_contacts(survivor: Organisation, duplicate: Organisation) -> None:
    """A person who is a contact at both (same address) stays one contact at the survivor,
    with what only the duplicate's record knew; moving both would break the unique key."""
    theirs = db.session.scalars(
        select(Contact).where(
            Contact.organisation_id == duplicate.id, Contact.email_key.is_not(None)
        )
    ).all()
    if not theirs:
        return
    ours = {
        contact.email_key: contact
        for contact in db.session.scalars(
            select(Contact).where(
                Contact.organisation_id == survivor.id,
                Contact.email_key.in_([contact.email_key for contact in theirs]),
            )
        )
    }
    for contact in theirs:
        kept = ours.get(contact.email_key)
        if kept is None:
            continue
        for field in ("title", "phone"):
            if getattr(kept, field) is None:
                setattr(kept, field, getattr(contact, field))
        db.session.delete(contact)
    db.session.flush()


def create_organisation_from_inquiry(inquiry, actor) -> Organisation:
    """Add the inquiry's organisation to the register (refusing a duplicate); the caller links
    the inquiry to it."""
    key = normalise_name(inquiry.organisation_name)
    existing = db.session.scalar(select(Organisation).where(Organisation.name_key == key))
    if existing is not None:
        raise DomainError(
            _("%(name)s finns redan i registret. Koppla till den i stället.", name=existing.name),
            field="organisation_name",
        )
    organisation = Organisation(
        name=inquiry.organisation_name, name_key=key, type=inquiry.organisation_type,
        relationship=Relationship.PROSPECT, org_number=inquiry.organisation_number,
        email_domain=email_domain_of(inquiry.email),
    )  # fmt: skip
    db.session.add(organisation)
    db.session.flush()
    record_event("created", actor, organisation=organisation, source=inquiry.reference)
    audit("organisation_created", actor, organisation)
    return organisation


# ---- contacts ---------------------------------------------------------------------------

CONTACT_FIELDS = ("name", "title", "email", "phone")


def add_contact(organisation: Organisation, values: dict, actor) -> Contact:
    """A person at the organisation; one contact per organisation and e-mail address."""
    _refuse_duplicate_address(organisation.id, values.get("email"), None)
    contact = Contact(organisation_id=organisation.id)
    _fill_contact(contact, values)
    db.session.add(contact)
    db.session.flush()
    record_event("contact_added", actor, organisation=organisation, name=contact.name)
    audit("contact_added", actor, contact)
    return contact


def update_contact(contact: Contact, values: dict, actor) -> None:
    _refuse_duplicate_address(contact.organisation_id, values.get("email"), contact.id)
    _fill_contact(contact, values)
    audit("contact_updated", actor, contact)
    db.session.flush()


def remove_contact(contact: Contact, actor) -> None:
    record_event("contact_removed", actor, organisation=contact.organisation_id, name=contact.name)
    audit("contact_removed", actor, contact)
    db.session.delete(contact)
    db.session.flush()


def _fill_contact(contact: Contact, values: dict) -> None:
    for name in CONTACT_FIELDS:
        setattr(contact, name, values.get(name) or None)
    contact.name = values["name"]


def _refuse_duplicate_address(organisation_id: int, email: str | None, contact_id: int | None):
    """A clear refusal instead of the unique key's IntegrityError (checked before any change,
    so autoflush has nothing half-made to write)."""
    key = email_key(email)
    if key is None:
        return
    clash = db.session.scalar(
        select(Contact).where(
            Contact.organisation_id == organisation_id,
            Contact.email_key == key,
            Contact.id != (contact_id or 0),
        )
    )
    if clash is not None:
        raise DomainError(
            _("%(name)s är redan kontakt här med den e-postadressen.", name=clash.name),
            field="email",
        )


def save_submitter_as_contact(inquiry, actor) -> Contact:
    """Make the inquiry's submitter a contact of its organisation (name, e-mail, phone)."""
    from crm.auth.permissions import Permission
    from crm.inquiries.conflicts import require_may_act

    require_may_act(inquiry, actor)
    if not actor.can(Permission.ORGANISATION_EDIT):
        raise NotPermitted(_("Bara den som får ändra i registret kan spara kontakter."))
    if inquiry.organisation_id is None:
        raise DomainError(_("Koppla förfrågan till en organisation först."))
    if inquiry.anonymised_at is not None:
        raise DomainError(_("Förfrågans personuppgifter är borttagna."))
    organisation = db.session.get(Organisation, inquiry.organisation_id)
    values = {"name": inquiry.contact_name, "email": inquiry.email, "phone": inquiry.phone}
    try:
        return add_contact(organisation, values, actor)
    except DomainError as exc:
        raise DomainError(exc.message) from None  # shown above the button: it has no field
