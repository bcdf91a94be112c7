"""Inquiry pages through HTTP: list, inbox, detail and the actions on it."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.activity.models import FollowUp, Note, TimelineEvent
from crm.extensions import db as _db
from crm.inquiries.statuses import Outcome, Status
from crm.models import AuditLog, ConflictDeclaration, Inquiry, Organisation
from crm.timeutil import local_today, utcnow
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory
from tests.helpers import STOCKHOLM, events, fresh, late_and_not, mails


def test_list_search_finds_reference_subject_contact_and_organisation(client, db, login_as):
    login_as("secretary_general")
    target = InquiryFactory(
        subject="Textilhantverk i Dalarna",
        contact_name="Birgitta Berg",
        organisation_name="Dalarnas hemslöjd",
    )
    InquiryFactory(subject="Något helt annat")
    for term in (target.reference, "textilhantverk", "BIRGITTA", "hemslöjd"):
        page = client.get("/inquiries", query_string={"q": term}).text
        assert target.reference in page, term
        assert "Något helt annat" not in page, term


@pytest.mark.parametrize("term", ["%", "_", "\\", "'", "100%_rabatt", "' OR 1=1 --"])
def test_v5_3_4_sql_meta_characters_are_plain_text(client, db, login_as, term):
    login_as("secretary_general")
    InquiryFactory(subject="Vanlig rubrik")
    literal = InquiryFactory(subject=f"Rubrik med {term} i")
    response = client.get("/inquiries", query_string={"q": term})
    assert response.status_code == 200
    assert literal.reference in response.text
    assert "Vanlig rubrik" not in response.text


def test_list_filters(client, db, login_as):
    me = login_as("secretary_general")
    mine = InquiryFactory(assignee_id=me.id, category="research", organisation_type="university")
    mine.regions = ["12"]
    db.session.commit()
    other = InquiryFactory(status=Status.TRIAGED)
    late = InquiryFactory(first_response_due_at=utcnow() - timedelta(days=1))
    ended = InquiryFactory(status=Status.CLOSED, outcome=Outcome.DECLINED, closed_at=utcnow())
    cases = {
        "assignee=me": {mine},
        "assignee=none": {other, late, ended},
        "category=research": {mine},
        "organisation_type=university": {mine},
        "region=12": {mine},
        "status=triaged": {other},
        "status=open": {mine, other, late},
        "overdue=1": {late},
        "outcome=declined": {ended},
        "outcome=agreed": set(),
        f"year={utcnow().year}": {mine, other, late, ended},
        "year=2001": set(),
    }
    everyone = {mine, other, late, ended}
    for query, expected in cases.items():
        page = client.get("/inquiries?" + query).text
        for inquiry in everyone:
            assert (inquiry.reference in page) == (inquiry in expected), (query, inquiry.reference)


def test_unknown_filter_values_are_ignored_not_errors(client, db, login_as):
    login_as("board")
    InquiryFactory()
    response = client.get(
        "/inquiries?status=nope&year=abc&assignee=x&region=99&sort=evil&after=garbage"
    )
    assert response.status_code == 200


def test_keyset_pagination_walks_every_row_once_and_keeps_filters(client, db, login_as):
    login_as("secretary_general")
    now = utcnow()
    db.session.add_all(
        InquiryFactory.build(created_at=now - timedelta(minutes=n), category="education")
        for n in range(120)
    )
    db.session.commit()
    seen, url, pages = [], "/inquiries?category=education", 0
    while url:
        page = client.get(url).text
        pages += 1
        seen += re.findall(r'href="/inquiries/(SAM-[0-9-]+)"', page)
        marker = 'rel="next"'
        url = None
        if marker in page:
            link = page.split(marker)[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
            assert "category=education" in link
            url = link
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120
    # and back again
    last = client.get(url or "/inquiries?category=education").text
    assert 'rel="prev"' not in last  # the first page has no previous page


def test_detail_shows_everything_and_only_allowed_next_statuses(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory(status=Status.IN_DIALOGUE, phone="070-111 22 33")
    page = client.get(f"/inquiries/{inquiry.reference}").text
    for text in (
        inquiry.subject,
        inquiry.message,
        inquiry.contact_name,
        inquiry.email,
        "070-111 22 33",
    ):
        assert text in page
    options = page.split('id="status"')[1].split("</select>")[0]
    assert [
        label for label in ("Pausad", "Överenskommen", "Avböjd", "Återkallad") if label in options
    ] == ["Pausad", "Överenskommen", "Avböjd", "Återkallad"]
    assert "Bedömd" not in options
    assert "Skräp" not in options


def test_triaging_is_timelined_but_is_no_response(client, db, login_as):
    me = login_as("secretary_general")
    inquiry = InquiryFactory()
    response = client.post(
        f"/inquiries/{inquiry.reference}/status", data={"status": "triaged", "version": 1}
    )
    assert response.status_code == 302
    stored = fresh(db, inquiry)
    assert stored.status == Status.TRIAGED
    assert stored.first_response_at is None
    event = db.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "status_changed"))
    assert event.actor_id == me.id


def test_declining_answers_the_partner(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    client.post(f"/inquiries/{inquiry.reference}/status", data={"status": "declined", "version": 1})
    stored = fresh(db, inquiry)
    assert (stored.status, stored.outcome) == ("declined", "declined")
    assert stored.first_response_at is not None


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("notes", {"body": "Intern tanke."}),
        ("priority", {"priority": "high", "version": 1}),
        (
            "follow-ups",
            {"title": "Ring", "due_on": local_today().isoformat(), "recurrence": "none"},
        ),
        ("organisation", {"action": "create", "version": 1}),
    ],
)
def test_internal_work_through_the_page_is_no_response(client, db, login_as, path, data):
    me = login_as("secretary_general")
    # received a month ago: late whatever the priority's target
    inquiry = InquiryFactory(
        created_at=utcnow() - timedelta(days=30),
        first_response_due_at=utcnow() - timedelta(hours=1),
    )
    data = {**data, "owner": me.id} if path == "follow-ups" else data
    response = client.post(f"/inquiries/{inquiry.reference}/{path}", data=data)
    assert response.status_code == 302, response.text
    assert fresh(db, inquiry).first_response_at is None
    assert "Försenad" in client.get(f"/inquiries/{inquiry.reference}").text


def contact_form(**overrides):
    when = (utcnow() - timedelta(hours=1)).astimezone(STOCKHOLM)
    return {
        "channel": "phone",
        "summary": "Ringde och lovade besked efter styrelsemötet.",
        "happened_at": when.strftime("%Y-%m-%dT%H:%M"),
        **overrides,
    }


def test_log_a_contact_made_by_phone(client, db, login_as, monkeypatch):
    me = login_as("secretary_general")
    inquiry = InquiryFactory(
        created_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
        first_response_due_at=datetime(2026, 11, 25, 9, tzinfo=UTC),
    )
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert "Registrera kontakt" in page
    assert "Försenad" in page
    form = page.split('action="/inquiries/' + inquiry.reference + '/contacts"')[1]
    assert 'type="datetime-local"' in form.split("</form>")[0]
    assert "E-post skickad utanför Samverka" in form
    called = datetime(2026, 11, 26, 14, 30, tzinfo=STOCKHOLM)
    later = (called + timedelta(hours=3)).astimezone(UTC)
    monkeypatch.setattr("crm.inquiries.services.utcnow", lambda: later)
    response = client.post(
        f"/inquiries/{inquiry.reference}/contacts",
        data=contact_form(happened_at="2026-11-26T14:30", summary="Ringde <b>Anna</b>."),
    )
    assert response.status_code == 302, response.text
    stored = fresh(db, inquiry)
    assert stored.first_response_at == called.astimezone(UTC)  # when it happened, not now
    event = db.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "contact_logged"))
    assert (event.actor_id, event.data["channel"]) == (me.id, "phone")
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert "Kontakt med avsändaren (Telefon): " in page
    assert "Ringde &lt;b&gt;Anna&lt;/b&gt;." in page
    assert "Försenad" not in page
    assert "Besvarad" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"summary": ""}, "Skriv vad kontakten gällde."),
        ({"summary": "x" * 2001}, "Högst 2000 tecken."),
        ({"happened_at": "i tisdags"}, "Ange dag och tid som ÅÅÅÅ-MM-DD TT:MM."),
        ({"happened_at": ""}, "Ange dag och tid som ÅÅÅÅ-MM-DD TT:MM."),
        ({"happened_at": "2099-01-01T10:00"}, "Tidpunkten kan inte ligga i framtiden."),
        ({"channel": "web_form"}, "Välj ett av alternativen."),
    ],
)
def test_a_contact_that_cannot_be_true_is_refused_beside_its_field(
    client, db, login_as, overrides, message
):
    login_as("secretary_general")
    inquiry = InquiryFactory(created_at=utcnow() - timedelta(days=2))
    response = client.post(
        f"/inquiries/{inquiry.reference}/contacts", data=contact_form(**overrides)
    )
    assert response.status_code == 422
    assert message in response.text
    assert fresh(db, inquiry).first_response_at is None
    assert "contact_logged" not in events(db, inquiry)


def test_invalid_transition_is_explained_beside_the_field(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory(status=Status.CLOSED)
    response = client.post(
        f"/inquiries/{inquiry.reference}/status", data={"status": "agreed", "version": 1}
    )
    assert response.status_code == 422
    assert "Välj en av de tillåtna statusarna." in response.text
    assert fresh(db, inquiry).status == Status.CLOSED


def test_spam_asks_for_confirmation(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    response = client.post(
        f"/inquiries/{inquiry.reference}/status", data={"status": "spam", "version": 1}
    )
    assert "Bekräfta att förfrågan är skräp." in response.text
    assert fresh(db, inquiry).status == Status.NEW
    client.post(
        f"/inquiries/{inquiry.reference}/status",
        data={"status": "spam", "version": 1, "confirm_spam": "y"},
    )
    assert fresh(db, inquiry).status == Status.SPAM
    assert fresh(db, inquiry).anonymised_at is not None


def test_stale_version_is_refused_and_nothing_is_overwritten(app, db, login_as):
    first, second = app.test_client(), app.test_client()
    inquiry = InquiryFactory()
    for client, role in ((first, "secretary_general"), (second, "chair")):
        user = UserFactory(role=role)
        client.post("/login", data={"email": user.email, "password": "korrekt-häst-batteri-häfta"})
    seen = fresh(db, inquiry).version
    assert (
        first.post(
            f"/inquiries/{inquiry.reference}/priority", data={"priority": "high", "version": seen}
        ).status_code
        == 302
    )
    response = second.post(
        f"/inquiries/{inquiry.reference}/priority", data={"priority": "low", "version": seen}
    )
    assert response.status_code == 409
    assert "Någon annan har ändrat förfrågan" in response.text
    assert fresh(db, inquiry).priority == "high"


def test_reassignment_emails_the_new_assignee(client, db, login_as):
    me = login_as("secretary_general")
    chair = UserFactory(role="chair", email="ordforande@lansmuseerna.se")
    inquiry = InquiryFactory(assignee_id=me.id)
    client.post(f"/inquiries/{inquiry.reference}/assign", data={"assignee": chair.id, "version": 1})
    assert fresh(db, inquiry).assignee_id == chair.id
    [notice] = mails(db, "assignee_notice")
    assert notice.recipient == "ordforande@lansmuseerna.se"
    assert f"/inquiries/{inquiry.reference}" in notice.body_text
    assert "assigned" in events(db, inquiry)


def test_board_member_cannot_be_assigned(client, db, login_as):
    login_as("secretary_general")
    board = UserFactory(role="board")
    inquiry = InquiryFactory()
    response = client.post(
        f"/inquiries/{inquiry.reference}/assign", data={"assignee": board.id, "version": 1}
    )
    assert response.status_code == 422
    assert fresh(db, inquiry).assignee_id is None


def test_chair_declares_conflict_and_it_returns_to_the_secretary_general(client, db, login_as):
    secretary = UserFactory(role="secretary_general")
    chair = login_as("chair")
    inquiry = InquiryFactory(assignee_id=chair.id)
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert "Anmäl jäv" in page
    empty = client.post(
        f"/inquiries/{inquiry.reference}/conflict", data={"reason": " ", "version": 1}
    )
    assert "Skriv varför du är jävig." in empty.text
    client.post(
        f"/inquiries/{inquiry.reference}/conflict",
        data={"reason": "Jag sitter i föreningens styrelse.", "version": 1},
    )
    stored = fresh(db, inquiry)
    assert stored.assignee_id == secretary.id
    conflict = db.session.scalar(
        select(TimelineEvent).where(TimelineEvent.kind == "conflict_declared")
    )
    assert conflict.data["reason"] == "Jag sitter i föreningens styrelse."
    assert conflict.actor_id == chair.id
    assert [m.recipient for m in mails(db, "assignee_notice")] == [secretary.email]


def test_secretary_general_declares_conflict_and_it_goes_to_the_chair(client, db, login_as):
    me = login_as("secretary_general")
    chair = UserFactory(role="chair", name="Olof Ordförande")
    inquiry = InquiryFactory(assignee_id=me.id)
    assert "Anmäl jäv och lämna över" in client.get(f"/inquiries/{inquiry.reference}").text
    response = client.post(
        f"/inquiries/{inquiry.reference}/conflict",
        data={"reason": "Min syster leder projektet.", "version": 1},
        follow_redirects=True,
    )
    assert "Jäv anmält. Förfrågan är överlämnad till Olof Ordförande." in response.text
    assert fresh(db, inquiry).assignee_id == chair.id
    assert [m.recipient for m in mails(db, "assignee_notice")] == [chair.email]


def test_declaring_without_being_responsible_keeps_the_assignee(client, db, login_as):
    secretary = UserFactory(role="secretary_general")
    login_as("chair")
    inquiry = InquiryFactory(assignee_id=secretary.id)
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert "Anmäl jäv och lämna över" not in page
    response = client.post(
        f"/inquiries/{inquiry.reference}/conflict",
        data={"reason": "Jag sitter i styrelsen.", "version": 1},
        follow_redirects=True,
    )
    assert "Jäv anmält. Du kan fortfarande läsa förfrågan men inte ändra den." in response.text
    assert fresh(db, inquiry).assignee_id == secretary.id
    assert mails(db, "assignee_notice") == []


def test_when_everyone_is_javig_the_page_says_nobody_is_responsible(client, db, login_as):
    me = login_as("secretary_general")
    chair = UserFactory(role="chair")
    inquiry = InquiryFactory(assignee_id=me.id)
    inquiry.conflicts.append(ConflictDeclaration(user_id=chair.id, user=chair, reason="Jävig"))
    db.session.commit()
    response = client.post(
        f"/inquiries/{inquiry.reference}/conflict",
        data={"reason": "Jag med.", "version": fresh(db, inquiry).version},
        follow_redirects=True,
    )
    assert "Alla som kan ansvara för förfrågan har anmält jäv" in response.text
    assert "Ingen ansvarig" in response.text
    assert fresh(db, inquiry).assignee_id is None
    assert inquiry.reference in client.get("/inbox").text.split("Ej tilldelade")[1]


def _javig(inquiry, user, reason="Jag sitter i föreningens styrelse."):
    inquiry.conflicts.append(ConflictDeclaration(user_id=user.id, user=user, reason=reason))
    _db.session.commit()


def test_a_javig_user_reads_the_inquiry_with_a_notice_and_no_forms(client, db, login_as):
    secretary = UserFactory(role="secretary_general", name="Greta Generalsekreterare")
    me = login_as("chair", name="Olof Ordförande")
    inquiry = InquiryFactory(assignee_id=secretary.id)
    db.session.add(FollowUp(title="Ring", due_on=local_today(), owner_id=secretary.id,
                            inquiry_id=inquiry.id))  # fmt: skip
    _javig(inquiry, me)
    page = client.get(f"/inquiries/{inquiry.reference}").text
    main = page.split('id="main"')[1]
    assert "Du har anmält jäv för den här förfrågan" in main
    assert inquiry.message in main  # reading is still allowed
    assert "<form" not in main
    # the declaration is on the page: who, when and why
    panel = main.split('id="conflict-title"')[1].split("</section>")[0]
    assert "Olof Ordförande" in panel
    assert "Jag sitter i föreningens styrelse." in panel
    assert utcnow().strftime("%Y") in panel


def test_colleagues_see_the_declaration_and_no_javig_candidate(client, db, login_as):
    chair = UserFactory(role="chair", name="Olof Ordförande")
    login_as("secretary_general")
    inquiry = InquiryFactory()
    _javig(inquiry, chair)
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert "Du har anmält jäv" not in page
    panel = page.split('id="conflict-title"')[1].split("</section>")[0]
    assert "Olof Ordförande" in panel
    assert "Jag sitter i föreningens styrelse." in panel
    for select_id in ('id="assignee"', 'id="owner"'):
        options = page.split(select_id)[1].split("</select>")[0]
        assert "Olof Ordförande" not in options, select_id
    response = client.post(
        f"/inquiries/{inquiry.reference}/assign", data={"assignee": chair.id, "version": 1}
    )
    assert response.status_code == 422
    assert fresh(db, inquiry).assignee_id is None


# Every POST on an inquiry a jävig person might still send (an old tab, a crafted request).
JAVIG_POSTS = {
    "status": {"status": "triaged", "version": 1},
    "priority": {"priority": "high", "version": 1},
    "assign": {"assignee": "{me}", "version": 1},
    "conflict": {"reason": "igen", "version": 1},
    "notes": {"body": "min åsikt"},
    "notes/{note}": {"body": "ändrad"},
    "reply": {"body": "Hej!"},
    "follow-ups": {"title": "Ring", "due_on": local_today().isoformat(), "owner": "{secretary}",
                   "recurrence": "none"},
    "organisation": {"action": "create", "version": 1},
    "/follow-ups/{follow_up}/done": {},
    "/follow-ups/{follow_up}/reschedule": {"due_on": local_today().isoformat()},
}  # fmt: skip


@pytest.mark.parametrize("action", JAVIG_POSTS)
def test_every_action_of_a_javig_user_is_refused_with_403(client, db, login_as, action):
    secretary = UserFactory(role="secretary_general")
    me = login_as("chair")
    inquiry = InquiryFactory(assignee_id=secretary.id)
    note = Note(inquiry_id=inquiry.id, author_id=me.id, body="före jävet")
    follow_up = FollowUp(title="Min", due_on=local_today(), owner_id=me.id, inquiry_id=inquiry.id)
    db.session.add_all([note, follow_up])
    _javig(inquiry, me)
    ids = {"me": me.id, "secretary": secretary.id, "note": note.id, "follow_up": follow_up.id}
    path = action.format(**ids)
    url = path if path.startswith("/") else f"/inquiries/{inquiry.reference}/{path}"
    data = {key: str(value).format(**ids) for key, value in JAVIG_POSTS[action].items()}
    # A refused request rolls back, which expires the objects: keep what is compared.
    inquiry_id, due_on = inquiry.id, follow_up.due_on
    stored = lambda: db.session.get(Inquiry, inquiry_id)  # noqa: E731
    before = (stored().version, stored().status, stored().assignee_id, events(db, stored()))
    response = client.post(url, data=data)
    if action == "assign":  # the jävig person is no choice in the form
        assert response.status_code == 422
    else:
        assert response.status_code == 403, response.text
        assert "anmält jäv" in response.text
    after = (stored().version, stored().status, stored().assignee_id, events(db, stored()))
    assert after == before
    assert [n.body for n in db.session.scalars(select(Note))] == ["före jävet"]
    [kept] = db.session.scalars(select(FollowUp)).all()
    assert (kept.completed_at, kept.due_on) == (None, due_on)
    assert mails(db) == []


def test_a_javig_user_cannot_move_the_card_on_the_pipeline(client, db, login_as):
    me = login_as("chair")
    mine, other = InquiryFactory(), InquiryFactory()
    _javig(mine, me)
    column = client.get("/pipeline").text.split('id="col-new"')[1].split("</section>")[0]
    cards = {ref: card for card in column.split("<article")[1:]
             for ref in (mine.reference, other.reference) if ref in card}  # fmt: skip
    assert "→ Bedömd" not in cards[mine.reference]
    assert "Du har anmält jäv" in cards[mine.reference]
    assert "→ Bedömd" in cards[other.reference]


def test_public_reply_reaches_status_page_and_mail(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory(email="svar@exempel.se")
    client.post(f"/inquiries/{inquiry.reference}/reply", data={"body": "Vi ses i maj!"})
    [mail] = mails(db, "public_reply")
    assert mail.recipient == "svar@exempel.se"
    assert "Vi ses i maj!" in mail.body_text
    assert fresh(db, inquiry).first_response_at is not None


def test_inbox_shows_my_new_overdue_follow_ups_and_unassigned(client, db, login_as):
    me = login_as("secretary_general")
    new = InquiryFactory(assignee_id=me.id, subject="Min nya")
    late = InquiryFactory(
        assignee_id=me.id, subject="Min sena", first_response_due_at=utcnow() - timedelta(days=2)
    )
    loose = InquiryFactory(subject="Ingens")
    db.session.add(FollowUp(title="Skicka avtal", due_on=local_today(), owner_id=me.id))
    db.session.commit()
    page = client.get("/inbox").text
    overdue_section = page.split("Mina försenade första svar")[1].split("Mina nya förfrågningar")[0]
    assert late.reference in overdue_section
    assert new.reference not in overdue_section
    for text in (new.reference, loose.reference, "Skicka avtal"):
        assert text in page
    assert '<span class="count">2</span>' in page  # my new inquiries in the navigation


def test_a_handed_over_inquiry_waits_in_the_inbox_until_opened(app, client, db, login_as):
    me = login_as("chair")
    secretary = UserFactory(role="secretary_general")
    handed = InquiryFactory(assignee_id=secretary.id, status=Status.TRIAGED, subject="Överlämnad")
    brand_new = InquiryFactory(assignee_id=me.id, subject="Alldeles ny")
    other = app.test_client()
    other.post("/login", data={"email": secretary.email, "password": "korrekt-häst-batteri-häfta"})
    other.post(f"/inquiries/{handed.reference}/assign", data={"assignee": me.id, "version": 1})
    page = client.get("/inbox").text
    unseen = page.split("Tilldelade dig, inte öppnade")[1].split("</table>")[0]
    assert handed.reference in unseen
    assert brand_new.reference not in unseen  # it is in "Mina nya förfrågningar" already
    assert '<span class="count">2</span>' in page  # one new, one handed over
    client.get(f"/inquiries/{handed.reference}")
    page = client.get("/inbox").text
    assert handed.reference not in page
    assert "Inget har lämnats över till dig som du inte har öppnat." in page
    assert '<span class="count">1</span>' in page
    # opening it stamped it without a new version: the secretary's open forms still work
    assert fresh(db, handed).version == 2


def test_someone_elses_look_does_not_count_as_the_assignees(app, client, db, login_as):
    login_as("secretary_general")
    chair = UserFactory(role="chair")
    inquiry = InquiryFactory(assignee_id=chair.id, status=Status.TRIAGED)
    client.get(f"/inquiries/{inquiry.reference}")
    assert fresh(db, inquiry).assignee_seen_at is None


def test_log_inquiry_from_phone_without_receipt(client, db, login_as):
    me = login_as("secretary_general")
    data = {
        "channel": "phone",
        "organisation_name": "Kalmar kommun",
        "organisation_type": "municipality_region",
        "contact_name": "Kim",
        "email": "kim@kalmar.se",
        "category": "education",
        "subject": "Skolprojekt",
        "message": "Ringde om skolprojekt.",
        "addressee": "no_preference",
    }
    response = client.post("/inquiries/new", data=data)
    inquiry = db.session.scalar(select(Inquiry))
    assert response.headers["Location"] == f"/inquiries/{inquiry.reference}"
    assert (inquiry.channel, inquiry.created_by_id, inquiry.assignee_id) == ("phone", me.id, me.id)
    assert inquiry.consent_text_version is None
    assert mails(db, "receipt") == []
    client.post("/inquiries/new", data={**data, "send_receipt": "y", "email": "kim2@kalmar.se"})
    assert [m.recipient for m in mails(db, "receipt")] == ["kim2@kalmar.se"]


def test_log_inquiry_validates_like_the_public_form(client, db, login_as):
    login_as("secretary_general")
    response = client.post("/inquiries/new", data={"channel": "web_form", "email": "a@b"})
    assert response.status_code == 422
    assert "Ange en giltig e-postadress" in response.text
    assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 0


def test_the_staff_form_asks_for_the_contact_not_for_you(client, db, login_as):
    login_as("secretary_general")
    staff = client.post("/inquiries/new", data={"channel": "phone"}).text
    assert "Ange kontaktpersonens namn." in staff
    assert "Ange kontaktpersonens e-postadress." in staff
    assert "Ange ditt namn." not in staff
    # the public form, whose fields the staff form shares, still speaks to the submitter
    public = client.post("/samverkan", data={}).text
    assert "Ange ditt namn." in public


def test_link_unlink_and_create_organisation(client, db, login_as):
    login_as("secretary_general")
    museum = OrganisationFactory(name="Jamtli")
    inquiry = InquiryFactory(organisation_name="Nya föreningen", email="a@nyaforeningen.se")
    url = f"/inquiries/{inquiry.reference}/organisation"
    client.post(url, data={"action": "link", "organisation_name": "jamtli", "version": 1})
    assert fresh(db, inquiry).organisation_id == museum.id
    client.post(url, data={"action": "unlink", "version": fresh(db, inquiry).version})
    assert fresh(db, inquiry).organisation_id is None
    client.post(url, data={"action": "create", "version": fresh(db, inquiry).version})
    created = db.session.scalar(select(Organisation).where(Organisation.name == "Nya föreningen"))
    assert created.email_domain == "nyaforeningen.se"
    assert fresh(db, inquiry).organisation_id == created.id
    other = InquiryFactory(organisation_name="NYA FÖRENINGEN")
    refused = client.post(
        f"/inquiries/{other.reference}/organisation", data={"action": "create", "version": 1}
    )
    assert "finns redan i registret" in refused.text
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 2
    assert db.session.scalar(
        select(AuditLog.action).where(AuditLog.action == "organisation_created")
    )


def test_board_sees_the_inquiry_but_no_buttons(client, db, login_as):
    login_as("board")
    inquiry = InquiryFactory()
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert inquiry.subject in page
    assert "<form" not in page.split('id="main"')[1]
    response = client.post(f"/inquiries/{inquiry.reference}/notes", data={"body": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/inbox", "/inquiries", "/inquiries/{reference}", "/follow-ups"])
def test_query_count_does_not_grow_with_rows(db, login_as, statements_for, path):
    me = login_as("secretary_general")
    chair = UserFactory(role="chair")

    def add(n):
        batch = InquiryFactory.build_batch(n, assignee_id=me.id)
        db.session.add_all(batch)
        db.session.flush()
        for inquiry in batch:
            db.session.add(Note(inquiry_id=inquiry.id, author_id=chair.id, body="n"))
            db.session.add(
                FollowUp(title="f", due_on=local_today(), owner_id=me.id, inquiry_id=inquiry.id)
            )
            db.session.add(
                TimelineEvent(inquiry_id=inquiry.id, actor_id=chair.id, kind="note_added")
            )
        db.session.commit()
        return batch

    few = add(5)
    page = path.format(reference=few[0].reference)
    small = statements_for(page)
    add(200)
    large = statements_for(page)
    assert small == large, (path, small, large)
    assert large <= 17  # the detail page: 16, and one for the reply's template choices


def test_common_search_terms_give_the_same_answer(client, db, login_as, monkeypatch):
    """On SQLite a very common term switches from the index to a newest-first walk."""
    monkeypatch.setattr("crm.inquiries.queries.COMMON", 2)
    login_as("secretary_general")
    hits = [InquiryFactory(subject=f"Gemensam utställning {n}") for n in range(3)]
    miss = InquiryFactory(subject="Något annat")
    page = client.get("/inquiries?q=gemensam").text
    assert all(inquiry.reference in page for inquiry in hits)
    assert miss.reference not in page


SEARCH_ROWS = {
    "both": ("Textilhantverk i Dalarna", "Dalarnas museum"),
    "one": ("Textilhantverk i Skåne", "Skånes museum"),
    "other": ("Dalarna och smide", "Smedjan"),
    "short": ("Ur och skur i Dalarna", "Friluftsfrämjandet"),
}


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("textilhantverk dalarna", {"both"}),
        ("dalarna   TEXTILHANTVERK", {"both"}),  # any order, any case, any spacing
        ("textil museum", {"both", "one"}),  # words may be in different columns
        ("dalarna ur", {"short"}),  # a word under three characters with a longer one
        ("ur dalarna", {"short"}),
        ("textilhantverk smide", set()),  # every word must be found
        ('"i dalarna"', {"both", "short"}),  # a quoted phrase stays whole
        ('"dalarna textilhantverk"', set()),
        ("dalarna", {"both", "other", "short"}),
    ],
)
def test_search_finds_inquiries_containing_every_word(client, db, login_as, term, found):
    login_as("secretary_general")
    rows = {key: InquiryFactory(subject=subject, organisation_name=organisation)
            for key, (subject, organisation) in SEARCH_ROWS.items()}  # fmt: skip
    page = client.get("/inquiries", query_string={"q": term}).text
    assert {key for key, inquiry in rows.items() if inquiry.reference in page} == found


def test_multi_word_search_also_takes_the_common_word_path(client, db, login_as, monkeypatch):
    """On SQLite, words matching most rows switch to the LIKE walk; the answer is the same."""
    monkeypatch.setattr("crm.inquiries.queries.COMMON", 2)
    login_as("secretary_general")
    hits = [InquiryFactory(subject=f"Gemensam vävstol {n}") for n in range(3)]
    miss = InquiryFactory(subject="Gemensam konferens")
    page = client.get("/inquiries?q=gemensam+vävstol").text
    assert all(inquiry.reference in page for inquiry in hits)
    assert miss.reference not in page


@pytest.mark.parametrize("term", ["%", "_", "\\", "'", "100%_rabatt", "' OR 1=1 --"])
def test_sql_meta_characters_are_plain_text_beside_another_word(client, db, login_as, term):
    login_as("secretary_general")
    InquiryFactory(subject=f"Rubrik med {term} utan ordet")
    InquiryFactory(subject="Rubrik med vävstol")
    literal = InquiryFactory(subject=f"Rubrik med {term} och vävstol")
    response = client.get("/inquiries", query_string={"q": f"{term} vävstol"})
    assert response.status_code == 200
    page = response.text
    assert literal.reference in page
    assert page.count("Rubrik med") == 1


def test_the_overdue_filter_and_the_late_badge_mean_late_for_a_first_response(client, db, login_as):
    login_as("secretary_general")
    cases = late_and_not()
    filtered = client.get("/inquiries?overdue=1").text
    rows = {
        ref: row
        for row in client.get("/inquiries").text.split("<tr>")[2:]
        for ref in re.findall(r">(SAM-\d{4}-\d{4})<", row)[:1]
    }
    for name, (inquiry, late) in cases.items():
        assert (inquiry.reference in filtered) is late, name
        assert ("Försenad" in rows[inquiry.reference]) is late, name
        detail = client.get(f"/inquiries/{inquiry.reference}").text.split('id="main"')[1]
        assert ("Försenad" in detail) is late, name


def test_the_inbox_shows_my_inquiries_late_for_a_first_response_whatever_their_status(
    client, db, login_as
):
    me = login_as("secretary_general")
    cases = late_and_not()
    for inquiry, _late in cases.values():
        inquiry.assignee_id = me.id
        inquiry.assignee_seen_at = utcnow()  # opened already: only lateness puts them here
    db.session.commit()
    page = client.get("/inbox").text
    overdue = page.split("Mina försenade första svar")[1].split("Mina nya förfrågningar")[0]
    for name, (inquiry, late) in cases.items():
        assert (inquiry.reference in overdue) is late, name
    # the menu counts what the inbox lists: new ones (3, one answered) and late ones (2 more)
    assert '<span class="count">5</span>' in page


def test_the_outcome_shows_on_a_closed_inquiry(client, db, login_as):
    login_as("board")
    closed = InquiryFactory(status=Status.CLOSED, outcome=Outcome.AGREED, closed_at=utcnow())
    agreed = InquiryFactory(status=Status.AGREED, outcome=Outcome.AGREED, closed_at=utcnow())
    page = client.get(f"/inquiries/{closed.reference}").text
    assert "utfall: Överenskommen" in page
    assert "utfall:" not in client.get(f"/inquiries/{agreed.reference}").text  # says it already
    row = client.get("/inquiries").text.split(closed.reference)[2].split("</tr>")[0]
    assert "Avslutad" in row
    assert "Överenskommen" in row


def test_the_menu_counts_an_inquiry_once_however_many_inbox_groups_it_is_in(client, db, login_as):
    me = login_as("secretary_general")
    # handed to me, not opened yet, and late for a first response: two groups, one count
    InquiryFactory(
        assignee_id=me.id, status=Status.TRIAGED, first_response_due_at=utcnow() - timedelta(days=1)
    )
    InquiryFactory(assignee_id=me.id, status=Status.TRIAGED)  # handed over, not late
    page = client.get("/inbox").text
    assert '<span class="count">2</span>' in page
