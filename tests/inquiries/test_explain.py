"""On PostgreSQL, the list and search queries use their indexes at realistic sizes."""

import os
from datetime import timedelta

import pytest
from sqlalchemy import insert, text

from crm.inquiries.models import Inquiry
from crm.inquiries.queries import InquiryFilters, filtered, search_condition
from crm.timeutil import utcnow

pytestmark = pytest.mark.skipif(
    "postgresql" not in (os.environ.get("DATABASE_URL") or ""),
    reason="query plans are PostgreSQL's; SQLite's search index is checked by the search tests",
)


@pytest.fixture
def many(db):
    now = utcnow()
    rows = [
        {
            "reference": f"SAM-2030-{n:05d}", "organisation_name": f"Förening {n}",
            "organisation_type": "museum", "contact_name": f"Person {n}",
            "email": f"p{n}@exempel.se",
            "category": ["exhibition", "research", "education"][n % 3],
            "subject": f"Utställning nummer {n}" + (" textilhantverk" if n % 997 == 0 else ""),
            "message": "Vi vill samarbeta om en utställning i länet.", "addressee": "no_preference",
            "status": ["new", "triaged", "agreed", "closed"][n % 4], "priority": "normal",
            "channel": "web_form", "version": 1, "assignee_id": None,
            "created_at": now - timedelta(minutes=n), "updated_at": now,
            "first_response_due_at": now - timedelta(minutes=n) + timedelta(days=7),
        }
        for n in range(20_000)
    ]  # fmt: skip
    db.session.execute(insert(Inquiry), rows)
    # Earlier tests' rolled-back inquiries leave entries in the GIN index's pending list, which
    # the planner costs dearly: with a few hundred of them the trigram plan (1 780 fresh)
    # passed the sequential scan (2 066). Flushing the list makes the plan not depend on how
    # many tests ran before; production's autovacuum does the same.
    db.session.execute(text("SELECT gin_clean_pending_list('ix_inquiries_search_trgm')"))
    db.session.execute(text("ANALYZE inquiries"))


def plan(db, query) -> str:
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    return "\n".join(row[0] for row in db.session.execute(text(f"EXPLAIN {compiled}")))


def test_rare_word_search_uses_the_trigram_index(db, many):
    query = filtered(InquiryFilters(q="textilhantverk"), None).where(
        search_condition("textilhantverk")
    )
    assert "ix_inquiries_search_trgm" in plan(db, query.limit(51))


def test_default_list_page_reads_the_created_at_index(db, many):
    query = filtered(InquiryFilters(), None).order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
    text_plan = plan(db, query.limit(51))
    assert "ix_inquiries_created_at_id" in text_plan
    assert "Seq Scan on inquiries" not in text_plan


@pytest.mark.parametrize("status", ["new", "on_hold"])
def test_status_filter_never_scans_the_table(db, many, status):
    """A common status walks the date index; a rare one (none here) the status index."""
    query = filtered(InquiryFilters(status=status), None).order_by(
        Inquiry.created_at.desc(), Inquiry.id.desc()
    )
    text_plan = plan(db, query.limit(51))
    assert "Seq Scan on inquiries" not in text_plan
    assert "Index" in text_plan
    if status == "on_hold":  # rare: an index looks the status up (which one is the planner's call)
        assert "Index Cond: ((status)::text = 'on_hold'::text)" in text_plan


def test_inbox_follow_ups_stop_at_the_page_without_sorting(db):
    """A busy person's first open follow-ups come from the partial index in due order."""
    from crm.activity.models import FollowUp
    from crm.activity.queries import follow_ups_due_query
    from tests.factories import OrganisationFactory, UserFactory

    owner, organisation = UserFactory(), OrganisationFactory()
    db.session.flush()
    today = utcnow().date()
    db.session.execute(
        insert(FollowUp),
        [
            {"title": f"Ring {n}", "due_on": today - timedelta(days=n % 400), "owner_id": owner.id,
             "organisation_id": organisation.id, "recurrence": "none",
             "completed_at": utcnow() if n % 2 else None}
            for n in range(5_000)
        ],
    )  # fmt: skip
    db.session.execute(text("ANALYZE follow_ups"))
    text_plan = plan(db, follow_ups_due_query(owner, until=today))
    assert "ix_follow_ups_owner_open_due" in text_plan
    assert "Sort" not in text_plan


def test_inbox_groups_use_their_indexes(db, many):
    from crm.inquiries.queries import inbox_queries
    from tests.factories import UserFactory

    me = UserFactory()
    db.session.flush()
    db.session.execute(
        text("UPDATE inquiries SET assignee_id = :me WHERE id % 20 = 0"), {"me": me.id}
    )
    db.session.execute(text("ANALYZE inquiries"))
    for name, query in inbox_queries(me).items():
        text_plan = plan(db, query)
        assert "Seq Scan on inquiries" not in text_plan, (name, text_plan)
        assert "Index" in text_plan, (name, text_plan)


