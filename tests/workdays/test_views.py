"""/admin/closure-days through HTTP: list, add, refuse beside the field, delete, both languages."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditLog
from crm.core.idempotency import new_submission_id
from crm.timeutil import local_today
from crm.workdays.models import ClosureDay
from crm.workdays.services import holiday_name, holidays_in, is_working_day
from tests.factories import UserFactory

PATH = "/admin/closure-days"


def upcoming_weekdays(count: int, after_days: int = 30) -> list[date]:
    day, found = local_today() + timedelta(days=after_days), []
    while len(found) < count:
        if is_working_day(day, ()):
            found.append(day)
        day += timedelta(days=1)
    return found


def next_saturday() -> date:
    today = local_today()
    return today + timedelta(days=(5 - today.weekday()) % 7 or 7)


def next_weekday_holiday() -> date:
    today = local_today()
    return next(
        day
        for year in (today.year, today.year + 1)
        for day, _ in holidays_in(year)
        if day > today and day.weekday() < 5
    )


def closure(db, day: date, reason: str = "Personaldag", by=None) -> ClosureDay:
    row = ClosureDay(day=day, reason=reason, created_by_id=by.id if by else None)
    db.session.add(row)
    db.session.commit()
    return row


def rows(db) -> list[tuple[date, str]]:
    return [(r.day, r.reason) for r in db.session.scalars(select(ClosureDay).order_by("day"))]


def audited(db, action: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
    )


def english(client):
    client.post("/language", data={"lang": "en"})


# ---- the page --------------------------------------------------------------------------------


def test_an_empty_page_shows_the_rules_the_form_and_the_holidays(client, login_as, db):
    login_as("admin")
    response = client.get(PATH)
    assert response.status_code == 200
    page = response.text
    assert "<h1>Stängningsdagar</h1>" in page
    assert "Inga kommande stängningsdagar." in page
    assert "Tidigare stängningsdagar" not in page
    assert 'name="day"' in page
    assert 'type="date"' in page
    assert 'name="reason"' in page
    assert "Hög prioritet" in page
    assert "2 arbetsdagar" in page
    assert "17:00" in page
    year = local_today().year
    for caption in (f"Helgdagar {year}", f"Helgdagar {year + 1}"):
        assert caption in page
    assert "Midsommarafton" in page
    assert "Julafton" in page
    assert "Nyårsafton" in page
    assert "Midsommardagen" not in page  # always a Saturday: the weekend never counts anyway
    assert "Alla helgons dag" not in page
    assert 'aria-current="page"' in page.split(f'href="{PATH}"')[1][:30]  # in the menu


def test_the_page_lists_upcoming_and_past_days_with_who_added_them(client, login_as, db):
    admin = login_as("admin", name="Adam Administratör")
    soon, later = upcoming_weekdays(2)
    closure(db, later, "Planeringsdag", admin)
    closure(db, soon, "Klämdag", admin)
    closure(db, local_today() - timedelta(days=20), "Flytt av kansliet")
    page = client.get(PATH).text
    upcoming, past = page.split("Tidigare stängningsdagar")
    assert upcoming.index("Klämdag") < upcoming.index("Planeringsdag")  # soonest first
    assert "Adam Administratör" in upcoming
    assert "Flytt av kansliet" in past
    assert "Flytt av kansliet" not in upcoming
    assert upcoming.count("Ta bort") == 2
    assert "Ta bort" not in past.split("Helgdagar")[0]  # past days stay
    assert "Inga kommande stängningsdagar." not in page


def test_the_page_in_english(client, login_as, db):
    login_as("admin")
    closure(db, upcoming_weekdays(1)[0], "Personaldag")
    english(client)
    page = client.get(PATH).text
    assert "<h1>Closure days</h1>" in page
    assert "Upcoming closure days" in page
    assert "Midsummer Eve" in page
    assert "Christmas Eve" in page
    assert "High priority" in page
    assert "2 working days" in page
    assert "Remove" in page
    assert "Midsommarafton" not in page


def test_the_page_runs_the_same_statements_for_few_and_many(db, login_as, statements_for):
    admin = login_as("admin")
    days = upcoming_weekdays(30)
    for day in days[:2]:
        closure(db, day, by=admin)
    few = statements_for(PATH)
    for day in days[2:]:
        closure(db, day, by=UserFactory(role="admin"))
    assert statements_for(PATH) == few


# ---- adding ------------------------------------------------------------------------------------


def test_adding_a_day(client, login_as, db):
    admin = login_as("admin")
    day = upcoming_weekdays(1)[0]
    response = client.post(PATH, data={"day": day.isoformat(), "reason": "  Personal\tdag "})
    assert response.status_code == 302
    assert response.headers["Location"] == PATH
    assert rows(db) == [(day, "Personal dag")]
    assert db.session.scalar(select(ClosureDay.created_by_id)) == admin.id
    [entry] = db.session.scalars(select(AuditLog).where(AuditLog.action == "closure_day_added"))
    assert entry.actor_id == admin.id
    page = client.get(PATH).text
    assert "Stängningsdag tillagd: " in page
    assert "Personal dag" in page


def test_a_repeated_add_is_stored_once(client, login_as, db):
    login_as("admin")
    data = {"day": upcoming_weekdays(1)[0].isoformat(), "reason": "Personaldag",
            "submission_id": new_submission_id()}  # fmt: skip
    first, second = client.post(PATH, data=data), client.post(PATH, data=data)
    assert (first.status_code, second.status_code) == (302, 302)
    assert second.location == first.location
    assert db.session.scalar(select(func.count()).select_from(ClosureDay)) == 1
    assert "redan sparat" in client.get(second.location).text


@pytest.mark.parametrize(
    ("data", "day_error", "reason_error"),
    [
        ({}, "Ange ett datum som ÅÅÅÅ-MM-DD.", "Skriv varför kansliet har stängt."),
        ({"day": "28/12/2026", "reason": "x"}, "Ange ett datum som ÅÅÅÅ-MM-DD.", None),
        ({"day": "2026-02-30", "reason": "x"}, "Ange ett datum som ÅÅÅÅ-MM-DD.", None),
        ({"day": "{future}", "reason": "   "}, None, "Skriv varför kansliet har stängt."),
        ({"day": "{future}", "reason": "x" * 201}, None, "Skriv högst 200 tecken."),
        ({"day": "{yesterday}", "reason": "x"}, "Dagen har redan varit.", None),
        ({"day": "{saturday}", "reason": "x"}, "Det är en lördag eller söndag", None),
        ({"day": "{holiday}", "reason": "x"}, "Det är redan en helgdag ({holiday_name})", None),
        ({"day": "{taken}", "reason": "x"}, "Den dagen är redan en stängningsdag.", None),
    ],
    ids=["empty", "format", "no-such-date", "blank-reason", "long-reason", "past", "weekend",
         "holiday", "taken"],
)  # fmt: skip
def test_a_refused_day_is_explained_beside_the_field(client, login_as, db, data, day_error,
                                                      reason_error):  # fmt: skip
    login_as("admin")
    future, taken = upcoming_weekdays(2)
    closure(db, taken, "Redan stängt")
    holiday = next_weekday_holiday()
    values = {
        "future": future.isoformat(), "taken": taken.isoformat(),
        "yesterday": (local_today() - timedelta(days=1)).isoformat(),
        "saturday": next_saturday().isoformat(), "holiday": holiday.isoformat(),
        "holiday_name": holiday_name(holiday),
    }  # fmt: skip
    data = {key: value.format(**values) for key, value in data.items()}
    response = client.post(PATH, data=data)
    assert response.status_code == 422
    page = response.text
    assert "Det finns fel i formuläret" in page  # the summary, linking to the fields
    for name, error in (("day", day_error), ("reason", reason_error)):
        if error is None:
            assert f'id="{name}-error"' not in page
            continue
        error = error.format(**values)
        beside = page.split(f'id="{name}-error"')[1].split("</p>")[0]
        assert error in beside, (name, beside)
        assert f'href="#{name}"' in page
    assert 'aria-invalid="true"' in page
    assert rows(db) == [(taken, "Redan stängt")]
    if "reason" in data and len(data["reason"]) < 50:  # what was typed comes back
        assert f'value="{data["reason"]}"' in page or not data["reason"].strip()


def test_refusals_in_english(client, login_as, db):
    login_as("admin")
    english(client)
    holiday = next_weekday_holiday()
    page = client.post(PATH, data={"day": holiday.isoformat(), "reason": "x"}).text
    assert f"It is already a public holiday ({holiday_name(holiday, 'en')})" in page
    page = client.post(PATH, data={"day": next_saturday().isoformat(), "reason": "x"}).text
    assert "Saturday or Sunday" in page
    page = client.post(PATH, data={}).text
    assert "Enter a date as YYYY-MM-DD." in page
    assert "There are errors in the form" in page


# ---- deleting ----------------------------------------------------------------------------------


def test_removing_an_upcoming_day(client, login_as, db):
    admin = login_as("admin")
    keep, remove = upcoming_weekdays(2)
    closure(db, keep, "Stannar")
    row = closure(db, remove, "Tas bort")
    response = client.post(f"{PATH}/{row.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == PATH
    assert rows(db) == [(keep, "Stannar")]
    [entry] = db.session.scalars(select(AuditLog).where(AuditLog.action == "closure_day_deleted"))
    assert (entry.actor_id, entry.details["reason"]) == (admin.id, "Tas bort")
    assert "Stängningsdag borttagen: " in client.get(PATH).text


def test_a_past_day_cannot_be_removed(client, login_as, db):
    login_as("admin")
    row = closure(db, local_today() - timedelta(days=3), "Har varit")
    response = client.post(f"{PATH}/{row.id}/delete")
    assert response.status_code == 422
    assert "kan inte tas bort" in response.text
    assert rows(db) == [(row.day, "Har varit")]
    assert audited(db, "closure_day_deleted") == 0


def test_removing_a_day_that_is_gone(client, login_as, db):
    login_as("admin")
    assert client.post(f"{PATH}/999999/delete").status_code == 404


def test_a_repeated_remove_lands_on_the_same_page(client, login_as, db):
    login_as("admin")
    row = closure(db, upcoming_weekdays(1)[0])
    data = {"submission_id": new_submission_id()}
    first = client.post(f"{PATH}/{row.id}/delete", data=data)
    second = client.post(f"{PATH}/{row.id}/delete", data=data)
    assert (first.status_code, second.status_code) == (302, 302)
    assert rows(db) == []
    assert audited(db, "closure_day_deleted") == 1


# ---- who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["secretary_general", "chair", "board"])
def test_only_the_admin_manages_closure_days(client, login_as, db, role):
    login_as(role)
    row = closure(db, upcoming_weekdays(1)[0])
    assert client.get(PATH).status_code == 403
    assert client.post(PATH, data={"day": "2099-01-05", "reason": "x"}).status_code == 403
    assert client.post(f"{PATH}/{row.id}/delete").status_code == 403
    assert len(rows(db)) == 1
    assert f'href="{PATH}"' not in client.get("/account").text


def test_a_refused_day_leaves_the_submission_id_unused(client, login_as, db):
    login_as("admin")
    key = new_submission_id()
    refused = client.post(PATH, data={"day": next_saturday().isoformat(), "reason": "x",
                                      "submission_id": key})  # fmt: skip
    assert refused.status_code == 422
    assert f'value="{key}"' in refused.text  # the form comes back with the same id
    day = upcoming_weekdays(1)[0]
    accepted = client.post(PATH, data={"day": day.isoformat(), "reason": "x", "submission_id": key})
    assert accepted.status_code == 302
    assert rows(db) == [(day, "x")]
