"""SQL helpers shared by every feature."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import and_, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


def like_pattern(term: str) -> str:
    """A LIKE pattern that matches the term as plain text (%, _ and \\ escaped)."""
    return f"%{_like_escaped(term.lower())}%"


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def fold(value: str | None) -> str | None:
    """Every letter lower-cased, as search words are; on SQLite it is the SQL function fold()
    of every connection (crm.database)."""
    return None if value is None else str(value).lower()


def _on_sqlite() -> bool:
    from crm.extensions import db

    return db.engine.dialect.name == "sqlite"


def folded(column):
    """The column with every letter lower-cased. PostgreSQL's lower() does that (by the
    database's locale: C.UTF-8 or a language's), and its trigram indexes are built on lower(…).
    SQLite's lower() folds A–Z only ("ÖREBRO" becomes "Örebro"), so there it is fold(), which
    calls into Python for each row: about four times the cost of lower()."""
    return func.fold(column) if _on_sqlite() else func.lower(column)


def contains_word(column, word: str):
    """The column contains the word in any case (the word lower-cased, as search words are).

    lower() serves a word of A–Z letters on both databases, and any word on PostgreSQL. On
    SQLite a word with other letters ("örebro") is compared with the column folded in Python,
    after a LIKE on lower() with each such letter as any one character ("_rebro"), so that the
    rows that cannot match do not pay for the call (for a word of one or two letters, nearly
    every row can).
    """
    pattern = like_pattern(word)
    if word.isascii() or not _on_sqlite():
        return func.lower(column).like(pattern, escape="\\")
    rough = "".join(_like_escaped(char) if char.isascii() else "_" for char in word.lower())
    return and_(
        func.lower(column).like(f"%{rough}%", escape="\\"),
        func.fold(column).like(pattern, escape="\\"),
    )


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
