"""The yearly report (årsrapport): its figures on a hand-built year, the comparison with the
year before, the printable page, the workbook, odd years and a constant number of queries."""

import io
import re
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from crm.activity.models import FollowUp
from crm.choices import Relationship
from crm.inquiries.statuses import Outcome, Status
from crm.reports.queries import yearly_report
from crm.timeutil import local_today
from tests.factories import InquiryFactory, OrganisationFactory


def at(year, month, day, hour=9):
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def two_years(db):
    """2025 and 2024, built by hand so that every figure of the report is known."""
    partner = OrganisationFactory(name="Partnermuseet", relationship=Relationship.ACTIVE_PARTNER)
    raa = OrganisationFactory(
        name="Riksantikvarieämbetet", relationship=Relationship.ACTIVE_PARTNER
    )
    quiet = OrganisationFactory(name="Nordiska museet", relationship=Relationship.ACTIVE_PARTNER)
    prospect = OrganisationFactory(name="Blivande partner", relationship=Relationship.PROSPECT)
    due = at(2025, 3, 10, 16)
    a = InquiryFactory(
        category="research", organisation_type="museum", channel="web_form",
        created_at=at(2025, 3, 3), first_response_at=at(2025, 3, 3, 13), first_response_due_at=due,
        status=Status.AGREED, outcome=Outcome.AGREED, closed_at=at(2025, 5, 1),
        organisation_id=partner.id, subject="Gemensam utställning om textil",
    )  # fmt: skip
    a.regions = ["01", "03"]
    b = InquiryFactory(
        category="research", organisation_type="university", channel="email",
        created_at=at(2025, 3, 4), first_response_at=at(2025, 3, 4, 19), first_response_due_at=due,
        status=Status.CLOSED, outcome=Outcome.DECLINED, closed_at=at(2025, 6, 1),
    )  # fmt: skip
    b.regions = ["01"]
    c = InquiryFactory(  # never answered, late: known, and not within the target
        category="exhibition", organisation_type="museum", channel="phone",
        created_at=at(2025, 3, 5), first_response_due_at=due, status=Status.NEW,
    )  # fmt: skip
    d = InquiryFactory(  # came in 2024, agreed in 2025
        category="education", organisation_type="museum", channel="web_form",
        created_at=at(2024, 10, 1), first_response_at=at(2024, 10, 2, 5),
        first_response_due_at=at(2024, 10, 8, 16), status=Status.CLOSED, outcome=Outcome.AGREED,
        closed_at=at(2025, 2, 1), organisation_name="Ett museum utan registerpost",
        subject="Skolprogram",
    )  # fmt: skip
    e = InquiryFactory(
        category="education", organisation_type="company", channel="email",
        created_at=at(2024, 11, 1), first_response_at=at(2024, 11, 2, 15),
        first_response_due_at=at(2024, 11, 1, 16), status=Status.CLOSED,
        outcome=Outcome.WITHDRAWN, closed_at=at(2024, 12, 1),
    )  # fmt: skip
    db.session.add_all(
        [
            FollowUp(title="Årligt samtal", due_on=date(2025, 9, 1), organisation_id=raa.id,
                     completed_at=at(2025, 9, 1)),
            FollowUp(title="Förra årets samtal", due_on=date(2024, 9, 1),
                     organisation_id=quiet.id, completed_at=at(2024, 9, 1)),
            FollowUp(title="Inte klar", due_on=date(2025, 9, 1), organisation_id=partner.id),
            FollowUp(title="Inte en stående partner", due_on=date(2025, 9, 1),
                     organisation_id=prospect.id, completed_at=at(2025, 9, 1)),
        ]
    )  # fmt: skip
    db.session.commit()
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "partner": partner, "raa": raa,
            "quiet": quiet}  # fmt: skip


