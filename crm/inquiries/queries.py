"""Read-only queries for inquiry pages, each in a fixed number of SQL statements."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    union,
)
from sqlalchemy.orm import joinedload, load_only, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from crm.activity.models import FollowUp
from crm.core.paging import Page, keyset_page
from crm.core.sql import contains_word, unindexed
from crm.database import SEARCH_TABLES
from crm.extensions import db
from crm.inquiries.conflicts import may_be_assigned
from crm.inquiries.models import (
    COUNTERPART_KEY_MAX,
    ConflictDeclaration,
    Inquiry,
    InquiryRegion,
    counterpart_key_of,
)
from crm.inquiries.statuses import OPEN_STATUSES, Outcome, Status
from crm.tags.models import NAME_MAX as TAG_NAME_MAX
from crm.timeutil import local_today, month_start, utcnow
from crm.validation import clean_line, database_id, plausible_year

INBOX_LIMIT = 50
# Handed over and not opened yet: open, but past "new" (new ones have their own group).
HANDED_OVER_STATUSES = tuple(status for status in OPEN_STATUSES if status is not Status.NEW)


# What list rows show (and their cursors need); loading only these halves the loading cost.
LISTED_COLUMNS = (
    Inquiry.reference, Inquiry.subject, Inquiry.organisation_name, Inquiry.status,
    Inquiry.outcome, Inquiry.created_at, Inquiry.updated_at, Inquiry.first_response_due_at,
    Inquiry.first_response_at,
)  # fmt: skip


def _listing():
    from crm.auth.models import User
    from crm.partners.models import Organisation

    return select(Inquiry).options(
        load_only(*LISTED_COLUMNS),
        joinedload(Inquiry.organisation).load_only(Organisation.name),
        joinedload(Inquiry.assignee).load_only(User.name),
    )


def inbox_for(user) -> dict[str, list]:
    """The inquiries a staff member should look at now, grouped for the inbox."""
    from crm.activity.queries import follow_ups_this_week

    groups = {name: db.session.scalars(query).all() for name, query in inbox_queries(user).items()}
    groups["follow_ups"] = follow_ups_this_week(user)
    return groups


def waiting_for(now) -> dict[str, list]:
    """Where my inquiries need me, as the inbox's groups (the menu badge counts the same);
    each is combined with `Inquiry.assignee_id == me`.

    Each group is written for its own index: my new ones on (assignee, status); those late
    for a first response on the partial index of the few still awaiting one; those handed to
    me and not opened on the partial index of the unopened; answers from submitters on the
    partial index of the answered. `unindexed` keeps SQLite from preferring (assignee,
    status), which would read every open inquiry of the person.
    """
    return {
        "new": [Inquiry.status == Status.NEW],
        "overdue": [Inquiry.response_overdue(now)],
        "unseen": [
            Inquiry.assignee_seen_at.is_(None),
            unindexed(Inquiry.status).in_(HANDED_OVER_STATUSES),
        ],
        # Whatever its status: an answer to an inquiry on hold or even closed is read here.
        "answered": [Inquiry.submitter_replied_at.is_not(None)],
    }


def inbox_queries(user) -> dict:
    """The inbox's inquiry groups as statements, each served by its own index."""
    newest_first = (Inquiry.created_at.desc(), Inquiry.id.desc())
    order = {
        "new": newest_first,
        "overdue": (Inquiry.first_response_due_at, Inquiry.id),
        "unseen": newest_first,
        "answered": (Inquiry.submitter_replied_at, Inquiry.id),
    }
    queries = {
        name: _listing()
        .where(Inquiry.assignee_id == user.id, *conditions)
        .order_by(*order[name])
        .limit(INBOX_LIMIT)
        for name, conditions in waiting_for(utcnow()).items()
    }
    queries["unassigned"] = (
        _listing()
        .where(Inquiry.assignee_id.is_(None), Inquiry.status.in_(OPEN_STATUSES))
        .order_by(*newest_first)
        .limit(INBOX_LIMIT)
    )
    return queries


