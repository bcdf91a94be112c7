"""CSV export (streamed, formula-safe, audited) and the personal iCalendar feed."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from crm.activity.models import FollowUp
from crm.inquiries.statuses import Outcome, Status
from crm.models import AuditLog, User
from crm.timeutil import local_today, utcnow
from tests.conftest import TEST_PASSWORD
from tests.factories import InquiryFactory
from tests.helpers import late_and_not


def read_csv(response, delimiter=";"):  # semicolon: the export's default in Swedish
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def test_export_follows_the_list_filter_and_is_audited(client, db, login_as):
    me = login_as("secretary_general")
    InquiryFactory(category="research", subject="Forskning om båtar", contact_name="Åke Ängström")
    InquiryFactory(category="exhibition")
    response = client.get("/export/inquiries.csv?category=research")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert rows[0][:3] == ["Referens", "Inkom", "Status"]
    assert len(rows) == 2
    assert "Åke Ängström" in rows[1]
    assert "Forskning om båtar" in rows[1]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "personal_data_exported"))
    assert entry.actor_id == me.id
    assert entry.details["filters"] == {"category": "research"}


def test_semicolon_option_for_swedish_excel(client, db, login_as):
    login_as("chair")
    InquiryFactory(subject="Rubrik; med semikolon")
    rows = read_csv(client.get("/export/inquiries.csv?delimiter=semicolon"), delimiter=";")
    assert "Rubrik; med semikolon" in rows[1]


@pytest.mark.parametrize(
    "payload", ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]
)
@pytest.mark.parametrize(
    ("field", "column"),
    [("subject", 12), ("organisation_name", 5), ("contact_name", 7), ("email", 8), ("phone", 9)],
)
def test_v5_3_1_formula_injection_is_neutralised(client, db, login_as, payload, field, column):
    login_as("secretary_general")
    InquiryFactory(**{field: payload})
    rows = read_csv(client.get("/export/inquiries.csv"))
    assert rows[1][column] == "'" + payload


def test_export_shows_swedish_time_and_region_names(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory(created_at=datetime(2026, 6, 30, 22, 15, tzinfo=UTC))
    inquiry.regions = ["04", "01"]
    db.session.flush()
    row = read_csv(client.get("/export/inquiries.csv"))[1]
    assert row[1] == "2026-07-01 00:15"  # summer time: two hours ahead of UTC
    assert row[11] == "Stockholms län, Södermanlands län"


def test_export_shows_the_outcome_after_the_status(client, db, login_as):
    login_as("secretary_general")
    closed = InquiryFactory(status=Status.CLOSED, outcome=Outcome.DECLINED, closed_at=utcnow())
    open_one = InquiryFactory(status=Status.TRIAGED)
    rows = read_csv(client.get("/export/inquiries.csv"))
    assert rows[0][2:5] == ["Status", "Utfall", "Kanal"]
    by_reference = {row[0]: row for row in rows[1:]}
    assert by_reference[closed.reference][2:4] == ["Avslutad", "Avböjd"]
    assert by_reference[open_one.reference][2:4] == ["Bedömd", ""]
    assert len(rows[0]) == len(by_reference[closed.reference]) == 17
    only = read_csv(client.get("/export/inquiries.csv?outcome=declined"))
    assert [row[0] for row in only[1:]] == [closed.reference]


def test_export_streams_in_chunks(app, client, db, login_as, monkeypatch):
    monkeypatch.setattr("crm.reports.export.BATCH", 200)
    login_as("secretary_general")
    db.session.add_all(InquiryFactory.build_batch(450))
    db.session.commit()
    response = client.get("/export/inquiries.csv", buffered=False)
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) == 4  # the header, then one chunk per batch of 200 rows
    assert sum(chunk.count(b"\r\n") for chunk in chunks) == 451


def test_board_cannot_export(client, db, login_as):
    login_as("board")
    assert client.get("/export/inquiries.csv").status_code == 403


def test_calendar_link_is_created_parsed_and_revoked(app, client, db, login_as):
    me = login_as("secretary_general")
    db.session.add(
        FollowUp(
            title="Årligt dialogsamtal", due_on=local_today() + timedelta(days=3), owner_id=me.id
        )
    )
    db.session.add(
        FollowUp(title="Redan klar", due_on=local_today(), owner_id=me.id, completed_at=utcnow())
    )
    inquiry = InquiryFactory(assignee_id=me.id, organisation_name="Jamtli")
    db.session.commit()
    client.post("/account/calendar")
    page = client.get("/account").text
    link = re.search(r'value="http://127.0.0.1:5000(/calendar/[^"]+\.ics)"', page).group(1)
    assert "visas bara nu" in page
    assert "visas bara nu" not in client.get("/account").text  # shown once

    feed = app.test_client().get(link)  # no log-in needed: the link is the key
    assert feed.status_code == 200
    assert feed.headers["Content-Type"].startswith("text/calendar")
    assert feed.headers["Referrer-Policy"] == "no-referrer"
    calendar = Calendar.from_ical(feed.data)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"Årligt dialogsamtal", f"Svara: {inquiry.reference} Jamtli"}
    assert events[f"Svara: {inquiry.reference} Jamtli"].decoded("dtstart") == (
        inquiry.first_response_due_at.replace(microsecond=0)
    )
    assert events["Årligt dialogsamtal"].decoded("dtstart") == local_today() + timedelta(days=3)

    token_hash = db.session.get(User, me.id).calendar_token_hash
    assert token_hash
    assert link.split("/")[-1][:-4] not in token_hash
    client.post("/account/calendar/revoke")
    assert app.test_client().get(link).status_code == 404
    assert app.test_client().get("/calendar/gissat.ics").status_code == 404


def test_v3_7_1_password_change_needs_the_current_password(app, client, db, login_as):
    me = login_as("secretary_general")
    other_device = app.test_client()
    other_device.post("/login", data={"email": me.email, "password": TEST_PASSWORD})
    wrong = client.post(
        "/account",
        data={
            "current_password": "fel",
            "new_password": "ett helt nytt lösenord",
            "confirm": "ett helt nytt lösenord",
        },
    )
    assert "Fel lösenord." in wrong.text
    weak = client.post(
        "/account",
        data={"current_password": TEST_PASSWORD, "new_password": "kort", "confirm": "kort"},
    )
    assert "minst 12 tecken" in weak.text
    done = client.post(
        "/account",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "ett helt nytt lösenord",
            "confirm": "ett helt nytt lösenord",
        },
    )
    assert done.status_code == 302
    assert client.get("/inbox").status_code == 200  # this session goes on
    assert other_device.get("/inbox").status_code == 302  # the other one ends
    fresh = app.test_client()
    assert (
        fresh.post(
            "/login", data={"email": me.email, "password": "ett helt nytt lösenord"}
        ).status_code
        == 302
    )


def test_the_calendar_has_every_deadline_still_awaiting_a_first_response(app, client, db, login_as):
    """Late or not: triaged and in dialogue count; answered, on hold and ended do not."""
    me = login_as("secretary_general")
    cases = late_and_not(assignee_id=me.id)
    client.post("/account/calendar")
    link = re.search(
        r'value="http://127.0.0.1:5000(/calendar/[^"]+\.ics)"', client.get("/account").text
    ).group(1)
    feed = Calendar.from_ical(app.test_client().get(link).data)
    summaries = {str(event["summary"]) for event in feed.walk("VEVENT")}
    awaiting = {"new", "triaged", "in_dialogue", "not_yet_due"}
    for name, (inquiry, _late) in cases.items():
        assert (f"Svara: {inquiry.reference} Exempelmuseet" in summaries) is (name in awaiting)