def test_the_years_figures(app, db, two_years):
    report = yearly_report(2025, now=at(2026, 1, 15))
    this, before = report["summary"], report["previous"]
    assert this["total"] == 3
    assert before["total"] == 2
    assert dict(report["by_category"]) == {"research": 2, "exhibition": 1}
    assert dict(report["by_region"]) == {"01": 2, "03": 1}
    assert dict(report["by_type"]) == {"museum": 2, "university": 1}
    assert dict(report["by_channel"]) == {"web_form": 1, "email": 1, "phone": 1}
    # outcomes by the year they were reached: d came in 2024 and was agreed in 2025
    assert this["outcomes"] == {Outcome.AGREED: 2, Outcome.DECLINED: 1, Outcome.WITHDRAWN: 0}
    assert before["outcomes"] == {Outcome.AGREED: 0, Outcome.DECLINED: 0, Outcome.WITHDRAWN: 1}
    # response hours 4 and 10 (nearest rank); the unanswered late one lowers the share
    assert (this["median_hours"], this["p90_hours"]) == pytest.approx((4.0, 10.0))
    assert this["within_target"] == (2, 3)
    assert (before["median_hours"], before["p90_hours"]) == pytest.approx((20.0, 30.0))
    assert before["within_target"] == (1, 2)
    # in working days as the target counts them: a answered the same day, b after the day ended
    assert (this["median_days"], this["p90_days"]) == (0, 1)
    # d: Tuesday's day ended before the answer; e: Friday's ended, the weekend does not count
    assert (before["median_days"], before["p90_days"]) == (1, 1)
    assert [row.reference for row in report["agreed"]["rows"]] == [
        two_years["d"].reference,
        two_years["a"].reference,
    ]
    assert [row.organisation for row in report["agreed"]["rows"]] == [
        "Ett museum utan registerpost",
        "Partnermuseet",
    ]
    dialogue = report["dialogue"]
    assert [(row.name, row.title) for row in dialogue["completed"]] == [
        ("Riksantikvarieämbetet", "Årligt samtal")
    ]
    assert [row.name for row in dialogue["without"]] == ["Nordiska museet", "Partnermuseet"]


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [([], None, None), ([3], 3, 3), ([0, 1], 0, 1), (list(range(1, 11)), 5, 9),
     (list(range(1, 12)), 6, 10)],
)  # fmt: skip
def test_nearest_rank_is_the_sql_percentiles_rule(values, median, p90):
    from crm.reports.queries import nearest_rank

    assert (nearest_rank(values, 0.5), nearest_rank(values, 0.9)) == (median, p90)