def inquiry_by_reference(reference: str | None) -> Inquiry | None:
    """The inquiry with this reference, if there is one (no eager loads: for services)."""
    if not reference:
        return None
    return db.session.scalar(select(Inquiry).where(Inquiry.reference == reference))


def references_of(inquiry_ids) -> dict[int, str]:
    """The references of these inquiries, by id (one statement)."""
    if not inquiry_ids:
        return {}
    rows = db.session.execute(
        select(Inquiry.id, Inquiry.reference).where(Inquiry.id.in_(inquiry_ids))
    )
    return {row.id: row.reference for row in rows}


def get_inquiry_or_404(reference: str) -> Inquiry:
    from flask import abort

    inquiry = db.session.scalar(
        select(Inquiry)
        .options(
            joinedload(Inquiry.organisation),
            joinedload(Inquiry.assignee),
            selectinload(Inquiry.region_links),
            selectinload(Inquiry.conflicts).joinedload(ConflictDeclaration.user),
        )
        .where(Inquiry.reference == reference)
    )
    if inquiry is None:
        abort(404)
    return inquiry


def load_conflicts(inquiries) -> None:
    """Load the jäv declarations of many inquiries in one statement (lists that show what the
    user may do on each row)."""
    by_id = {inquiry.id: inquiry for inquiry in inquiries if inquiry is not None}
    if not by_id:
        return
    found: dict[int, list] = {inquiry_id: [] for inquiry_id in by_id}
    rows = db.session.scalars(
        select(ConflictDeclaration)
        .where(ConflictDeclaration.inquiry_id.in_(list(by_id)))
        .order_by(ConflictDeclaration.declared_at, ConflictDeclaration.id)
    )
    for declaration in rows:
        found[declaration.inquiry_id].append(declaration)
    for inquiry_id, declarations in found.items():
        set_committed_value(by_id[inquiry_id], "conflicts", declarations)


def assignment_candidates(inquiry) -> list:
    """Who the inquiry (and follow-ups on it) can be given to: officers without jäv on it."""
    from crm.auth.queries import assignable_users

    return [user for user in assignable_users() if may_be_assigned(user, inquiry)]


# ---- the inquiry list -------------------------------------------------------------------

PAGE_SIZE = 50
SORTS = {
    "newest": (Inquiry.created_at, True),
    "oldest": (Inquiry.created_at, False),
    "updated": (Inquiry.updated_at, True),
}


@dataclass
class InquiryFilters:
    """The list's filters, parsed from the query string; unknown values are ignored."""

    q: str = ""
    status: str = ""
    assignee: str = ""  # a user id, "me" or "none"
    category: str = ""
    region: str = ""
    organisation_type: str = ""
    year: int | None = None
    overdue: bool = False
    outcome: str = ""
    tag: str = ""  # a tag's name, in any case
    # Drill-down from the dashboard and the yearly report (issue 18): a part of `year`, the
    # channel, the year an outcome was reached, an ageing bucket of open inquiries.
    quarter: int | None = None
    month: int | None = None
    channel: str = ""
    outcome_year: int | None = None
    age: str = ""  # an index into AGE_BUCKETS
    sort: str = "newest"

    @classmethod
    def from_args(cls, args) -> InquiryFilters:
        from crm.choices import Category, Channel, OrganisationType
        from crm.regions import regions

        def pick(name, allowed):
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""

        year = (args.get("year") or "").strip()
        assignee = (args.get("assignee") or "").strip()
        return cls(
            q=clean_line(args.get("q"))[:200],
            status=pick("status", {s.value for s in Status} | {"open"}),
            assignee=assignee
            if assignee in {"me", "none"} or database_id(assignee) is not None
            else "",
            category=pick("category", {c.value for c in Category}),
            region=pick("region", set(regions())),
            organisation_type=pick("organisation_type", {t.value for t in OrganisationType}),
            year=plausible_year(year),
            overdue=args.get("overdue") in {"1", "on", "true"},
            outcome=pick("outcome", {o.value for o in Outcome}),
            tag=clean_line(args.get("tag"))[:TAG_NAME_MAX],
            # a quarter or a month means nothing without its year
            quarter=_number_in(args.get("quarter"), 1, 4) if plausible_year(year) else None,
            month=_number_in(args.get("month"), 1, 12) if plausible_year(year) else None,
            channel=pick("channel", {c.value for c in Channel}),
            outcome_year=plausible_year((args.get("outcome_year") or "").strip()),
            age=pick("age", {str(index) for index in range(len(AGE_BUCKETS))}),
            sort=pick("sort", set(SORTS)) or "newest",
        )

    def audited_args(self) -> dict:
        """The filters for the audit log: a search term may be a person's name or address,
        which the log must not keep (erasure could not reach it), so only its length is."""
        args = self.as_args()
        if "q" in args:
            args["q"] = f"({len(self.q)} tecken)"
        return args

    def as_args(self) -> dict:
        """The non-empty filters, for links that keep the current view."""
        values = {
            "q": self.q, "status": self.status, "assignee": self.assignee,
            "category": self.category, "region": self.region,
            "organisation_type": self.organisation_type, "year": self.year,
            "overdue": "1" if self.overdue else "", "outcome": self.outcome, "tag": self.tag,
            "quarter": self.quarter, "month": self.month, "channel": self.channel,
            "outcome_year": self.outcome_year, "age": self.age,
            "sort": "" if self.sort == "newest" else self.sort,
        }  # fmt: skip
        return {key: value for key, value in values.items() if value}


