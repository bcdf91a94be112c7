"""Pipeline and dashboard figures, computed in SQL on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import and_, bindparam, case, extract, func, literal_column, or_, select
from sqlalchemy.orm import joinedload, load_only

from crm.auth.models import User
from crm.extensions import db
from crm.inquiries.models import Inquiry, InquiryRegion
from crm.inquiries.queries import AGE_BUCKETS, LISTED_COLUMNS, created_between
from crm.inquiries.statuses import GENUINE_OUTCOMES, OPEN_STATUSES, Outcome, Status
from crm.partners.models import Organisation
from crm.timeutil import local_today, month_start, utcnow
from crm.validation import database_id, plausible_year

BOARD_COLUMNS = tuple(status for status in Status if status in OPEN_STATUSES)
# Recent outcomes, whether or not the inquiry has since been closed.
OUTCOME_COLUMNS = (Outcome.AGREED, Outcome.DECLINED)
RECENT_OUTCOMES = timedelta(days=90)
CARDS_PER_COLUMN = 15  # the rest are one link away, in the list


@dataclass
class PipelineFilters:
    assignee: str = ""
    category: str = ""
    year: int | None = None

    @classmethod
    def from_args(cls, args) -> PipelineFilters:
        from crm.choices import Category

        assignee = (args.get("assignee") or "").strip()
        category = (args.get("category") or "").strip()
        year = (args.get("year") or "").strip()
        return cls(
            assignee=assignee if database_id(assignee) is not None or assignee == "none" else "",
            category=category if category in {c.value for c in Category} else "",
            year=plausible_year(year),
        )

    def as_args(self) -> dict:
        return {key: value for key, value in vars(self).items() if value}

    def conditions(self):
        """The same conditions the inquiry list uses for these three filters."""
        from crm.inquiries.queries import InquiryFilters, filter_conditions

        subset = InquiryFilters(assignee=self.assignee, category=self.category, year=self.year)
        return filter_conditions(subset, None)


# The outcome columns' "recent": a parameter, so the unfiltered board's statements are built
# once per process (building one costs about 0.3 ms, eight per view).
RECENT_SINCE = Inquiry.closed_at >= bindparam("recent_since")


def pipeline(filters: PipelineFilters) -> list[dict]:
    """The board: each column's total and its newest cards; a fixed number of statements.

    One small query per column walks the (status, created_at) index and stops at the page size,
    so the board costs the same with a hundred or a hundred thousand open inquiries.
    """
    now = utcnow()
    conditions = filters.conditions()
    since = {"recent_since": now - RECENT_OUTCOMES}  # for RECENT_SINCE
    # Two counts, each a range on the status index; one OR across them would scan every row.
    totals = dict(
        db.session.execute(
            select(Inquiry.status, func.count())
            .where(Inquiry.status.in_(BOARD_COLUMNS), *conditions)
            .group_by(Inquiry.status)
        ).all()
    )
    totals.update(
        db.session.execute(
            select(Inquiry.outcome, func.count())
            .where(Inquiry.outcome.in_(OUTCOME_COLUMNS), RECENT_SINCE, *conditions)
            .group_by(Inquiry.outcome),
            since,
        ).all()
    )
    columns = []
    for key in (*BOARD_COLUMNS, *OUTCOME_COLUMNS):
        outcome = isinstance(key, Outcome)
        query = pipeline_cards(key, conditions) if conditions else _cards(key)
        columns.append(
            {
                "status": key,
                "total": totals.get(key, 0),
                "cards": list(db.session.scalars(query, since)),
                "outcome": outcome,
                # the list filtered to this column
                "list_args": {**filters.as_args(), ("outcome" if outcome else "status"): key.value},
            }
        )
    return columns


@lru_cache(maxsize=16)
def _cards(key: Status | Outcome):
    return pipeline_cards(key, [])


def pipeline_cards(key: Status | Outcome, conditions: list):
    """A column's first cards: an open status newest-arrived first, an outcome of the last
    months latest-decided first. Each is read in the order of its index, (status, created_at,
    id) or (outcome, closed_at, id), so a column stops at CARDS_PER_COLUMN rows without
    sorting the rest. The outcome columns' cut-off is the parameter `recent_since`."""
    query = (
        select(Inquiry)
        .options(
            load_only(*LISTED_COLUMNS, Inquiry.version),
            joinedload(Inquiry.organisation).load_only(Organisation.name),
            joinedload(Inquiry.assignee).load_only(User.name),
        )
        .where(*conditions)
        .limit(CARDS_PER_COLUMN)
    )
    if isinstance(key, Outcome):
        return query.where(Inquiry.outcome == key, RECENT_SINCE).order_by(
            Inquiry.closed_at.desc(), Inquiry.id.desc()
        )
    return query.where(Inquiry.status == key).order_by(Inquiry.created_at.desc(), Inquiry.id.desc())


