"""Notes, follow-ups and reminders through HTTP."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from crm.activity.models import FollowUp, Note
from crm.extensions import db
from crm.models import ConflictDeclaration
from crm.timeutil import local_today, utcnow
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory
from tests.helpers import late_and_not, mails


def test_notes_are_escaped_keep_line_breaks_and_can_be_edited_for_15_minutes(client, db, login_as):
    me = login_as("secretary_general")
    inquiry = InquiryFactory()
    client.post(
        f"/inquiries/{inquiry.reference}/notes", data={"body": "<script>alert(1)</script>\nrad två"}
    )
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nrad två" in page
    assert "<script>alert(1)" not in page
    note = db.session.scalar(select(Note))
    assert note.author_id == me.id
    client.post(f"/inquiries/{inquiry.reference}/notes/{note.id}", data={"body": "rättad"})
    assert db.session.get(Note, note.id).body == "rättad"
    db.session.get(Note, note.id).created_at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    client.post(f"/inquiries/{inquiry.reference}/notes/{note.id}", data={"body": "för sent"})
    assert db.session.get(Note, note.id).body == "rättad"


def test_another_author_cannot_edit_a_note(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    note = Note(inquiry_id=inquiry.id, author_id=UserFactory(role="chair").id, body="min")
    db.session.add(note)
    db.session.commit()
    note_id = note.id  # the refused request rolls back, which expires objects in the session
    client.post(f"/inquiries/{inquiry.reference}/notes/{note_id}", data={"body": "din"})
    assert db.session.get(Note, note_id).body == "min"


def test_follow_up_on_an_inquiry_with_date_validation(client, db, login_as):
    me = login_as("secretary_general")
    inquiry = InquiryFactory()
    url = f"/inquiries/{inquiry.reference}/follow-ups"
    base = {"title": "Ring tillbaka", "owner": me.id, "recurrence": "none"}
    past = client.post(
        url, data={**base, "due_on": (local_today() - timedelta(days=1)).isoformat()}
    )
    assert past.status_code == 422
    assert "Datumet har redan passerat." in past.text
    garbage = client.post(url, data={**base, "due_on": "nästa tisdag"})
    assert garbage.status_code == 422
    assert 'id="due_on-error"' in garbage.text
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0
    client.post(url, data={**base, "due_on": local_today().isoformat()})
    follow_up = db.session.scalar(select(FollowUp))
    assert (follow_up.title, follow_up.owner_id, follow_up.inquiry_id) == (
        "Ring tillbaka",
        me.id,
        inquiry.id,
    )


def test_yearly_follow_up_comes_back_a_year_later(client, db, login_as):
    me = login_as("secretary_general")
    follow_up = FollowUp(
        title="Årligt dialogsamtal", due_on=date(2026, 3, 1), owner_id=me.id, recurrence="yearly"
    )
    db.session.add(follow_up)
    db.session.commit()
    client.post(f"/follow-ups/{follow_up.id}/done")
    follow_ups = db.session.scalars(select(FollowUp).order_by(FollowUp.id)).all()
    assert follow_ups[0].completed_at is not None
    assert (follow_ups[1].due_on, follow_ups[1].completed_at, follow_ups[1].recurrence) == (
        date(2027, 3, 1),
        None,
        "yearly",
    )


def test_follow_ups_page_overdue_first_create_and_reschedule(client, db, login_as):
    me = login_as("secretary_general")
    today = local_today()
    db.session.add_all(
        [
            FollowUp(title="Senare", due_on=today + timedelta(days=10), owner_id=me.id),
            FollowUp(title="Försenad", due_on=today - timedelta(days=3), owner_id=me.id),
        ]
    )
    db.session.commit()
    page = client.get("/follow-ups").text
    assert page.index("Försenad") < page.index("Senare")
    client.post(
        "/follow-ups",
        data={"title": "Ny sak", "due_on": today.isoformat(), "owner": me.id, "recurrence": "none"},
    )
    assert "Ny sak" in client.get("/follow-ups").text
    late = db.session.scalar(select(FollowUp).where(FollowUp.title == "Försenad"))
    client.post(
        f"/follow-ups/{late.id}/reschedule",
        data={"due_on": (today + timedelta(days=1)).isoformat()},
    )
    assert db.session.get(FollowUp, late.id).due_on == today + timedelta(days=1)


def test_send_reminders_once_per_day(runner, db):
    secretary = UserFactory(role="secretary_general")
    UserFactory(role="chair")  # nothing due: no mail
    UserFactory(role="board")
    db.session.add(
        FollowUp(title="Förfallen", due_on=local_today() - timedelta(days=1), owner_id=secretary.id)
    )
    db.session.add(
        FollowUp(
            title="Nästa vecka", due_on=local_today() + timedelta(days=7), owner_id=secretary.id
        )
    )
    InquiryFactory(assignee_id=secretary.id, first_response_due_at=utcnow() - timedelta(hours=1))
    db.session.commit()
    first = runner.invoke(args=["crm", "send-reminders"])
    assert "Queued 1 reminder digests; 0 already queued today." in first.output
    second = runner.invoke(args=["crm", "send-reminders"])
    assert "Queued 0 reminder digests; 1 already queued today." in second.output
    [digest] = mails(db, "reminder")
    assert digest.recipient == secretary.email
    assert "Förfallen" in digest.body_text
    assert "Nästa vecka" not in digest.body_text
    assert "SAM-" in digest.body_text


# ---- whose follow-ups and notes: every route with someone else's id -----------------------


def _follow_up(owner, **attrs):
    item = FollowUp(title="Ring Jamtli", due_on=local_today(), owner_id=owner.id, **attrs)
    db.session.add(item)
    db.session.commit()
    return item.id, item.due_on


FOLLOW_UP_ROUTES = {
    "done": {},
    "reschedule": {"due_on": (local_today() + timedelta(days=3)).isoformat()},
}


@pytest.mark.parametrize("route", FOLLOW_UP_ROUTES)
@pytest.mark.parametrize("on", ["inquiry", "organisation", "nothing"])
def test_the_chair_cannot_complete_or_move_someone_elses_follow_up(client, login_as, route, on):
    login_as("chair")
    secretary = UserFactory(role="secretary_general")
    attrs = {
        "inquiry": lambda: {"inquiry_id": InquiryFactory().id},
        "organisation": lambda: {"organisation_id": OrganisationFactory().id},
        "nothing": dict,
    }[on]()
    follow_up_id, due_on = _follow_up(secretary, **attrs)
    response = client.post(f"/follow-ups/{follow_up_id}/{route}", data=FOLLOW_UP_ROUTES[route])
    assert response.status_code == 403
    assert "Bara den som är ansvarig för uppföljningen kan ändra den." in response.text
    stored = db.session.get(FollowUp, follow_up_id)
    assert (stored.completed_at, stored.due_on) == (None, due_on)
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 1


@pytest.mark.parametrize("route", FOLLOW_UP_ROUTES)
def test_the_secretary_general_manages_everyones_follow_ups(client, login_as, route):
    login_as("secretary_general")
    chair = UserFactory(role="chair")
    follow_up_id, due_on = _follow_up(chair, organisation_id=OrganisationFactory().id)
    response = client.post(f"/follow-ups/{follow_up_id}/{route}", data=FOLLOW_UP_ROUTES[route])
    assert response.status_code == 302
    stored = db.session.get(FollowUp, follow_up_id)
    assert stored.completed_at is not None or stored.due_on != due_on


@pytest.mark.parametrize("route", FOLLOW_UP_ROUTES)
def test_a_follow_up_of_another_inquiry_is_judged_by_that_inquiry(client, login_as, route):
    """The page sends you back to inquiry A; the id is of inquiry B, where you are jävig."""
    me = login_as("chair")
    page_of, jävig_on = InquiryFactory(), InquiryFactory()
    db.session.add(ConflictDeclaration(inquiry_id=jävig_on.id, user_id=me.id, reason="x"))
    follow_up_id, due_on = _follow_up(me, inquiry_id=jävig_on.id)
    reference = jävig_on.reference
    data = {**FOLLOW_UP_ROUTES[route], "next": f"/inquiries/{page_of.reference}"}
    response = client.post(f"/follow-ups/{follow_up_id}/{route}", data=data)
    assert response.status_code == 403
    assert f"Du har anmält jäv för {reference}" in response.text
    stored = db.session.get(FollowUp, follow_up_id)
    assert (stored.completed_at, stored.due_on) == (None, due_on)


def test_an_unknown_follow_up_is_404(client, login_as):
    login_as("secretary_general")
    for route, data in FOLLOW_UP_ROUTES.items():
        assert client.post(f"/follow-ups/999999/{route}", data=data).status_code == 404


def test_the_inquiry_page_offers_done_only_for_follow_ups_you_may_manage(client, login_as):
    me = login_as("chair")
    secretary = UserFactory(role="secretary_general")
    inquiry = InquiryFactory()
    _follow_up(me, inquiry_id=inquiry.id)
    db.session.add(FollowUp(title="Hennes", due_on=local_today(), owner_id=secretary.id,
                            inquiry_id=inquiry.id))  # fmt: skip
    db.session.commit()
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert page.count("Markera som klar") == 1
    assert 'Markera som klar<span class="visually-hidden">: Ring Jamtli' in page


def _note(author, **subject):
    note = Note(author_id=author.id, body="originalet", **subject)
    db.session.add(note)
    db.session.commit()
    return note.id


def test_inquiry_note_routes_refuse_other_authors_and_other_inquiries(client, login_as):
    me = login_as("secretary_general")
    inquiry, elsewhere = InquiryFactory(), InquiryFactory()
    theirs = _note(UserFactory(role="chair"), inquiry_id=inquiry.id)
    mine_elsewhere = _note(me, inquiry_id=elsewhere.id)
    base = f"/inquiries/{inquiry.reference}/notes"
    response = client.post(f"{base}/{theirs}", data={"body": "x"})
    assert response.status_code == 403
    assert "Bara den som skrev anteckningen kan ändra den." in response.text
    assert client.post(f"{base}/{mine_elsewhere}", data={"body": "x"}).status_code == 404
    assert client.post(f"{base}/999999", data={"body": "x"}).status_code == 404
    assert {n.body for n in db.session.scalars(select(Note))} == {"originalet"}


def test_organisation_note_routes_refuse_other_authors_and_other_organisations(client, login_as):
    me = login_as("secretary_general")
    organisation, elsewhere = OrganisationFactory(), OrganisationFactory()
    me_id, organisation_id = me.id, organisation.id
    theirs = _note(UserFactory(role="secretary_general"), organisation_id=organisation.id)
    mine_elsewhere = _note(me, organisation_id=elsewhere.id)
    base = f"/organisations/{organisation.id}/notes"
    response = client.post(f"{base}/{theirs}", data={"body": "x"})
    assert response.status_code == 403
    assert "Bara den som skrev anteckningen kan ändra den." in response.text
    assert client.post(f"{base}/{mine_elsewhere}", data={"body": "x"}).status_code == 404
    assert {n.body for n in db.session.scalars(select(Note))} == {"originalet"}
    mine = _note(db.session.get(type(me), me_id), organisation_id=organisation_id)
    assert client.post(f"{base}/{mine}", data={"body": "rättad"}).status_code == 302
    assert db.session.get(Note, mine).body == "rättad"


def test_an_inquiry_note_edited_from_the_organisation_page_is_still_under_jav(client, login_as):
    me = login_as("secretary_general")
    organisation = OrganisationFactory()
    inquiry = InquiryFactory(organisation_id=organisation.id)
    note_id = _note(me, inquiry_id=inquiry.id, organisation_id=organisation.id)
    db.session.add(ConflictDeclaration(inquiry_id=inquiry.id, user_id=me.id, reason="x"))
    db.session.commit()
    response = client.post(f"/organisations/{organisation.id}/notes/{note_id}", data={"body": "y"})
    assert response.status_code == 403
    assert db.session.get(Note, note_id).body == "originalet"


def test_reminders_list_inquiries_late_for_a_first_response_whatever_their_status(runner, db):
    secretary = UserFactory(role="secretary_general")
    cases = late_and_not(assignee_id=secretary.id)
    runner.invoke(args=["crm", "send-reminders"])
    [digest] = mails(db, "reminder")
    for name, (inquiry, late) in cases.items():
        assert (inquiry.reference in digest.body_text) is late, name


def test_no_reminder_for_an_inquiry_that_was_answered_after_its_deadline(runner, db):
    secretary = UserFactory(role="secretary_general")
    past = utcnow() - timedelta(days=2)
    InquiryFactory(assignee_id=secretary.id, first_response_due_at=past, first_response_at=past)
    runner.invoke(args=["crm", "send-reminders"])
    assert mails(db, "reminder") == []
