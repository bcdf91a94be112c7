"""Realistic Swedish demo data, inserted in bulk so that 100 000 inquiries take seconds."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from faker import Faker
from sqlalchemy import insert, select

from crm.activity.models import FollowUp, Note, TimelineEvent
from crm.auth.models import User
from crm.auth.permissions import Role
from crm.choices import Addressee, Category, Channel, OrganisationType, Priority, Relationship
from crm.conversation.models import Direction, Message, MessageChannel
from crm.extensions import db
from crm.inquiries.models import Inquiry, InquiryRegion, ReferenceCounter
from crm.inquiries.statuses import FINAL_STATUSES, GENUINE_OUTCOMES, OUTCOME_OF, Status
from crm.partners.models import Contact, Organisation, email_key
from crm.partners.services import normalise_name
from crm.regions import regions
from crm.timeutil import utcnow
from crm.workdays.services import response_due_at

BATCH = 2000
# Where inquiries end up, roughly as a council's inbox looks after a few years.
STATUS_WEIGHTS = {
    Status.NEW: 6,
    Status.TRIAGED: 8,
    Status.IN_DIALOGUE: 10,
    Status.ON_HOLD: 4,
    Status.AGREED: 22,
    Status.DECLINED: 14,
    Status.WITHDRAWN: 5,
    Status.CLOSED: 28,
    Status.SPAM: 3,
}
SUBJECTS = [
    "Samarbete kring vandringsutställning om {theme}",
    "Forskningsprojekt: {theme} i regionala samlingar",
    "Förfrågan om medverkan på konferens om {theme}",
    "Digitalisering av {theme} – gemensam ansökan",
    "Skolprogram om {theme} för mellanstadiet",
    "Dialog om kulturpolitik och {theme}",
    "Projektfinansiering för {theme}",
    "Inbjudan till seminarium om {theme}",
]
THEMES = [
    "textilhantverk",
    "fornlämningar",
    "industriminnen",
    "samisk kultur",
    "fotosamlingar",
    "kulturmiljöer",
    "klimat och kulturarv",
    "arkeologi",
    "byggnadsvård",
    "folkmusik",
    "allmogemåleri",
    "hembygdsrörelsen",
    "immateriellt kulturarv",
    "museipedagogik",
]


class DemoData:
    def __init__(self, seed: int = 2026) -> None:
        self.random = random.Random(seed)  # noqa: S311  (repeatable demo data, not secrets)
        self.fake = Faker("sv_SE")
        self.fake.seed_instance(seed)
        self.now = utcnow()
        self.names = [self.fake.name() for _ in range(500)]
        self.cities = [self.fake.city() for _ in range(200)]
        self.sentences = [self.fake.paragraph(nb_sentences=4) for _ in range(300)]
        self.region_codes = list(regions())

    def organisations(self, count: int) -> list[int]:
        """Add `count` organisations with one or two contacts each; return their ids."""
        taken = set(db.session.scalars(select(Organisation.name_key)))
        kinds = list(OrganisationType)
        rows = []
        serial = 0
        while len(rows) < count:
            serial += 1
            kind = self.random.choice(kinds)
            name = self._organisation_name(kind, serial)
            key = normalise_name(name)
            if key in taken:
                continue
            taken.add(key)
            domain = f"org{serial}.example.se"
            rows.append(
                {
                    "name": name,
                    "name_key": key,
                    "type": kind,
                    "relationship": self.random.choice(
                        [
                            Relationship.PROSPECT,
                            Relationship.ACTIVE_PARTNER,
                            Relationship.FORMER_PARTNER,
                        ]
                    ),
                    "website": f"https://www.{domain}",
                    "email_domain": domain,
                    "region": self.random.choice(self.region_codes[:-1]),
                    "created_at": self.now - timedelta(days=self.random.randint(30, 1500)),
                    "updated_at": self.now,
                }
            )
        ids = self._insert_returning_ids(Organisation, rows)
        contacts = []
        for org_id, row in zip(ids, rows, strict=True):
            names = [self.random.choice(self.names) for _ in range(self.random.randint(1, 2))]
            by_address = {_email_for(name, row["email_domain"]): name for name in names}
            # one contact per organisation and address (a unique key since 0018)
            for email, name in by_address.items():
                contacts.append(
                    {
                        "organisation_id": org_id,
                        "name": name,
                        "title": self.random.choice(["Chef", "Intendent", "Handläggare", None]),
                        "email": email,
                        "email_key": email_key(email),
                        "created_at": row["created_at"],
                    }
                )
        self._insert(Contact, contacts)
        return ids

    def _organisation_name(self, kind: OrganisationType, serial: int) -> str:
        city = self.random.choice(self.cities)
        pattern = {
            OrganisationType.MUSEUM: "{city}s museum",
            OrganisationType.GOVERNMENT_AGENCY: "Myndigheten för kulturanalys {city}",
            OrganisationType.MUNICIPALITY_REGION: "{city} kommun",
            OrganisationType.UNIVERSITY: "Högskolan i {city}",
            OrganisationType.CIVIL_SOCIETY: "{city} hembygdsförening",
            OrganisationType.COMPANY: "{city} Kulturkonsult AB",
            OrganisationType.OTHER: "Kulturnätverket {city}",
        }[kind]
        return pattern.format(city=city) + f" {serial}"

    def inquiries(self, count: int, organisation_ids: list[int]) -> int:
        """Add `count` inquiries over three years, with timeline, notes and follow-ups."""
        staff = {
            role: db.session.scalars(
                select(User.id).where(User.role == role, User.active.is_(True))
            ).all()
            for role in (Role.SECRETARY_GENERAL, Role.CHAIR)
        }
        assignees = staff[Role.SECRETARY_GENERAL] + staff[Role.CHAIR]
        orgs = {
            org_id: (name, kind, domain)
            for org_id, name, kind, domain in db.session.execute(
                select(
                    Organisation.id,
                    Organisation.name,
                    Organisation.type,
                    Organisation.email_domain,
                ).where(Organisation.id.in_(organisation_ids) if organisation_ids else True)
            )
        }
        org_ids = list(orgs)
        created_ats = sorted(
            self.now - timedelta(seconds=self.random.randint(3600, 3 * 365 * 86400))
            for _ in range(count)
        )
        counters = self._reserve_references(created_ats)
        statuses = list(STATUS_WEIGHTS)
        weights = list(STATUS_WEIGHTS.values())
        done = 0
        for start in range(0, count, BATCH):
            batch = created_ats[start : start + BATCH]
            rows = []
            for created_at in batch:
                year = created_at.year
                counters[year] += 1
                org_id = (
                    self.random.choice(org_ids) if org_ids and self.random.random() < 0.8 else None
                )
                status = self.random.choices(statuses, weights)[0]
                rows.append(
                    self._inquiry_row(created_at, counters[year], org_id, orgs, status, assignees)
                )
            ids = self._insert_returning_ids(Inquiry, rows)
            self._related(ids, rows, assignees)
            done += len(ids)
        return done

    def _reserve_references(self, created_ats: list[datetime]) -> dict[int, int]:
        """Read the current counters and move them past the numbers this run will use."""
        counts: dict[int, int] = {}
        for created_at in created_ats:
            counts[created_at.year] = counts.get(created_at.year, 0) + 1
        start = {}
        for year, extra in counts.items():
            counter = db.session.get(ReferenceCounter, year)
            if counter is None:
                counter = ReferenceCounter(year=year, last_number=0)
                db.session.add(counter)
            start[year] = counter.last_number
            counter.last_number += extra
        db.session.flush()
        return start

    def _inquiry_row(self, created_at, number, org_id, orgs, status, assignees) -> dict:
        name = self.random.choice(self.names)
        if org_id is not None:
            org_name, kind, domain = orgs[org_id]
        else:
            org_name = f"{self.random.choice(self.cities)} kulturförening"
            kind, domain = OrganisationType.CIVIL_SOCIETY, "example.org"
        due = response_due_at(created_at, 5, ())  # demo data ignores closure days
        responded = None
        if status is not Status.NEW:
            responded = created_at + timedelta(hours=self.random.randint(2, 24 * 12))
        closed = None
        if status in FINAL_STATUSES:
            closed = (responded or created_at) + timedelta(days=self.random.randint(1, 120))
            closed = min(closed, self.now)
        outcome = OUTCOME_OF.get(status)
        if status is Status.CLOSED:
            outcome = self.random.choices(list(GENUINE_OUTCOMES), [5, 4, 1])[0]
        theme = self.random.choice(THEMES)
        addressee = self.random.choices(list(Addressee), [5, 2, 3])[0]
        return {
            "reference": f"SAM-{created_at.year}-{number:04d}",
            "channel": self.random.choices(list(Channel), [80, 10, 5, 4, 1])[0],
            "organisation_name": org_name,
            "organisation_id": org_id,
            "organisation_type": kind,
            "contact_name": name,
            "email": _email_for(name, domain),
            "phone": self.fake.phone_number() if self.random.random() < 0.4 else None,
            "category": self.random.choice(list(Category)),
            "subject": self.random.choice(SUBJECTS).format(theme=theme),
            "message": self.random.choice(self.sentences),
            "addressee": addressee,
            "assignee_id": self.random.choice(assignees) if assignees else None,
            # whoever responded had opened it; only new ones wait in the assignee's inbox
            "assignee_seen_at": responded if assignees else None,
            "status": status,
            "priority": self.random.choices(list(Priority), [2, 7, 1])[0],
            "first_response_due_at": due,
            "first_response_at": responded,
            "closed_at": closed,
            "outcome": outcome,
            "consent_text_version": "2026-01",
            "consent_at": created_at,
            "status_token_hash": secrets.token_hex(32),
            "version": 1,
            "created_at": created_at,
            "updated_at": closed or responded or created_at,
        }

    def _related(self, ids: list[int], rows: list[dict], assignees: list[int]) -> None:
        regions_rows, events, notes, follow_ups, messages = [], [], [], [], []
        for inquiry_id, row in zip(ids, rows, strict=True):
            for code in self.random.sample(self.region_codes, self.random.choice([1, 1, 1, 2])):
                regions_rows.append({"inquiry_id": inquiry_id, "region_code": code})
            events.append(_event(inquiry_id, "created", None, row["created_at"], {}))
            if row["first_response_at"]:  # answered with a reply, then triaged
                answered, by = row["first_response_at"], row["assignee_id"]
                messages.append(
                    self._message(inquiry_id, Direction.OUTBOUND, answered, author_id=by)
                )
                later = answered + timedelta(hours=20)
                if later < utcnow() and self.random.random() < 0.4:  # answered on the status page
                    messages.append(self._message(
                        inquiry_id, Direction.INBOUND, later,
                        sender_name=row["contact_name"], sender_address=row["email"],
                    ))  # fmt: skip
                triaged = {"old": "new", "new": "triaged"}
                events.append(_event(inquiry_id, "status_changed", by, answered, triaged))
            if row["closed_at"]:
                ended = row["outcome"].value if row["outcome"] else row["status"].value
                events.append(
                    _event(
                        inquiry_id,
                        "status_changed",
                        row["assignee_id"],
                        row["closed_at"],
                        {"old": "in_dialogue", "new": ended},
                    )
                )
                if row["status"] is Status.CLOSED:
                    events.append(
                        _event(
                            inquiry_id,
                            "status_changed",
                            row["assignee_id"],
                            row["closed_at"],
                            {"old": ended, "new": "closed"},
                        )
                    )
            if self.random.random() < 0.3:
                notes.append(
                    {
                        "inquiry_id": inquiry_id,
                        "author_id": row["assignee_id"],
                        "body": self.random.choice(self.sentences),
                        "created_at": row["first_response_at"] or row["created_at"],
                    }
                )
            if self.random.random() < 0.1 and assignees:
                follow_ups.append(
                    {
                        "title": "Återkoppla om " + row["subject"][:150].lower(),
                        "due_on": (row["created_at"] + timedelta(days=30)).date(),
                        "owner_id": row["assignee_id"],
                        "inquiry_id": inquiry_id,
                        "recurrence": "none",
                        "completed_at": row["closed_at"],
                        "created_at": row["created_at"],
                    }
                )
        self._insert(InquiryRegion, regions_rows)
        self._insert(TimelineEvent, events)
        self._insert(Note, notes)
        self._insert(FollowUp, follow_ups)
        self._insert(Message, messages)

    def _message(self, inquiry_id: int, direction: Direction, at, **who) -> dict:
        channel = MessageChannel.SAMVERKA if direction is Direction.OUTBOUND else (
            MessageChannel.STATUS_PAGE
        )  # fmt: skip
        return {
            "inquiry_id": inquiry_id, "direction": direction, "channel": channel,
            "body": self.random.choice(self.sentences), "created_at": at,
            "author_id": None, "sender_name": None, "sender_address": None, **who,
        }  # fmt: skip

    @staticmethod
    def _insert(model, rows: list[dict]) -> None:
        if rows:
            db.session.execute(insert(model), rows)

    @staticmethod
    def _insert_returning_ids(model, rows: list[dict]) -> list[int]:
        ids: list[int] = []
        for start in range(0, len(rows), BATCH):
            ids.extend(
                db.session.scalars(
                    insert(model).returning(model.id, sort_by_parameter_order=True),
                    rows[start : start + BATCH],
                )
            )
        return ids


def _event(inquiry_id, kind, actor_id, at, data) -> dict:
    return {
        "inquiry_id": inquiry_id,
        "kind": kind,
        "actor_id": actor_id,
        "created_at": at,
        "data": data,
    }


def _email_for(name: str, domain: str | None) -> str:
    local = ".".join(name.lower().split()[:2])
    ascii_local = local.translate(str.maketrans("åäöéü", "aaoeu"))
    return f"{ascii_local}@{domain or 'example.se'}"
