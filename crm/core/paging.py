"""Keyset pagination: pages walked by (sort column, id) cursors, never by OFFSET, so the last
page costs what the first does and a row added meanwhile never shows twice or goes missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, or_

from crm.extensions import db
from crm.validation import database_id

STAMP = "%Y%m%dT%H%M%S.%f"


@dataclass
class Page:
    items: list
    next_cursor: str | None
    prev_cursor: str | None


def encode_cursor(moment: datetime, row_id: int) -> str:
    return f"{moment.astimezone(UTC).strftime(STAMP)}_{row_id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (moment, id) a cursor names; None for no cursor or one we did not make."""
    if not cursor:
        return None
    try:
        stamp, row_id = cursor.split("_", 1)
        moment = datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None
    row_id = database_id(row_id)
    return None if row_id is None else (moment, row_id)


def beyond(column, id_column, cursor: tuple[datetime, int], before: bool):
    """Rows strictly past the cursor in (column, id) order: before it, or after it.

    `(a, b) < (x, y)` is what is meant, but SQLite does not drive an index from a row-value
    comparison; `a <= x AND (a < x OR id < y)` gives both planners a range on `a`.
    """
    moment, row_id = cursor
    if before:
        return and_(column <= moment, or_(column < moment, id_column < row_id))
    return and_(column >= moment, or_(column > moment, id_column > row_id))


def keyset_page(
    query, column, id_column, *, descending: bool, after: str | None, before: str | None,
    size: int,
) -> Page:  # fmt: skip
    """One page of `query` in (column, id) order, descending or ascending.

    `after` walks on from a page's last row; `before` walks back from a page's first row (it
    reads the rows in reverse and turns them round). A cursor that does not decode is ignored.
    """
    forward = decode_cursor(after)
    backward = None if forward else decode_cursor(before)
    if forward:
        query = query.where(beyond(column, id_column, forward, before=descending))
    elif backward:
        query = query.where(beyond(column, id_column, backward, before=not descending))
    reverse = backward is not None
    newest_first = descending != reverse
    ordering = (column.desc(), id_column.desc()) if newest_first else (column, id_column)
    rows = list(db.session.scalars(query.order_by(*ordering).limit(size + 1)).unique())
    more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()
    has_next = more if not reverse else True
    has_prev = (forward is not None) or (reverse and more)

    def cursor_of(row):
        return encode_cursor(getattr(row, column.key), getattr(row, id_column.key))

    return Page(
        items=rows,
        next_cursor=cursor_of(rows[-1]) if rows and has_next else None,
        prev_cursor=cursor_of(rows[0]) if rows and has_prev else None,
    )
