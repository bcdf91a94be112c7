"""Search everything: inquiries, organisations, contacts and messages for one term.

Each group is at most two statements whatever the data (its first rows, and a count that
stops at COUNT_CAP), so the number of statements does not grow with the register; groups the
reader may not see are never queried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import joinedload, load_only

from crm.auth.permissions import Permission
from crm.conversation.models import Message
from crm.core.sql import contains_word
from crm.extensions import db
from crm.inquiries.models import Inquiry
from crm.inquiries.queries import TRIGRAM, fts_rowids, search_condition, search_words
from crm.partners.models import Contact, Organisation

SHOWN = 10  # rows per group
# Counting stops here ("200+"): past a couple of hundred the number tells a reader nothing more,
# and a common word costs a scan of the rows until the cap is reached (1 000 took 27 ms on
# PostgreSQL at 100 000 inquiries; the group's link to the list shows them all).
COUNT_CAP = 200
# What is searched in the register: lower() of these is what migration 0023 indexes (the two
# must stay the same, or PostgreSQL won't use the indexes).
ORGANISATION_TEXT = literal_column(
    "organisations.name || ' ' || coalesce(organisations.short_name, '') || ' ' || "
    "coalesce(organisations.org_number, '') || ' ' || coalesce(organisations.email_domain, '')"
)
CONTACT_TEXT = literal_column("contacts.name || ' ' || coalesce(contacts.email, '')")
REFERENCE = re.compile(r"^SAM-\d{4}-\d{4,}$", re.IGNORECASE)


@dataclass
class Group:
    """One kind of hit: the first SHOWN rows and how many there are (up to COUNT_CAP; `capped`
    when there are more)."""

    rows: list = field(default_factory=list)
    count: int = 0
    capped: bool = False

    @property
    def more(self) -> bool:
        return self.count > len(self.rows)


def _counted(rows: list, count: int) -> Group:
    """A group from its rows and a count that went at most one past COUNT_CAP."""
    return Group(rows, min(count, COUNT_CAP), count > COUNT_CAP)


def exact_reference(term: str, user) -> str | None:
    """The reference of the inquiry the term names exactly (`SAM-2026-0042`), if the user may
    read inquiries and it exists."""
    term = term.strip()
    if not REFERENCE.match(term) or not user.can(Permission.INQUIRY_VIEW):
        return None
    return db.session.scalar(select(Inquiry.reference).where(Inquiry.reference == term.upper()))


def may_search(user) -> bool:
    """Whether the user may read any group at all (the admin reads none of them)."""
    return user.can(Permission.INQUIRY_VIEW) or user.can(Permission.ORGANISATION_VIEW)


def search_everything(term: str, user) -> dict[str, Group]:
    """The groups the user may read, in the page's order, each with its first rows and count."""
    groups: dict[str, Group] = {}
    if not search_words(term):
        return groups
    if user.can(Permission.INQUIRY_VIEW):
        found = search_condition(term)
        groups["inquiries"] = _group(
            select(Inquiry)
            .options(load_only(Inquiry.reference, Inquiry.subject, Inquiry.organisation_name,
                               Inquiry.status, Inquiry.created_at))
            .where(found)
            .order_by(Inquiry.created_at.desc(), Inquiry.id.desc()),
            select(Inquiry.id).where(found),
        )  # fmt: skip
    if user.can(Permission.ORGANISATION_VIEW):
        found = _indexed(term, ORGANISATION_TEXT, "organisation_search", Organisation.id)
        groups["organisations"] = _register_group(
            select(Organisation).where(*found).order_by(Organisation.name_key, Organisation.id)
        )
        found = _indexed(term, CONTACT_TEXT, "contact_search", Contact.id)
        groups["contacts"] = _register_group(
            select(Contact)
            .options(joinedload(Contact.organisation).load_only(Organisation.name))
            .where(*found)
            .order_by(Contact.name, Contact.id)
        )
    if user.can(Permission.INQUIRY_VIEW):
        found = _indexed(term, Message.body, "message_search", Message.id)
        groups["messages"] = _group(
            select(Message, Inquiry.reference, Inquiry.subject)
            .join(Inquiry, Inquiry.id == Message.inquiry_id)
            .options(load_only(Message.body, Message.direction, Message.created_at,
                               Message.inquiry_id, Message.sender_name))
            .where(*found)
            .order_by(Message.created_at.desc(), Message.id.desc()),
            select(Message.id).where(*found),
        )  # fmt: skip
    return groups


def _indexed(term: str, searched, table: str, id_column) -> list:
    """Rows whose searched text contains every word of the term (the list search's rule: AND of
    words), through the trigram index of migrations 0021 and 0023: on PostgreSQL it serves
    `lower(text) LIKE` itself; on SQLite words of three characters or more go to the table's
    FTS5 table, unless they are so common that walking the rows finds a page sooner."""
    words = search_words(term)
    indexed = [word for word in words if len(word) >= TRIGRAM]
    rowids = None
    if indexed and db.engine.dialect.name != "postgresql":
        rowids = fts_rowids(table, indexed)
    if rowids is None:
        return [contains_word(searched, word) for word in words]
    short = [word for word in words if len(word) < TRIGRAM]
    return [*(contains_word(searched, word) for word in short), id_column.in_(rowids)]


def _register_group(rows_query) -> Group:
    """The first SHOWN rows with the number of hits beside them, in one statement. For the
    register's organisations and contacts: thousands of rows, not a hundred thousand, so
    counting every hit beside the rows costs less than a second, capped count (at 5 000
    organisations and 7 500 contacts read with LIKE, one read instead of two was 8 ms less)."""
    total = func.count().over().label("total")
    rows = db.session.execute(rows_query.add_columns(total).limit(SHOWN)).unique().all()
    count = rows[0].total if rows else 0
    return _counted([row[0] for row in rows], count)


def _group(rows_query, ids_query) -> Group:
    """The first SHOWN rows and the count, always two statements (the page's cost is the same
    for a rare term as for a common one)."""
    result = db.session.execute(rows_query.limit(SHOWN)).unique()
    rows = list(result.scalars() if len(rows_query.column_descriptions) == 1 else result)
    capped = ids_query.limit(COUNT_CAP + 1).subquery()
    return _counted(rows, db.session.scalar(select(func.count()).select_from(capped)))