def _number_in(value: str | None, lowest: int, highest: int) -> int | None:
    number = database_id(value)
    return number if number is not None and lowest <= number <= highest else None


# Open inquiries by whole days since they arrived, in the buckets people talk about: the
# dashboard's ageing chart and the list's `age` filter (label, fewest days, most days).
AGE_BUCKETS = (("0–7", 0, 7), ("8–30", 8, 30), ("31–90", 31, 90), ("> 90", 91, None))


def age_condition(index: int, now):
    """Open inquiries in the index-th ageing bucket, as the dashboard counts them."""
    _label, fewest, most = AGE_BUCKETS[index]
    conditions = [Inquiry.status.in_(OPEN_STATUSES)]
    if most is not None:
        conditions.append(Inquiry.created_at > now - timedelta(days=most + 1))
    if fewest:
        conditions.append(Inquiry.created_at <= now - timedelta(days=fewest))
    return and_(*conditions)


def created_between(start: datetime, end: datetime):
    """Arrived from `start` up to (not including) `end`: the list's and the reports' periods."""
    return and_(Inquiry.created_at >= start, Inquiry.created_at < end)


# The inquiry's searched text. Migration 0002 indexes lower() of exactly this, which is what
# `contains_word` writes on PostgreSQL: the two must stay the same, or it won't use the index.
SEARCH_TEXT = (
    "inquiries.reference || ' ' || inquiries.subject || ' ' || inquiries.message || ' ' || "
    "inquiries.organisation_name || ' ' || inquiries.contact_name || ' ' || inquiries.email"
)
TRIGRAM = 3


COMMON = 2000


def _fts_statements(table: str) -> tuple:
    # The table names are the constants of crm.database.SEARCH_TABLES, never input.
    matching = f"SELECT rowid FROM {table} WHERE {table} MATCH :query"  # noqa: S608
    return text(f"SELECT count(*) FROM ({matching} LIMIT :limit)"), text(matching)  # noqa: S608


# Per SQLite search table (migrations 0002, 0021, 0023): how many rows match, counting stops at
# :limit; and the ids of the rows that match.
_FTS = {table: _fts_statements(table) for table in SEARCH_TABLES}


def fts_rowids(table: str, words: list[str]):
    """SQLite: the ids of the rows of the search table whose text contains every word (each of
    three characters or more), for `id IN (…)`; or None when at least COMMON rows match, where
    walking the rows newest-first finds a page sooner than collecting every hit."""
    hits, rowids = _FTS[table]
    query = " AND ".join('"' + word.replace('"', '""') + '"' for word in words)
    if db.session.scalar(hits, {"query": query, "limit": COMMON}) >= COMMON:
        return None
    return rowids.bindparams(query=query).columns(rowid=Integer)