# ---- dashboard --------------------------------------------------------------------------


@dataclass
class Period:
    year: int
    quarter: int | None = None

    @classmethod
    def from_args(cls, args, today=None) -> Period:
        today = today or local_today()
        year = (args.get("year") or "").strip()
        quarter = (args.get("quarter") or "").strip()
        return cls(
            year=plausible_year(year) or today.year,
            quarter=int(quarter) if quarter in {"1", "2", "3", "4"} else None,
        )

    @property
    def months(self) -> list[int]:
        first = 1 if self.quarter is None else 3 * (self.quarter - 1) + 1
        return list(range(first, first + (12 if self.quarter is None else 3)))

    @property
    def start(self) -> datetime:
        """The period's first moment: midnight in Swedish time, in UTC."""
        return month_start(self.year, self.months[0])

    @property
    def end(self) -> datetime:
        return month_start(self.year, self.months[-1] + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.months[0], 1)


def _in_period(period: Period):
    return created_between(period.start, period.end)


def hours_between(later, earlier):
    """Elapsed hours between two timestamp columns, in each database's own arithmetic."""
    if db.engine.dialect.name == "postgresql":
        return extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def percentiles(values_query, *fractions: float) -> list[float | None]:
    """Nearest-rank percentiles of a one-column query, in one pass (window functions, both
    databases); one value per fraction, None when there are no values."""
    inner = values_query.subquery()
    value = inner.c[0]
    ranked = select(
        value.label("v"),
        func.row_number().over(order_by=value).label("rank"),
        func.count().over().label("n"),
    ).subquery()
    # nearest rank = ceil(fraction × n), in integer arithmetic that both databases share
    wanted = [(ranked.c.n * round(fraction * 100) + 99) // 100 for fraction in fractions]
    columns = [func.max(case((ranked.c.rank == rank, ranked.c.v))) for rank in wanted]
    row = db.session.execute(select(*columns).where(ranked.c.rank.in_(wanted))).one()
    return [float(found) if found is not None else None for found in row]


def local_month(column, period: Period):
    """The month in Swedish time a moment of the period falls in, as SQL both databases run:
    a CASE over the months' first moments (extract() would give the UTC month)."""
    return case(
        *[(column < month_start(period.year, month + 1), month) for month in period.months],
        else_=period.months[-1],
    )


def local_year(column, now=None):
    """The year in Swedish time of a moment, as SQL: a CASE over the years' first moments from
    2000 to next year."""
    last = (now or utcnow()).year + 1
    return case(
        *[(column < month_start(year + 1, 1), year) for year in range(2000, last)], else_=last
    )


def dashboard(period: Period) -> dict:
    """Every figure on the dashboard for the period; each a single aggregate query."""
    in_period = _in_period(period)
    month = local_month(Inquiry.created_at, period)
    per_month = {
        int(m): count
        for m, count in db.session.execute(
            select(month, func.count()).where(in_period).group_by(month)
        )
    }
    now = utcnow()
    return {
        "total": sum(per_month.values()),
        "per_month": [(m, per_month.get(m, 0)) for m in period.months],
        "by_category": counts_by(Inquiry.category, period),
        "by_type": counts_by(Inquiry.organisation_type, period),
        "by_region": counts_by_region(period),
        **response_times(period, now),
        "overdue_now": overdue_now(now),
        "ageing": ageing(now),
        "outcomes": outcomes_per_year(),
    }


def counts_by(column, period: Period) -> list[tuple]:
    """Inquiries that arrived in the period, per value of the column, most first."""
    return db.session.execute(
        select(column, func.count())
        .where(_in_period(period))
        .group_by(column)
        .order_by(func.count().desc(), column)
    ).all()


def counts_by_region(period: Period) -> list[tuple[str, int]]:
    """Inquiries that arrived in the period, per län they concern (one may concern several)."""
    return db.session.execute(
        select(InquiryRegion.region_code, func.count())
        .join(Inquiry, Inquiry.id == InquiryRegion.inquiry_id)
        .where(_in_period(period))
        .group_by(InquiryRegion.region_code)
        .order_by(func.count().desc(), InquiryRegion.region_code)
    ).all()


def response_times(period: Period, now=None) -> dict:
    """Median and 9-in-10 hours to the first response of the period's inquiries, and how many
    were answered within their target (two statements)."""
    now = now or utcnow()
    in_period = _in_period(period)
    responded = and_(in_period, Inquiry.first_response_at.is_not(None))
    response_hours = select(hours_between(Inquiry.first_response_at, Inquiry.created_at)).where(
        responded
    )
    median, p90 = percentiles(response_hours, 0.5, 0.9)
    # Within target: answered by the deadline, out of every inquiry whose result is known —
    # answered, or still awaiting an answer past its deadline (response_overdue), which is late
    # as surely as a late answer. One awaiting an answer before its deadline is not yet known.
    on_time = Inquiry.first_response_at <= Inquiry.first_response_due_at
    known = or_(Inquiry.first_response_at.is_not(None), Inquiry.response_overdue(now))
    within = db.session.execute(
        select(func.count(), func.sum(case((on_time, 1), else_=0))).where(
            in_period, Inquiry.first_response_due_at.is_not(None), known
        )
    ).one()
    return {"median_hours": median, "p90_hours": p90, "within_target": (within[1] or 0, within[0])}


def ageing(now=None) -> list[tuple[str, int]]:
    """Open inquiries by days since they arrived, in the buckets people talk about."""
    now = now or utcnow()
    bounded = AGE_BUCKETS[:-1]  # the last bucket is everything older
    bucket = case(
        *(
            (Inquiry.created_at > now - timedelta(days=highest + 1), literal_column(str(index)))
            for index, (_, _, highest) in enumerate(bounded)
        ),
        else_=literal_column(str(len(bounded))),
    )
    counts = dict(
        db.session.execute(
            select(bucket, func.count()).where(Inquiry.status.in_(OPEN_STATUSES)).group_by(bucket)
        ).all()
    )
    return [(label, counts.get(index, 0)) for index, (label, _, _) in enumerate(AGE_BUCKETS)]


def overdue_now(now=None) -> int:
    """Inquiries awaiting a first response past their deadline today, whenever they came."""
    return db.session.scalar(
        select(func.count()).select_from(Inquiry).where(Inquiry.response_overdue(now or utcnow()))
    )


def outcomes_per_year() -> list[tuple[int, dict]]:
    """Agreed, declined and withdrawn inquiries per year of their outcome, closed or not."""
    year = local_year(Inquiry.closed_at)
    rows = db.session.execute(
        select(year, Inquiry.outcome, func.count())
        .where(Inquiry.outcome.in_(GENUINE_OUTCOMES), Inquiry.closed_at.is_not(None))
        .group_by(year, Inquiry.outcome)
        .order_by(year)
    ).all()
    table: dict[int, dict] = {}
    for row_year, outcome, count in rows:
        counts = table.setdefault(int(row_year), dict.fromkeys(GENUINE_OUTCOMES, 0))
        counts[Outcome(outcome)] = count
    return sorted(table.items())


# ---- the yearly report (årsrapport) -------------------------------------------------------


def yearly_report(year: int, now=None) -> dict:
    """The board's yearly report: the year's inquiries by category, län, organisation type and
    channel, outcomes, response times against the target, the agreed collaborations, the
    standing partners' dialogue, and the same key figures for the year before. A fixed number
    of statements, whatever the year holds."""
    now = now or utcnow()
    period = Period(year)
    return {
        "year": year,
        "summary": year_summary(period, now),
        "previous": year_summary(Period(year - 1), now),
        "by_category": counts_by(Inquiry.category, period),
        "by_region": counts_by_region(period),
        "by_type": counts_by(Inquiry.organisation_type, period),
        "by_channel": counts_by(Inquiry.channel, period),
        "agreed": agreed_collaborations(period, LISTED_IN_REPORT),
        "dialogue": partner_dialogue(period, LISTED_IN_REPORT),
    }


def year_summary(period: Period, now=None) -> dict:
    """The key figures the report compares between years: new inquiries, outcomes reached,
    and response times (four statements)."""
    total = db.session.scalar(select(func.count()).select_from(Inquiry).where(_in_period(period)))
    median_days, p90_days = working_days_to_response(period)
    return {
        "total": total,
        "outcomes": outcomes_in(period),
        **response_times(period, now),
        "median_days": median_days,
        "p90_days": p90_days,
    }


def working_days_to_response(period: Period) -> tuple[int | None, int | None]:
    """Median and 9-in-10 first-response times of the period's inquiries in Swedish working
    days, counted as the target counts them (working days that ended between arrival and
    response, less those given back for time on hold: 0 is the same working day), nearest
    rank like the hours (two statements)."""
    from crm.workdays.services import WorkingDayCounter, closure_days

    rows = db.session.execute(
        select(Inquiry.created_at, Inquiry.first_response_at, Inquiry.response_paused_days).where(
            _in_period(period), Inquiry.first_response_at.is_not(None)
        )
    ).all()
    answered = [row for row in rows if row.first_response_at >= row.created_at]
    counter = WorkingDayCounter(
        [(created, responded) for created, responded, _paused in answered],
        closure_days(start=period.first_day),
    )
    days = sorted(
        max(counter.between(created, responded) - (paused or 0), 0)
        for created, responded, paused in answered
    )
    return tuple(nearest_rank(days, fraction) for fraction in (0.5, 0.9))


def nearest_rank(ordered: list, fraction: float):
    """The nearest-rank percentile of sorted values, as `percentiles` computes it in SQL."""
    if not ordered:
        return None
    return ordered[(len(ordered) * round(fraction * 100) + 99) // 100 - 1]


def outcomes_in(period: Period) -> dict[Outcome, int]:
    """Agreed, declined and withdrawn inquiries by the moment of their outcome (`closed_at`),
    as the dashboard's outcomes per year counts them."""
    counts = dict(
        db.session.execute(
            select(Inquiry.outcome, func.count())
            .where(
                Inquiry.outcome.in_(GENUINE_OUTCOMES),
                Inquiry.closed_at >= period.start,
                Inquiry.closed_at < period.end,
            )
            .group_by(Inquiry.outcome)
        ).all()
    )
    return {outcome: counts.get(outcome, 0) for outcome in GENUINE_OUTCOMES}


# The yearly report lists at most this many rows per list (a council agrees a few dozen
# collaborations a year and has a handful of standing partners); beyond it the report says how
# many there are and links to the list or register that shows them all.
LISTED_IN_REPORT = 200


def agreed_collaborations(period: Period, limit: int) -> dict:
    """The first `limit` inquiries agreed in the period, in the order they were agreed
    (reference, subject, partner organisation: the linked register entry, else the name given,
    category, when), and how many were agreed in all (one statement)."""
    rows = db.session.execute(
        select(
            Inquiry.reference,
            Inquiry.subject,
            func.coalesce(Organisation.name, Inquiry.organisation_name).label("organisation"),
            Inquiry.organisation_id,
            Inquiry.category,
            Inquiry.closed_at,
            func.count().over().label("total"),
        )
        .outerjoin(Organisation, Organisation.id == Inquiry.organisation_id)
        .where(
            Inquiry.outcome == Outcome.AGREED,
            Inquiry.closed_at >= period.start,
            Inquiry.closed_at < period.end,
        )
        .order_by(Inquiry.closed_at, Inquiry.id)
        .limit(limit)
    ).all()
    return {"rows": rows, "total": rows[0].total if rows else 0}


def partner_dialogue(period: Period, limit: int) -> dict:
    """The dialogue with the standing partners (relationship `active_partner`): the first
    `limit` follow-ups on them completed in the period, the first `limit` partners with none,
    and how many there are of each (two statements)."""
    from crm.activity.models import FollowUp
    from crm.choices import Relationship

    completed = and_(FollowUp.completed_at >= period.start, FollowUp.completed_at < period.end)
    standing = Organisation.relationship == Relationship.ACTIVE_PARTNER
    total = func.count().over().label("total")
    done = db.session.execute(
        select(Organisation.id, Organisation.name, FollowUp.title, FollowUp.completed_at, total)
        .join(FollowUp, FollowUp.organisation_id == Organisation.id)
        .where(standing, completed)
        .order_by(Organisation.name, Organisation.id, FollowUp.completed_at, FollowUp.id)
        .limit(limit)
    ).all()
    silent = db.session.execute(
        select(Organisation.id, Organisation.name, total)
        .where(
            standing,
            ~select(FollowUp.id)
            .where(FollowUp.organisation_id == Organisation.id, completed)
            .exists(),
        )
        .order_by(Organisation.name, Organisation.id)
        .limit(limit)
    ).all()
    return {
        "completed": done,
        "without": silent,
        "total": sum(rows[0].total for rows in (done, silent) if rows),
    }
