"""Keyset paging, where the rule lives: every row once, in order, in both directions and both
sort orders, ties on the sort column included."""

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.core.paging import beyond, decode_cursor, encode_cursor, keyset_page
from crm.models import Inquiry
from tests.factories import InquiryFactory

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# Seven rows; three share one moment and two another, so the id must break the ties. They are
# made out of time order, so a later moment does not always come with a higher id.
OFFSETS = [9, 0, 5, 12, 0, 5, 0]


@pytest.fixture
def rows(db):
    made = [InquiryFactory(created_at=BASE + timedelta(minutes=m)) for m in OFFSETS]
    return sorted(made, key=lambda i: (i.created_at, i.id))


def page(descending, after=None, before=None, size=3):
    return keyset_page(
        select(Inquiry), Inquiry.created_at, Inquiry.id,
        descending=descending, after=after, before=before, size=size,
    )  # fmt: skip


def ids(found):
    return [row.id for row in found.items]


def walk_forward(descending):
    pages, cursor = [], None
    while True:
        found = page(descending, after=cursor)
        pages.append(found)
        if found.next_cursor is None:
            return pages
        cursor = found.next_cursor


@pytest.mark.parametrize("descending", [True, False], ids=["newest-first", "oldest-first"])
def test_walking_forward_gives_every_row_once_in_order(rows, descending):
    expected = [r.id for r in (reversed(rows) if descending else rows)]
    pages = walk_forward(descending)
    assert [ids(p) for p in pages] == [expected[0:3], expected[3:6], expected[6:7]]
    assert pages[0].prev_cursor is None  # the first page has nothing before it
    assert all(p.prev_cursor is not None for p in pages[1:])
    assert pages[-1].next_cursor is None


@pytest.mark.parametrize("descending", [True, False], ids=["newest-first", "oldest-first"])
def test_walking_back_gives_the_same_pages_in_reverse(rows, descending):
    forward = walk_forward(descending)
    back, cursor = [forward[-1]], forward[-1].prev_cursor
    while cursor:
        found = page(descending, before=cursor)
        back.append(found)
        cursor = found.prev_cursor
    assert [ids(p) for p in reversed(back)] == [ids(p) for p in forward]
    assert back[-1].prev_cursor is None
    assert all(p.next_cursor is not None for p in back[1:])


@pytest.mark.parametrize("descending", [True, False], ids=["newest-first", "oldest-first"])
def test_a_cursor_is_exclusive_on_the_tie(rows, descending):
    """The row a cursor names is never on the next page, even when others share its moment."""
    first = page(descending, size=2)
    second = page(descending, after=first.next_cursor, size=2)
    assert not set(ids(first)) & set(ids(second))
    back = page(descending, before=second.prev_cursor, size=2)
    assert ids(back) == ids(first)


def test_a_page_that_exactly_fills_has_no_next(rows):
    assert page(True, size=len(rows)).next_cursor is None
    assert page(True, size=len(rows) - 1).next_cursor is not None


def test_cursors_round_trip_and_foreign_ones_are_ignored(rows, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Stockholm")  # the server's own zone must not leak in
    time.tzset()
    moment = BASE + timedelta(microseconds=123456)
    summer = moment.astimezone(ZoneInfo("Europe/Stockholm"))
    try:
        assert decode_cursor(encode_cursor(summer, 42)) == (moment, 42)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    for junk in ("", None, "garbage", "20260301T120000.000000_x", "2026_1"):
        assert decode_cursor(junk) is None
    assert ids(page(True, after="garbage")) == ids(page(True))


def test_after_wins_when_both_cursors_are_given(rows):
    first = page(True)
    second = page(True, after=first.next_cursor)
    assert ids(page(True, after=first.next_cursor, before=second.prev_cursor)) == ids(second)


def test_beyond_in_python_terms(db, rows):
    """`beyond` selects exactly the rows strictly past the cursor, both ways."""
    pivot = rows[1]  # shares its moment with rows[0] and rows[2]
    cursor = (pivot.created_at, pivot.id)
    assert rows[0].created_at == pivot.created_at == rows[2].created_at
    after = db.session.scalars(
        select(Inquiry.id).where(beyond(Inquiry.created_at, Inquiry.id, cursor, before=False))
    ).all()
    before = db.session.scalars(
        select(Inquiry.id).where(beyond(Inquiry.created_at, Inquiry.id, cursor, before=True))
    ).all()
    assert sorted(before) == sorted(r.id for r in rows[:1])
    assert sorted(after) == sorted(r.id for r in rows[2:])