def cells(page: str, table_id: str) -> list[list[str]]:
    """The text of a table's body rows, cell by cell."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S).group(1)
    body = table.split("<tbody>")[1]
    cell = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
    return [
        [re.sub(r"<[^>]+>", "", text).strip() for text in cell.findall(row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_report_page_for_the_board(client, db, login_as, two_years):
    login_as("board")
    response = client.get("/dashboard/arsrapport?year=2025")
    assert response.status_code == 200
    page = response.text
    assert "Årsrapport 2025" in page
    summary = cells(page, "summary")
    assert summary[0] == ["Nya förfrågningar", "3", "2", "+1 (+50 %)"]
    assert summary[1] == ["Överenskommen", "2", "0", "+2"]
    assert summary[3] == ["Återkallad", "0", "1", "-1 (-100 %)"]
    assert [
        "Median till första svar, arbetsdagar", "0 arbetsdagar", "1 arbetsdag", "-1"
    ] in summary  # fmt: skip
    assert summary[-1][:3] == ["Besvarade inom målet", "67 %", "50 %"]
    assert summary[-1][3] == "+17 procentenheter"
    assert cells(page, "categories")[0][:2] == ["Forskning", "2"]
    assert ["Stockholms län", "2", "67 %"] in cells(page, "regions")
    agreed = cells(page, "agreed")
    assert [row[0] for row in agreed] == [two_years["d"].reference, two_years["a"].reference]
    assert agreed[1][1:3] == ["Partnermuseet", "Gemensam utställning om textil"]
    assert f'href="/inquiries/{two_years["a"].reference}"' in page
    assert f'href="/organisations/{two_years["partner"].id}"' in page
    dialogue = cells(page, "dialogue")
    assert dialogue[0][:2] == ["Riksantikvarieämbetet", "Årligt samtal"]
    assert ["Nordiska museet", "Ingen avslutad uppföljning under året", "–"] in dialogue
    assert "/dashboard/arsrapport.xlsx?year=2025" in page
    assert "<script" not in page


def test_the_dashboard_links_the_yearly_report(client, db, login_as):
    login_as("chair")
    assert "/dashboard/arsrapport?year=2025" in client.get("/dashboard?year=2025").text


@pytest.mark.parametrize("year", ["abc", "1999", "99999", "2025.5", "-2025", "<b>x</b>"])
def test_an_odd_year_shows_this_year_with_a_message(client, db, login_as, year):
    login_as("board")
    response = client.get("/dashboard/arsrapport", query_string={"year": year})
    assert response.status_code == 200
    this_year = local_today().year
    assert f"Årsrapport {this_year}" in response.text
    assert "inget år vi kan visa" in response.text
    assert "<b>x</b>" not in response.text
    xlsx = client.get("/dashboard/arsrapport.xlsx", query_string={"year": year})
    assert xlsx.status_code == 200
    assert f"arsrapport-{this_year}.xlsx" in xlsx.headers["Content-Disposition"]


def test_no_year_means_this_year_without_a_message(client, db, login_as):
    login_as("board")
    page = client.get("/dashboard/arsrapport").text
    assert f"Årsrapport {local_today().year}" in page
    assert "inget år vi kan visa" not in page


def test_the_workbook_has_a_sheet_per_table(client, db, login_as, two_years):
    login_as("board")
    response = client.get("/dashboard/arsrapport.xlsx?year=2025")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames[0] == "Året i korthet"
    assert "Överenskomna samarbeten" in workbook.sheetnames
    assert "Dialog med stående partner" in workbook.sheetnames
    assert len(workbook.sheetnames) == 9
    summary = workbook["Året i korthet"]
    header = [cell.value for cell in summary[4]]
    assert header == ["Mått", "2025", "2024", "Förändring"]
    first = [cell.value for cell in summary[5]]
    assert first == ["Nya förfrågningar", 3, 2, "+1 (+50 %)"]
    assert summary["B4"].font.bold
    assert summary["B5"].data_type == "n"
    agreed = workbook["Överenskomna samarbeten"]
    assert agreed["C6"].value == "Gemensam utställning om textil"
    assert all(cell.data_type != "f" for row in agreed.iter_rows() for cell in row)


def test_the_report_runs_a_constant_number_of_queries(app, db, login_as, statements_for):
    login_as("board")
    few = statements_for("/dashboard/arsrapport?year=2025")
    for index in range(30):
        organisation = OrganisationFactory(relationship=Relationship.ACTIVE_PARTNER)
        inquiry = InquiryFactory(
            created_at=at(2025, 1 + index % 12, 1 + index % 28),
            first_response_at=at(2025, 1 + index % 12, 1 + index % 28, 15),
            status=Status.CLOSED, outcome=Outcome.AGREED, closed_at=at(2025, 12, 1),
            organisation_id=organisation.id, category=["research", "exhibition"][index % 2],
        )  # fmt: skip
        inquiry.regions = ["01", "12"][: 1 + index % 2]
        db.session.add(
            FollowUp(title="Samtal", due_on=date(2025, 5, 1), organisation_id=organisation.id,
                     completed_at=at(2025, 5, 1))
        )  # fmt: skip
    db.session.commit()
    many = statements_for("/dashboard/arsrapport?year=2025")
    assert many == few
    assert many <= 25


def test_a_long_list_of_agreed_collaborations_is_cut_with_a_link_to_all(
    client, db, login_as, two_years, monkeypatch
):
    """A year with more agreed collaborations than the report lists shows the first ones in
    the order agreed, says how many there are, and links to the list that shows them all; the
    page and the workbook agree."""
    from crm.reports import queries

    period = queries.Period(2025)
    everything = queries.agreed_collaborations(period, 10)
    assert [row.reference for row in everything["rows"]] == [
        two_years["d"].reference,
        two_years["a"].reference,
    ]
    assert everything["total"] == 2
    first = queries.agreed_collaborations(period, 1)
    assert [row.reference for row in first["rows"]] == [two_years["d"].reference]
    assert first["total"] == 2
    assert queries.agreed_collaborations(queries.Period(2019), 1) == {"rows": [], "total": 0}

    monkeypatch.setattr(queries, "LISTED_IN_REPORT", 1)
    login_as("board")
    page = client.get("/dashboard/arsrapport?year=2025").text
    assert [row[0] for row in cells(page, "agreed")] == [two_years["d"].reference]
    assert "Här visas de 1 första av 2." in page
    assert 'href="/inquiries?outcome=agreed&amp;outcome_year=2025"' in page
    listed = client.get("/inquiries?outcome=agreed&outcome_year=2025").text
    assert two_years["a"].reference in listed
    assert two_years["d"].reference in listed
    workbook = load_workbook(
        io.BytesIO(client.get("/dashboard/arsrapport.xlsx?year=2025").get_data())
    )
    agreed = workbook["Överenskomna samarbeten"]
    assert agreed["A3"].value.startswith("Här visas de 1 första av 2.")
    assert [row[0] for row in agreed.iter_rows(min_row=5, values_only=True)] == [
        two_years["d"].reference
    ]


def test_lists_exactly_at_the_limit_have_no_cut_note(client, db, login_as, two_years, monkeypatch):
    from crm.reports import queries

    monkeypatch.setattr(queries, "LISTED_IN_REPORT", 2)  # two agreed: all of them shown
    login_as("board")
    page = client.get("/dashboard/arsrapport?year=2025").text
    assert len(cells(page, "agreed")) == 2
    assert "Här visas de" not in page


def test_a_long_dialogue_table_is_cut_with_a_link_to_the_register(
    client, db, login_as, two_years, monkeypatch
):
    from crm.reports import queries

    period = queries.Period(2025)
    full = queries.partner_dialogue(period, 10)
    assert full["total"] == len(full["completed"]) + len(full["without"]) >= 3
    cut = queries.partner_dialogue(period, 1)
    assert (len(cut["completed"]), len(cut["without"])) == (1, 1)
    assert cut["total"] == full["total"]
    assert cut["without"][0].name == full["without"][0].name  # the first by name

    monkeypatch.setattr(queries, "LISTED_IN_REPORT", 1)
    login_as("board")
    page = client.get("/dashboard/arsrapport?year=2025").text
    assert len(cells(page, "dialogue")) == 2
    assert f"Här visas 2 av {full['total']} rader." in page
    assert 'href="/organisations?relationship=active_partner"' in page
