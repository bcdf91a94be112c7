"""The inquiry list as CSV and as Excel: one column definition, batches of plain rows,
formula-safe."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache, partial
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import DateTime, String, func, select, type_coerce

from crm.auth.models import User
from crm.choices import Category, Channel, OrganisationType
from crm.extensions import db
from crm.inquiries.models import Inquiry, InquiryRegion
from crm.inquiries.statuses import Outcome, Status
from crm.regions import regions


@dataclass(frozen=True)
class Column:
    """One column of the inquiry export, for CSV and Excel alike."""

    header: str
    width: int  # characters, for Excel
    kind: str = "label"  # label (our own words), text (typed by someone), moment, day


# The one column definition both formats write, in this order.
COLUMNS = (
    Column("Referens", 15), Column("Inkom", 17, "moment"), Column("Status", 14),
    Column("Utfall", 14), Column("Kanal", 12), Column("Organisation", 32, "text"),
    Column("Organisationstyp", 22), Column("Kontaktperson", 24, "text"),
    Column("E-post", 30, "text"), Column("Telefon", 18, "text"), Column("Kategori", 22),
    Column("Län", 26), Column("Rubrik", 48, "text"), Column("Etiketter", 28, "text"),
    Column("Ansvarig", 22, "text"),
    Column("Första svar", 12, "day"), Column("Avslutad", 12, "day"),
)  # fmt: skip
HEADER = tuple(column.header for column in COLUMNS)
BATCH = 1000
MAX_SELECTED = 1000  # a selection is what a person ticks on list pages; more is a filter's job

# CSV injection (CWE-1236, OWASP "CSV Injection"). A spreadsheet reads a cell as a formula when
# it starts with = + - @ (or a tab or carriage return, which some programs skip first); a
# full-width = + - @ or the minus sign U+2212 may be read the same way, and so may any of them
# after leading spaces or invisible format characters (zero-width space, BOM, word joiner). What
# makes a formula harmful is a function call (HYPERLINK, WEBSERVICE, DDE `cmd|…!A0`) or a cell
# reference, and both need a letter followed by a digit, a bracket or one of ! | : $. So a cell
# starting with + or - stays as it is when it cannot be either: a phone number (+46 70-123 45 67,
# at least PHONE_DIGITS digits, so that `+1-1` is not one), a plain number (-5, +3,5), or words
# (-Anna, - Anna). Everything else that starts with a trigger gets an apostrophe, which Excel
# hides and shows the text.
ALWAYS = frozenset("=@\t\r\n\uff1d\uff20")
SIGNS = frozenset("+-\u2212\uff0b\uff0d")
PHONE = re.compile(r"\+\d[\d \-()/.]*")  # a phone number in international form
PHONE_DIGITS = 7  # the shortest international numbers; fewer digits is arithmetic (+1-1)
HARMLESS_AFTER_SIGN = re.compile(
    r"""
    [+\-\u2212]?\d+(?:[.,]\d+)?  # a plain number
    | [+\-\u2212\uff0b\uff0d]\s*(?:[^\W\d_]+(?:[ .,'’\-]+[^\W\d_]+)*[ .,]*)?  # words, or a sign
    """,
    re.VERBOSE,
)


def neutralise(value: str | None) -> str:
    """The cell as CSV may hold it: an apostrophe before anything a spreadsheet would run."""
    if not value:
        return ""
    cell = "'" + value if _runs(value) else value
    if not SEPARATOR.search(value):
        return cell
    # A file written with `,` and opened by Excel with Swedish settings is split on `;` (and
    # the other way round), and once such a reader has met a quote in mid-field it takes the
    # rest of the line unquoted: every `,` `;` tab or line break in a value may start a cell.
    parts = SEPARATOR.split(cell)
    for index in range(2, len(parts), 2):
        if _runs(parts[index], after_separator=True):
            parts[index] = "'" + parts[index]
    return "".join(parts)


SEPARATOR = re.compile(r"([,;\t\r\n])")


def _runs(value: str, after_separator: bool = False) -> bool:
    """Whether a spreadsheet could read the cell as a formula worth running."""
    if not value:
        return False
    stripped = _without_leading_blanks(value, quotes=after_separator)
    first = stripped[:1]
    if value[0] in ALWAYS or first in ALWAYS:
        return True
    return first in SIGNS and not _harmless_after_sign(stripped)


def _without_leading_blanks(value: str, quotes: bool = False) -> str:
    """The value from its first character that is neither whitespace nor an invisible format
    character (Unicode category Cf: zero-width space, BOM, word joiner…), nor a double quote
    when `quotes` (a cell a reader starts in mid-value may open with one)."""
    start = 0
    while start < len(value) and (
        value[start].isspace()
        or unicodedata.category(value[start]) == "Cf"
        or (quotes and value[start] == '"')
    ):
        start += 1
    return value[start:]


def _harmless_after_sign(text: str) -> bool:
    if PHONE.fullmatch(text) and sum(character.isdigit() for character in text) >= PHONE_DIGITS:
        return True
    return HARMLESS_AFTER_SIGN.fullmatch(text) is not None


def selected_ids(values) -> list[int]:
    """The ids ticked on the list, each once; anything that is no id is dropped."""
    from crm.validation import MAX_ROW_ID, database_id

    ids = (database_id(value) for value in values)
    return sorted({found for found in ids if found is not None and 0 < found <= MAX_ROW_ID})


def selection_conditions(ids) -> list:
    """The export of ticked rows: those inquiries, whatever the filters (unknown ids match
    nothing)."""
    return [Inquiry.id.in_(list(ids))]


def inquiry_rows(conditions):
    """Every matching inquiry as plain values in COLUMNS order, a batch (list) at a time.

    Plain rows, not ORM objects, labels looked up once and regions aggregated by the
    database: memory stays flat and 100 000 rows take about two seconds. Times are Swedish
    (naive local datetimes), days are dates, empty values are None.
    """
    status, outcome, channel, organisation_type, category = (
        {member.value: member.label for member in enum}
        for enum in (Status, Outcome, Channel, OrganisationType, Category)
    )
    for labels in (outcome, channel, organisation_type, category):
        labels[None] = None
    # Few combinations of regions recur across 100 000 rows: name each combination once.
    names = {code: str(name) for code, name in regions().items()}
    region_list = lru_cache(maxsize=2048)(partial(_region_list, names=names))
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    query = (
        select(
            Inquiry.reference, _moment(Inquiry.created_at), _text(Inquiry.status),
            _text(Inquiry.outcome), _text(Inquiry.channel), Inquiry.organisation_name,
            _text(Inquiry.organisation_type), Inquiry.contact_name, Inquiry.email, Inquiry.phone,
            _text(Inquiry.category),
            _region_codes(), Inquiry.subject, _tag_names(), User.name,
            _moment(Inquiry.first_response_at),
            _moment(Inquiry.closed_at),
        )
        .outerjoin(User, User.id == Inquiry.assignee_id)
        .where(*conditions)
        .order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
    )  # fmt: skip
    result = db.session.execute(query, execution_options={"yield_per": BATCH})
    for batch in result.partitions():
        yield [
            (
                reference, _local(created_at, zone).replace(tzinfo=None, second=0,
                microsecond=0), status[state], outcome[ending], channel[via],
                organisation_name, organisation_type[kind], contact_name, email, phone,
                category[about], region_list(codes), subject, _tag_list(tags), assignee,
                _day(first_response_at, zone), _day(closed_at, zone),
            )
            for (
                reference, created_at, state, ending, via, organisation_name, kind, contact_name,
                email, phone, about, codes, subject, tags, assignee, first_response_at, closed_at,
            ) in batch
        ]  # fmt: skip


def csv_rows(conditions, delimiter: str = ","):
    """Yield the CSV a batch at a time: a BOM and the header, then every matching inquiry."""
    cells = tuple(_CSV_CELL[column.kind] for column in COLUMNS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER)
    yield "\ufeff" + _take(buffer)
    for batch in inquiry_rows(conditions):
        writer.writerows(
            [cell(value) for cell, value in zip(cells, row, strict=True)] for row in batch
        )
        yield _take(buffer)


_CSV_CELL = {
    "label": lambda value: value or "",
    "text": neutralise,
    "moment": lambda value: value.isoformat(" ", "minutes"),
    "day": lambda value: value.isoformat() if value else "",
}


def xlsx_file(conditions, sheet_name: str = "Förfrågningar"):
    """The same rows as an Excel workbook in a temporary file, rewound, for send_file.

    XlsxWriter's constant-memory mode writes each row to disk as it goes, so memory stays flat
    however many rows there are. Every text is written as a string: never a formula, a link or
    a number, whatever it starts with; times and days are real Excel dates.
    """
    import tempfile

    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (send_file closes it)
    try:
        _write_workbook(handle, conditions, sheet_name)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle


def _write_workbook(handle, conditions, sheet_name: str) -> None:
    import tempfile

    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        handle,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "tmpdir": tempfile.gettempdir(),
        },
    )
    sheet = workbook.add_worksheet(sheet_name)
    bold = workbook.add_format({"bold": True})
    formats = {
        "moment": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "day": workbook.add_format({"num_format": "yyyy-mm-dd"}),
    }
    for index, column in enumerate(COLUMNS):
        sheet.set_column(index, index, column.width)
        sheet.write_string(0, index, column.header, bold)
    sheet.freeze_panes(1, 0)
    writers = [
        partial(_write_date, sheet, formats[column.kind])
        if column.kind in formats
        else sheet.write_string
        for column in COLUMNS
    ]
    row_number = 0
    for batch in inquiry_rows(conditions):
        for row in batch:
            row_number += 1
            for index, value in enumerate(row):
                if value:  # None and "" stay empty cells
                    writers[index](row_number, index, value)
    sheet.autofilter(0, 0, row_number, len(COLUMNS) - 1)
    workbook.close()


def _write_date(sheet, cell_format, row: int, column: int, value) -> None:
    sheet.write_datetime(row, column, value, cell_format)


# The export reads a few hundred thousand values: it takes them as the driver gives them (plain
# text, and datetimes that are naive UTC on SQLite) and converts each once, in the loop.
def _text(column):
    return type_coerce(column, String())


def _moment(column):
    return type_coerce(column, DateTime(timezone=True))


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)


def _region_codes():
    """The inquiry's region codes, comma-separated, as one column of the main query."""
    code = InquiryRegion.region_code
    aggregate = (
        func.string_agg(code, ",")
        if db.engine.dialect.name == "postgresql"
        else func.group_concat(code, ",")
    )
    return (
        select(aggregate)
        .where(InquiryRegion.inquiry_id == Inquiry.id)
        .correlate(Inquiry)
        .scalar_subquery()
    )


# Tag names hold no control characters, so this one separates them safely in the aggregate.
TAG_SEPARATOR = "\x1f"


def _tag_names():
    """The inquiry's tag names as one column of the main query (sorted in Python: SQLite's
    group_concat has no order)."""
    from crm.tags.models import Tag, inquiry_tags

    aggregate = (
        func.string_agg(Tag.name, TAG_SEPARATOR)
        if db.engine.dialect.name == "postgresql"
        else func.group_concat(Tag.name, TAG_SEPARATOR)
    )
    return (
        select(aggregate)
        .select_from(inquiry_tags)
        .join(Tag, Tag.id == inquiry_tags.c.tag_id)
        .where(inquiry_tags.c.inquiry_id == Inquiry.id)
        .correlate(Inquiry)
        .scalar_subquery()
    )


def _tag_list(names: str | None) -> str | None:
    if not names:
        return None
    return ", ".join(sorted(names.split(TAG_SEPARATOR), key=str.casefold))


def _region_list(codes: str | None, names: dict[str, str]) -> str:
    if not codes:
        return ""
    return ", ".join(names.get(code, code) for code in sorted(codes.split(",")))


def _day(moment, zone) -> date | None:
    return _local(moment, zone).date() if moment else None


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