def test_handed_over_unopened_group_reads_its_partial_index(db, many):
    """Most of a busy person's inquiries have been opened; the few that have not come from the
    small partial index, newest first, without walking the rest."""
    from crm.inquiries.queries import inbox_queries
    from tests.factories import UserFactory

    me = UserFactory()
    db.session.flush()
    db.session.execute(
        text(
            "UPDATE inquiries SET assignee_id = :me, assignee_seen_at = created_at"
            " WHERE id % 4 <> 0"
        ),
        {"me": me.id},
    )
    db.session.execute(
        text(
            "UPDATE inquiries SET assignee_seen_at = NULL WHERE assignee_id = :me AND id % 97 = 0"
        ),
        {"me": me.id},
    )
    db.session.execute(text("ANALYZE inquiries"))
    text_plan = plan(db, inbox_queries(me)["unseen"])
    assert "ix_inquiries_assignee_unseen" in text_plan, text_plan
    assert "Seq Scan on inquiries" not in text_plan
    assert "Sort" not in text_plan


def test_dashboard_period_counts_read_the_created_at_index(db):
    """A quarter out of several years of inquiries is found by range, not by a full scan."""
    from sqlalchemy import func, select

    from crm.reports.queries import Period, _in_period

    now = utcnow()
    rows = [
        {
            "reference": f"SAM-2031-{n:05d}", "organisation_name": "F",
            "organisation_type": "museum", "contact_name": "P", "email": f"p{n}@exempel.se",
            "category": "research",
            "subject": "S", "message": "M", "addressee": "no_preference", "status": "closed",
            "priority": "normal", "channel": "web_form", "version": 1,
            "created_at": now - timedelta(hours=2 * n), "updated_at": now,
        }
        for n in range(20_000)
    ]  # fmt: skip
    db.session.execute(insert(Inquiry), rows)
    # Earlier tests' rolled-back inquiries leave entries in the GIN index's pending list, which
    # the planner costs dearly: with a few hundred of them the trigram plan (1 780 fresh)
    # passed the sequential scan (2 066). Flushing the list makes the plan not depend on how
    # many tests ran before; production's autovacuum does the same.
    db.session.execute(text("SELECT gin_clean_pending_list('ix_inquiries_search_trgm')"))
    db.session.execute(text("ANALYZE inquiries"))
    quarter = Period(year=now.year, quarter=(now.month - 1) // 3 + 1)
    text_plan = plan(
        db,
        select(Inquiry.category, func.count())
        .where(_in_period(quarter))
        .group_by(Inquiry.category),
    )
    assert "Seq Scan on inquiries" not in text_plan
    assert "created_at" in text_plan


def test_late_first_responses_come_from_the_awaiting_index(db, many):
    """Most inquiries have had their first response; the partial index holds only the rest,
    so a person's late ones are a range on (assignee, deadline) in it."""
    from crm.inquiries.queries import inbox_queries
    from tests.factories import UserFactory

    me = UserFactory()
    db.session.flush()
    db.session.execute(
        text("UPDATE inquiries SET first_response_at = created_at WHERE id % 10 <> 0")
    )
    db.session.execute(
        text("UPDATE inquiries SET assignee_id = :me WHERE id % 20 = 0"), {"me": me.id}
    )
    db.session.execute(text("ANALYZE inquiries"))
    text_plan = plan(db, inbox_queries(me)["overdue"])
    assert "Index Scan using ix_inquiries_awaiting_response" in text_plan, text_plan
    assert "Seq Scan on inquiries" not in text_plan, text_plan


def test_pipeline_columns_stop_at_their_cards_without_sorting(db, many):
    """Open columns read (status, created_at, id) and outcome columns (outcome, closed_at, id)
    in order: no column sorts the thousands of inquiries it holds."""
    from crm.inquiries.statuses import Outcome, Status
    from crm.reports.queries import RECENT_OUTCOMES, pipeline_cards

    db.session.execute(
        text(
            "UPDATE inquiries SET outcome = 'agreed', "
            "closed_at = now() - (id % 80) * interval '1 day' WHERE status = 'agreed'"
        )
    )
    db.session.execute(text("ANALYZE inquiries"))
    since = utcnow() - RECENT_OUTCOMES
    for key in (Status.NEW, Status.TRIAGED, Outcome.AGREED):
        text_plan = plan(db, pipeline_cards(key, []).params(recent_since=since))
        assert "Sort" not in text_plan, (key, text_plan)
        assert "Seq Scan on inquiries" not in text_plan, (key, text_plan)
