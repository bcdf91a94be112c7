"""Review of issue 18 (exports, yearly report, drill-down): the holes found by probing, each
pinned by a test that failed before its fix, plus the probes that passed and must stay so."""

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from xml.dom.minidom import parseString

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from crm.inquiries.models import Inquiry
from crm.inquiries.queries import InquiryFilters, filter_conditions
from crm.inquiries.statuses import Outcome, Status
from crm.reports.export import neutralise
from crm.reports.queries import yearly_report
from tests.factories import InquiryFactory


def at(year, month, day, hour=9, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ---- CSV injection (ASVS 5.3.1) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # invisible format characters before a trigger: whitespace to a reader, not to lstrip
        ("\u200b=1+1", "'\u200b=1+1"),
        ("\ufeff=HYPERLINK(1)", "'\ufeff=HYPERLINK(1)"),
        ("\u2060@SUM(1)", "'\u2060@SUM(1)"),
        ("\u200d-2+3", "'\u200d-2+3"),
        ("\u200b\u00a0+SUM(1)", "'\u200b\u00a0+SUM(1)"),
        # short arithmetic is no phone number: neutralised as -2-3 already is
        ("+1-1", "'+1-1"),
        ("+1/0", "'+1/0"),
        ("+2 -3", "'+2 -3"),
        ("-1+1", "'-1+1"),
        ("=1", "'=1"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t'=1"),
        ("\r=1", "'\r'=1"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("\u3000=1", "'\u3000=1"),
        ("\uff0d1+1", "'\uff0d1+1"),
        # a cell a reader with the other separator would start in mid-value
        ("Acme;=HYPERLINK(1);-2+3", "Acme;'=HYPERLINK(1);'-2+3"),
        ('Acme, "=1+1', "Acme,' \"=1+1"),
        ("Rubrik\n@SUM(1)", "Rubrik\n'@SUM(1)"),
        ("x\t-A1", "x\t'-A1"),
        # still readable
        ("Rubrik, med komma", "Rubrik, med komma"),
        ("Anna, -Karin; +46 70-123 45 67", "Anna, -Karin; +46 70-123 45 67"),
        ("+46 70-123 45 67", "+46 70-123 45 67"),
        ("+4670 1234567", "+4670 1234567"),
        ("+1 (555) 010-9999", "+1 (555) 010-9999"),
        ("-Anna", "-Anna"),
        ("+5", "+5"),
        ("+3.5", "+3.5"),
        ("-12", "-12"),
        ("\u200bAnna", "\u200bAnna"),
    ],
)
def test_v5_3_1_neutralise_bypasses(value, expected):
    assert neutralise(value) == expected


@pytest.mark.parametrize(
    ("language", "query", "other"),
    [("en", "", ";"), ("sv", "", ","), ("sv", "?delimiter=comma", ";")],
)
def test_v5_3_1_a_cell_cannot_start_a_formula_in_a_reader_splitting_on_the_other_separator(
    client, db, login_as, language, query, other
):
    """A comma file opened by Excel with Swedish settings is split on semicolons (and the other
    way round): a value like `Acme;=HYPERLINK(…)` must still be one quoted field."""
    login_as("secretary_general")
    client.post("/language", data={"lang": language})
    payload = f'Acme{other}=HYPERLINK("http://evil.example"){other}-2+3'
    InquiryFactory(organisation_name=payload, subject=f"x{other}@SUM(1)")
    text = client.get("/export/inquiries.csv" + query).get_data(as_text=True)[1:]
    # read the way the other program does: its own separator, quotes respected
    for row in csv.reader(io.StringIO(text), delimiter=other):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), (cell, row)


def test_v8_2_1_exports_are_not_cached(client, db, login_as):
    login_as("secretary_general")
    InquiryFactory()
    for path in ("/export/inquiries.csv", "/export/inquiries.xlsx"):
        assert "no-store" in client.get(path).headers.get("Cache-Control", ""), path
    login_as("board")


# ---- Excel ---------------------------------------------------------------------------------


def read_xlsx(response):
    assert response.status_code == 200, response.text
    data = response.get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        for name in archive.namelist():
            if name.endswith(".xml"):
                # well-formed XML, or this raises (our own file: no external entities)
                parseString(archive.read(name))  # noqa: S318
    return load_workbook(io.BytesIO(data))


