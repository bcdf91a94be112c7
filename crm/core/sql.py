"""SQL helpers shared by every feature."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


def like_pattern(term: str) -> str:
    """A LIKE pattern that matches the term as plain text (%, _ and \\ escaped)."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class unindexed(ColumnElement):
    """The column, with SQLite told not to drive an index with it (`+column`).

    SQLite's planner prefers an index with more equality columns even when a small partial
    index would read a fraction of the rows: for "my inquiries awaiting a first response,
    in these statuses" it took (assignee, status, …) and read every open inquiry of the
    person instead of the partial index of the few awaiting one. PostgreSQL weighs the
    partial index correctly, so there the column is written as it is.
    """

    inherit_cache = True
    _traverse_internals: ClassVar = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column) -> None:
        self.column = column
        self.type = column.type


@compiles(unindexed)
def _compile_unindexed(element, compiler, **kw) -> str:
    return compiler.process(element.column, **kw)


@compiles(unindexed, "sqlite")
def _compile_unindexed_sqlite(element, compiler, **kw) -> str:
    return "+" + compiler.process(element.column, **kw)
