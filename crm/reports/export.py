"""The inquiry list as CSV for Excel: streamed, formula-safe, audited."""

from __future__ import annotations

import csv
import io

from crm.extensions import db
from crm.inquiries.models import Inquiry
from crm.inquiries.queries import InquiryFilters, filtered
from crm.regions import region_name

COLUMNS = (
    ("Referens", lambda i: i.reference),
    ("Inkom", lambda i: i.created_at.strftime("%Y-%m-%d %H:%M")),
    ("Status", lambda i: i.status.label),
    ("Kanal", lambda i: i.channel.label),
    ("Organisation", lambda i: i.organisation_name),
    ("Organisationstyp", lambda i: i.organisation_type.label),
    ("Kontaktperson", lambda i: i.contact_name),
    ("E-post", lambda i: i.email),
    ("Telefon", lambda i: i.phone or ""),
    ("Kategori", lambda i: i.category.label),
    ("Län", lambda i: ", ".join(region_name(code) for code in i.regions)),
    ("Rubrik", lambda i: i.subject),
    ("Ansvarig", lambda i: i.assignee.name if i.assignee else ""),
    (
        "Första svar",
        lambda i: i.first_response_at.strftime("%Y-%m-%d") if i.first_response_at else "",
    ),
    ("Avslutad", lambda i: i.closed_at.strftime("%Y-%m-%d") if i.closed_at else ""),
)
# Characters that make a spreadsheet read a cell as a formula (CWE-1236).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000


def neutralise(value: str) -> str:
    """Prefix a formula-looking cell with an apostrophe, so Excel shows it as text."""
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_rows(filters: InquiryFilters, user, delimiter: str = ","):
    """Yield the CSV a few rows at a time: a BOM, the header, then every matching inquiry."""
    from sqlalchemy.orm import selectinload

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([name for name, _ in COLUMNS])
    yield "\ufeff" + flush()
    query = (
        filtered(filters, user)
        .options(selectinload(Inquiry.region_links))
        .order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
        .execution_options(yield_per=BATCH)
    )
    for count, inquiry in enumerate(db.session.scalars(query), start=1):
        writer.writerow([neutralise(str(get(inquiry))) for _, get in COLUMNS])
        if count % 200 == 0:
            yield flush()
    yield flush()
