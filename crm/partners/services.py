"""Organisations: name matching and the seed of standing partners and member museums."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, timedelta
from importlib import resources

from sqlalchemy import select

from crm.activity.models import FollowUp
from crm.activity.services import record_event
from crm.auth.models import User
from crm.auth.permissions import Role
from crm.choices import OrganisationType, Recurrence, Relationship
from crm.extensions import db
from crm.partners.models import Organisation

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


def load_partner_seed() -> list[dict]:
    text = resources.files("crm.data").joinpath("partners.json").read_text("utf-8")
    return json.loads(text)["organisations"]


def seed_partners(today: date | None = None) -> tuple[int, int]:
    """Create missing standing partners and member museums; return (orgs, follow-ups) added."""
    today = today or date.today()
    owner = db.session.scalar(
        select(User)
        .where(User.role == Role.SECRETARY_GENERAL, User.active.is_(True))
        .order_by(User.id)
    )
    existing = {org.name_key: org for org in db.session.scalars(select(Organisation))}
    created_orgs = created_follow_ups = 0
    for entry in load_partner_seed():
        key = normalise_name(entry["name"])
        organisation = existing.get(key)
        if organisation is None:
            organisation = _organisation_from_seed(entry, key)
            db.session.add(organisation)
            db.session.flush()
            record_event("created", None, organisation=organisation, source="seed")
            existing[key] = organisation
            created_orgs += 1
        created_follow_ups += _seed_follow_ups(organisation, entry, owner, today)
    db.session.flush()
    return created_orgs, created_follow_ups


def _organisation_from_seed(entry: dict, key: str) -> Organisation:
    return Organisation(
        name=entry["name"],
        name_key=key,
        short_name=entry.get("short_name"),
        type=OrganisationType(entry["type"]),
        relationship=Relationship(entry["relationship"]),
        region=entry.get("region"),
        description=entry.get("description"),
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