def test_xlsx_control_characters_and_long_text_give_a_valid_workbook(client, db, login_as):
    """XML 1.0 cannot hold \\x00–\\x08, \\x0b…; XlsxWriter escapes them as _xHHHH_ (Excel's own
    escape). Excel's cell limit is 32 767 characters; the columns hold at most 254 in the
    database, but SQLite does not enforce lengths, so the export must not break on more."""
    login_as("secretary_general")
    if db.engine.dialect.name != "sqlite":
        # PostgreSQL refuses both NUL and overlong text at the door, so they cannot be exported
        pytest.skip("only SQLite stores NUL bytes and text beyond the column's length")
    InquiryFactory(
        subject="a\x01b\x0bc\x00d\x1f", contact_name="_x0041_", organisation_name="x" * 40000
    )
    row = list(read_xlsx(client.get("/export/inquiries.xlsx")).active.iter_rows())[1]
    for cell in row:
        assert cell.data_type != "f"
        assert cell.hyperlink is None
    assert len(row[5].value) == 32767
    assert row[5].data_type == "s"
    assert "\x01" not in (row[12].value or "")  # escaped, not raw in the XML


# ---- who gets what -------------------------------------------------------------------------


def test_an_exporter_with_jav_gets_the_inquiry_as_the_list_shows_it(client, db, login_as):
    """Jäv stops acting, not reading (crm/inquiries/conflicts.py): the list shows the inquiry,
    so the export (filtered or ticked) has it too."""
    from crm.inquiries.models import ConflictDeclaration

    me = login_as("secretary_general")
    inquiry = InquiryFactory(subject="Jävig")
    db.session.add(ConflictDeclaration(inquiry_id=inquiry.id, user_id=me.id, reason="släkt"))
    db.session.commit()
    assert "Jävig" in client.get("/inquiries").get_data(as_text=True)
    assert "Jävig" in client.get("/export/inquiries.csv").get_data(as_text=True)


# ---- the yearly report's numbers -----------------------------------------------------------


def test_working_days_to_response_leave_out_the_days_on_hold(app, db):
    """The report says "working days as the target counts them": the target gives back the
    working days an inquiry spent on hold (`response_paused_days`), so must the figure."""
    # Monday 2025-03-03, answered Monday 2025-03-17: 10 working days ended meanwhile
    InquiryFactory(
        created_at=at(2025, 3, 3), first_response_at=at(2025, 3, 17, 10),
        response_paused_days=8, status=Status.IN_DIALOGUE,
    )  # fmt: skip
    db.session.commit()
    summary = yearly_report(2025, now=at(2026, 1, 15))["summary"]
    assert (summary["median_days"], summary["p90_days"]) == (2, 2)


def test_yearly_numbers_on_a_hand_built_year(app, db):
    """Odd and even counts, an answer after the year ended, an unanswered inquiry."""
    hours = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    for index, spent in enumerate(hours):
        created = at(2025, 6, 2 + index, 8)
        InquiryFactory(created_at=created, first_response_at=created + timedelta(hours=spent))
    InquiryFactory(created_at=at(2025, 12, 31, 20), first_response_at=at(2026, 1, 2, 20))  # 48 h
    InquiryFactory(created_at=at(2025, 7, 1), status=Status.NEW)  # never answered
    db.session.commit()
    summary = yearly_report(2025, now=at(2026, 1, 15))["summary"]
    assert summary["total"] == 14
    # 13 answered: nearest rank ceil(6.5)=7th → 7 h; ceil(11.7)=12th → 12 h
    assert (summary["median_hours"], summary["p90_hours"]) == pytest.approx((7.0, 12.0))


# ---- drill-down filters --------------------------------------------------------------------


def count(filters):
    return db_count(filter_conditions(filters, None))


def db_count(conditions):
    from crm.extensions import db

    return db.session.scalar(select(func.count()).select_from(Inquiry).where(*conditions))


def test_month_and_quarter_edges_in_swedish_time(app, db):
    """2026-03-31 23:30 Swedish (21:30 UTC) is March and Q1; 2026-12-31 23:30 Swedish (22:30
    UTC) is 2026, December, Q4."""
    InquiryFactory(created_at=at(2026, 3, 31, 21, 30))
    InquiryFactory(created_at=at(2026, 12, 31, 22, 30))
    args = lambda **a: InquiryFilters.from_args(MultiDict(a))  # noqa: E731
    assert count(args(year="2026", month="3")) == 1
    assert count(args(year="2026", quarter="1")) == 1
    assert count(args(year="2026", quarter="2")) == 0
    assert count(args(year="2026", month="12")) == 1
    assert count(args(year="2026", quarter="4")) == 1
    assert count(args(year="2027")) == 0


JUNK = ["", " ", "0", "5", "13", "-1", "1.5", "１", "٣", "²", "9" * 400, "abc", "2026abc",
        "%00", "'", "\\", "NaN", "1e3", "<b>", "\x00", "2026\n", "None", "[]"]  # fmt: skip