# A word, or a "quoted phrase" kept whole.
WORDS = re.compile(r'"([^"]+)"|(\S+)')


def search_words(term: str) -> list[str]:
    """The words of a search, lower-cased, each once; quoted phrases stay whole."""
    words = (" ".join((phrase or word).split()).lower() for phrase, word in WORDS.findall(term))
    return list(dict.fromkeys(word for word in words if word))


def search_condition(term: str):
    """Inquiries whose reference, subject, message, organisation or contact contain every word
    of the term (each word anywhere, in any order; a quoted phrase as written).

    Words of three characters or more use the trigram index (pg_trgm on PostgreSQL, FTS5 on
    SQLite), all of them in one index search; shorter ones, which no trigram can match, scan
    with LIKE. Each means "contains".
    """
    words = search_words(term)
    indexed = [word for word in words if len(word) >= TRIGRAM]
    conditions = [_contains_short(word) for word in words if len(word) < TRIGRAM]
    if indexed and db.engine.dialect.name == "postgresql":
        conditions += [_contains_long(word) for word in indexed]
    elif indexed:
        rowids = fts_rowids("inquiry_search", indexed)
        if rowids is None:
            conditions += [_contains_long(word) for word in indexed]
        else:
            conditions.append(Inquiry.id.in_(rowids))
            # The same OR as below, as one set of ids: with the OR in the WHERE, SQLite walks
            # every inquiry newest-first testing both arms (80 ms at 100 000 for a rare word);
            # a UNION looks each arm up in its own index.
            return Inquiry.id.in_(
                union(
                    select(Inquiry.id).where(*conditions),
                    select(Inquiry.id).where(_counterpart_reference_starts(term)),
                )
            )
    return or_(and_(true(), *conditions), _counterpart_reference_starts(term))


def _counterpart_reference_starts(term: str):
    """Inquiries whose counterpart's case number is the term or starts with it, compared
    folded (`counterpart_key_of`: no spaces, any case). Only inquiries with a number are in
    its partial index (migration 0016), which the IS NOT NULL names, so this arm of the OR
    reads that small index beside the text search's (a plain condition, not a subquery:
    PostgreSQL can combine two index scans for an OR, not an index scan and a subplan).
    A term wholly in quotes (the search's "phrase") is the number without them."""
    term = term.strip()
    if len(term) > 1 and term[0] == term[-1] == '"':
        term = term[1:-1]
    key = counterpart_key_of(term)
    if key is None or len(key) > COUNTERPART_KEY_MAX:
        return false()
    prefix = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return and_(
        Inquiry.counterpart_key.is_not(None), Inquiry.counterpart_key.like(prefix, escape="\\")
    )


def _contains_long(word: str):
    """The word in the searched text, as the trigram index (migration 0002) expects it."""
    return contains_word(literal_column(SEARCH_TEXT), word)


def _contains_short(word: str):
    columns = (
        Inquiry.reference, Inquiry.subject, Inquiry.message, Inquiry.organisation_name,
        Inquiry.contact_name, Inquiry.email,
    )  # fmt: skip
    return or_(*(contains_word(column, word) for column in columns))


def filtered(filters: InquiryFilters, user):
    return _listing().where(*filter_conditions(filters, user))


def filter_conditions(filters: InquiryFilters, user) -> list:
    """The WHERE conditions for the list's filters (shared by the list and the CSV export)."""
    conditions = []
    if filters.q:
        conditions.append(search_condition(filters.q))
    if filters.status == "open":
        conditions.append(Inquiry.status.in_(OPEN_STATUSES))
    elif filters.status:
        conditions.append(Inquiry.status == filters.status)
    if filters.assignee == "me":
        conditions.append(Inquiry.assignee_id == user.id)
    elif filters.assignee == "none":
        conditions.append(Inquiry.assignee_id.is_(None))
    elif filters.assignee:
        conditions.append(Inquiry.assignee_id == int(filters.assignee))
    if filters.category:
        conditions.append(Inquiry.category == filters.category)
    if filters.organisation_type:
        conditions.append(Inquiry.organisation_type == filters.organisation_type)
    if filters.region:
        conditions.append(
            exists().where(
                InquiryRegion.inquiry_id == Inquiry.id, InquiryRegion.region_code == filters.region
            )
        )
    if filters.year:
        conditions.append(created_between(*_months(filters.year, 1, 12)))
    if filters.outcome:
        conditions.append(Inquiry.outcome == filters.outcome)
    if filters.overdue:
        conditions.append(Inquiry.response_overdue(utcnow()))
    if filters.year and filters.quarter:
        first = 3 * (filters.quarter - 1) + 1
        conditions.append(created_between(*_months(filters.year, first, 3)))
    if filters.year and filters.month:
        conditions.append(created_between(*_months(filters.year, filters.month, 1)))
    if filters.channel:
        conditions.append(Inquiry.channel == filters.channel)
    if filters.outcome_year:
        start, end = _months(filters.outcome_year, 1, 12)
        conditions += [Inquiry.closed_at >= start, Inquiry.closed_at < end]
    if filters.age:
        conditions.append(age_condition(int(filters.age), utcnow()))
    if filters.tag:
        from crm.tags.queries import tagged_condition
        from crm.tags.services import fold

        conditions.append(tagged_condition(Inquiry.id, fold(filters.tag)))
    return conditions


def _months(year: int, first: int, count: int) -> tuple[datetime, datetime]:
    """From the first of month `first` to the first of the month `count` months later, each at
    midnight in Swedish time (as the dashboard counts them)."""
    return month_start(year, first), month_start(year, first + count)


def list_inquiries(
    filters: InquiryFilters, user, after: str | None = None, before: str | None = None
) -> Page:
    """One page in keyset order: no OFFSET, so page 500 costs what page 1 costs."""
    column, descending = SORTS[filters.sort]
    return keyset_page(
        filtered(filters, user), column, Inquiry.id,
        descending=descending, after=after, before=before, size=PAGE_SIZE,
    )  # fmt: skip


# Every staff page shows these counts; the statement is built once, not per request.
def _count_waiting():
    """How many of my inquiries are in at least one inbox group. Each group counts only what
    no group before it counted, so the sum counts an inquiry once and every part reads its
    own small index (a UNION of the groups' ids would sort them all)."""
    parts, counted = [], []
    for conditions in waiting_for(bindparam("now")).values():
        not_counted = [not_(and_(*earlier)) for earlier in counted]
        parts.append(
            select(func.count())
            .select_from(Inquiry)
            .where(Inquiry.assignee_id == bindparam("user_id"), *conditions, *not_counted)
            .scalar_subquery()
        )
        counted.append(conditions)
    return sum(parts[1:], parts[0])


MENU_COUNTS = select(
    _count_waiting(),
    select(func.count())
    .select_from(FollowUp)
    .where(
        FollowUp.owner_id == bindparam("user_id"),
        FollowUp.completed_at.is_(None),
        FollowUp.due_on <= bindparam("today"),
    )
    .scalar_subquery(),
)


def menu_counts(user) -> tuple[int, int]:
    """The inquiries in my inbox's first groups (new, late for a first response, handed to me
    and not opened yet, answered by the submitter), and my open follow-ups due today or
    earlier, in one round trip."""
    waiting, due = db.session.execute(
        MENU_COUNTS, {"user_id": user.id, "today": local_today(), "now": utcnow()}
    ).one()
    return waiting, due


def open_inquiries_assigned_to(user) -> list[Inquiry]:
    """The open inquiries the user is assigned, oldest first: what must be handed over when
    the user leaves."""
    from crm.inquiries.statuses import FINAL_STATUSES

    return list(
        db.session.scalars(
            select(Inquiry)
            .where(Inquiry.assignee_id == user.id, Inquiry.status.not_in(FINAL_STATUSES))
            .order_by(Inquiry.created_at, Inquiry.id)
        )
    )