@pytest.mark.parametrize(
    "name", ["quarter", "month", "channel", "outcome_year", "age", "year", "outcome"]
)
def test_junk_in_drill_down_filters_never_breaks_the_list_or_the_exports(
    client, db, login_as, name
):
    login_as("secretary_general")
    InquiryFactory()
    for value in JUNK:
        for path in ("/inquiries", "/export/inquiries.csv"):
            query = {name: value, "year": "2026"} if name != "year" else {name: value}
            response = client.get(path, query_string=query)
            assert response.status_code == 200, (path, name, repr(value))
    for value in ["9" * 400, "-2025", "２０２５", "2026abc", "\u0662\u0660\u0662\u0665"]:
        for path in ("/dashboard/arsrapport", "/dashboard/arsrapport.xlsx", "/dashboard"):
            response = client.get(path, query_string={"year": value, "quarter": value})
            assert response.status_code == 200, (path, value)


# ---- access and audit (ASVS 4.1.1, 8.3.5) --------------------------------------------------


@pytest.mark.parametrize(
    ("role", "export", "report"),
    [("secretary_general", 200, 200), ("chair", 200, 200), ("board", 403, 200),
     ("admin", 403, 403)],
)  # fmt: skip
def test_v4_1_1_who_may_export_and_read_the_yearly_report(client, db, login_as, role, export,
                                                          report):  # fmt: skip
    login_as(role)
    inquiry = InquiryFactory()
    for path in ("/export/inquiries.csv", "/export/inquiries.xlsx"):
        assert client.get(path).status_code == export, path
        posted = client.post(path, data={"selected": [str(inquiry.id)]})
        assert posted.status_code == export, path
    for path in ("/dashboard/arsrapport", "/dashboard/arsrapport.xlsx"):
        assert client.get(path).status_code == report, path


def test_anonymous_goes_to_the_log_in_for_the_yearly_report(client, db):
    for path in ("/dashboard/arsrapport", "/dashboard/arsrapport.xlsx"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_v8_3_5_a_selection_export_audits_which_inquiries(client, db, login_as):
    """A count alone cannot tell a data subject whether their inquiry left the system; the ids
    (no personal data themselves) can."""
    from crm.models import AuditLog

    login_as("chair")
    first, second = InquiryFactory(), InquiryFactory()
    client.post("/export/inquiries.csv", data={"selected": [str(second.id), str(first.id)]})
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "personal_data_exported"))
    assert entry.details["selected"] == 2
    assert entry.details["inquiries"] == sorted([first.id, second.id])


def test_the_yearly_workbook_writes_typed_text_as_text(client, db, login_as):
    """Subjects and organisation names typed by outsiders reach the agreed collaborations."""
    login_as("board")
    InquiryFactory(
        subject='=HYPERLINK("http://evil.example","x")', organisation_name="http://evil.example",
        created_at=at(2025, 3, 3), status=Status.CLOSED, outcome=Outcome.AGREED,
        closed_at=at(2025, 5, 1),
    )  # fmt: skip
    workbook = read_xlsx(client.get("/dashboard/arsrapport.xlsx?year=2025"))
    seen = set()
    for sheet in workbook.worksheets:
        assert len(sheet.title) <= 31
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert cell.hyperlink is None
                seen.add(cell.value)
    assert '=HYPERLINK("http://evil.example","x")' in seen
    assert "http://evil.example" in seen


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_v5_1_5_an_empty_selection_goes_back_only_to_a_local_page(client, db, login_as, target):
    login_as("secretary_general")
    response = client.post("/export/inquiries.csv", data={"selected": ["x"], "next": target})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/")
    assert not response.headers["Location"].startswith(("//", "/\\"))


def test_periods_follow_swedish_time_at_midnight(app, db):
    InquiryFactory(created_at=at(2026, 3, 31, 22, 30))  # 2026-04-01 00:30 in Stockholm
    InquiryFactory(created_at=at(2026, 12, 31, 23, 30))  # 2027-01-01 00:30 in Stockholm
    args = lambda **a: InquiryFilters.from_args(MultiDict(a))  # noqa: E731
    assert count(args(year="2026", month="4")) == 1
    assert count(args(year="2026", month="3")) == 0
    assert count(args(year="2026", quarter="2")) == 1
    assert count(args(year="2027")) == 1
    # the dashboard and the yearly report count them where the list does
    from crm.reports.queries import Period, dashboard, outcomes_per_year

    figures = dashboard(Period(2026))
    assert dict(figures["per_month"])[4] == 1
    assert dict(figures["per_month"])[3] == 0
    assert figures["total"] == 1  # the one at New Year's 00:30 is 2027's
    assert dashboard(Period(2027))["total"] == 1
    InquiryFactory(status="agreed", outcome="agreed", closed_at=at(2025, 12, 31, 23, 15))
    assert dict(outcomes_per_year())[2026][Outcome.AGREED] == 1
