"""The public inquiry form through HTTP: fields, errors, spam defence, limits."""

import re
import time

import pytest
from sqlalchemy import func, select

from crm.models import Inquiry, OutboxMessage, TimelineEvent
from crm.public.spam import form_started_token
from crm.timeutil import utcnow
from tests.conftest import make_app
from tests.factories import UserFactory
from tests.helpers import rendered
from tests.public.helpers import form_data

FIELD_NAMES = [
    "organisation_name", "organisation_type", "organisation_number", "contact_name", "email",
    "phone", "category", "regions", "subject", "message", "addressee", "consent",
]  # fmt: skip


def inquiry_count(db):
    return db.session.scalar(select(func.count()).select_from(Inquiry))


def test_form_is_swedish_with_labelled_fields(client):
    page = client.get("/samverkan")
    assert page.status_code == 200
    assert "<h1>Föreslå ett samarbete</h1>" in page.text
    for name in FIELD_NAMES:
        assert f'name="{name}"' in page.text, name
    assert '<label for="email">E-postadress</label>' in page.text
    assert 'href="/integritet"' in page.text
    assert "<legend>Län som berörs" in page.text


def test_valid_submission_stores_routes_and_queues_mail(app, client, db):
    secretary = UserFactory(role="secretary_general")
    response = client.post("/samverkan", data=form_data(app))
    assert response.status_code == 302
    assert response.headers["Location"] == "/samverkan/tack"
    receipt = client.get("/samverkan/tack")
    year = utcnow().year
    assert f"SAM-{year}-0001" in receipt.text
    assert "/samverkan/status/" in receipt.text

    inquiry = db.session.scalar(select(Inquiry))
    assert inquiry.reference == f"SAM-{year}-0001"
    assert inquiry.contact_name == "Åsa Öberg"
    assert inquiry.message == "Hej!\nVi vill gärna göra en utställning tillsammans.\n\nMvh Åsa"
    assert sorted(inquiry.regions) == ["03", "04"]
    assert inquiry.status == "new"
    assert inquiry.assignee_id == secretary.id
    assert inquiry.consent_text_version == "2026-11"
    assert inquiry.consent_at is not None
    assert len(inquiry.status_token_hash) == 64
    due = inquiry.first_response_due_at
    assert due.weekday() < 5
    assert 5 <= (due - inquiry.created_at).days <= 7

    mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.kind, m.recipient) for m in mails] == [
        ("assignee_notice", secretary.email),
        ("receipt", "asa.oberg@hembygd-sormland.se"),
    ]
    assert [m.subject for m in mails] == ["", ""]  # the sender renders them
    mails = rendered(db)
    assert "Åsa" not in mails[0].subject  # no personal data beyond the organisation
    assert mails[0].subject == f"[SAM-{year}-0001] Ny förfrågan från Sörmlands hembygdsförbund"
    kinds = db.session.scalars(
        select(TimelineEvent.kind).where(TimelineEvent.inquiry_id == inquiry.id)
    ).all()
    assert kinds == ["created", "routed"]


def test_reloading_the_receipt_does_not_resubmit(app, client, db):
    client.post("/samverkan", data=form_data(app))
    reference = f"SAM-{utcnow().year}-0001"
    assert reference in client.get("/samverkan/tack").text
    assert reference in client.get("/samverkan/tack").text
    assert inquiry_count(db) == 1


def test_receipt_without_a_submission_goes_to_the_form(client):
    assert client.get("/samverkan/tack").headers["Location"] == "/samverkan"


LONG = "x" * 201
FIELD_ERRORS = [
    ("organisation_name", "", "Ange organisationens namn."),
    ("organisation_name", "x" * 201, "Högst 200 tecken."),
    ("organisation_type", "", "Välj typ av organisation."),
    ("organisation_type", "pirate", "Välj ett av alternativen."),
    ("organisation_number", "556036-0794", "Kontrollera siffrorna"),
    ("organisation_number", "12345", "NNNNNN-NNNN"),
    ("contact_name", "", "Ange ditt namn."),
    ("contact_name", "x" * 10_000, "Högst 200 tecken."),
    ("email", "", "Ange din e-postadress."),
    ("email", "a@b", "Ange en giltig e-postadress"),
    ("email", "inte en adress", "Ange en giltig e-postadress"),
    ("phone", "ring mig", "Ange ett telefonnummer med siffror"),
    ("category", "", "Välj vad förfrågan gäller."),
    ("regions", ["99"], "Välj län i listan."),
    ("subject", "", "Skriv en kort rubrik."),
    ("subject", LONG, "Rubriken får ha högst 200 tecken."),
    ("message", "", "Beskriv vad ni vill samarbeta om."),
    ("message", "y" * 5001, "Texten får ha högst 5000 tecken."),
    ("addressee", "king", "Välj ett av alternativen."),
    ("consent", None, "Bekräfta att du har läst integritetsmeddelandet."),
]


@pytest.mark.parametrize(("name", "value", "message"), FIELD_ERRORS)
def test_v5_1_3_field_errors_are_shown_beside_the_field(app, client, db, name, value, message):
    data = form_data(app, **{name: value})  # a None value leaves the field out
    response = client.post("/samverkan", data=data)
    assert response.status_code == 422
    page = response.text
    assert f'id="{name}-error"' in page
    assert message in page
    assert "Det finns fel i formuläret" in page  # the summary at the top
    assert f'href="#{name}"' in page
    assert "Sörmlands hembygdsförbund" in page or name == "organisation_name"  # input kept
    assert inquiry_count(db) == 0


def test_valid_org_number_is_normalised(app, client, db):
    client.post("/samverkan", data=form_data(app, organisation_number="5560360793"))
    assert db.session.scalar(select(Inquiry.organisation_number)) == "556036-0793"


def test_control_characters_are_stripped_and_lines_kept_only_in_the_message(app, client, db):
    client.post(
        "/samverkan",
        data=form_data(
            app, subject="Rubrik\x00 med\x07 styrtecken\r\nBcc: x", message="a\x1b\r\nb"
        ),
    )
    inquiry = db.session.scalar(select(Inquiry))
    assert inquiry.subject == "Rubrik med styrtecken Bcc: x"
    assert inquiry.message == "a\nb"


def test_errors_in_english_when_chosen(app, client, db):
    client.post("/language", data={"lang": "en"})
    page = client.post("/samverkan", data=form_data(app, email="a@b")).text
    assert "Enter a valid e-mail address" in page
    assert "There are errors in the form" in page


def receipt_reference(client) -> str:
    return receipt_of(client)[0]


def receipt_of(client) -> tuple[str, str]:
    """The reference number and the status link on the receipt page."""
    page = client.get("/samverkan/tack").text
    reference = re.search(r'class="reference">([^<]+)<', page).group(1)
    return reference, re.search(r'href="([^"]*/samverkan/status/[^"]+)"', page).group(1)


def test_honeypot_looks_exactly_like_a_real_receipt_but_stores_nothing(app, client, db):
    UserFactory(role="secretary_general")
    trapped = client.post("/samverkan", data=form_data(app, website="http://spam.example"))
    fake = receipt_reference(client)
    assert inquiry_count(db) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

    real = client.post("/samverkan", data=form_data(app))
    genuine = receipt_reference(client)
    assert inquiry_count(db) == 1
    # A bot learns nothing from the status code, the redirect or the reference's shape.
    assert (trapped.status_code, trapped.location) == (real.status_code, real.location)
    assert re.fullmatch(rf"SAM-{utcnow().year}-\d{{4}}", fake)
    assert fake == genuine  # the next number, not taken


@pytest.mark.parametrize(
    "started", ["forged-token", None, "too-fast"], ids=["forged-time", "no-time", "too-fast"]
)
def test_time_trap_gives_the_form_back_with_the_input(app, client, db, started):
    if started == "too-fast":
        with app.test_request_context():
            started = form_started_token(time.time() - 1)
    response = client.post("/samverkan", data=form_data(app, started=started))
    assert response.status_code == 422
    page = response.text
    assert "Kontrollera dina uppgifter och skicka förfrågan igen." in page
    assert "Tack för din förfrågan" not in page
    assert 'value="Sörmlands hembygdsförbund"' in page
    assert "Vi vill gärna göra en utställning tillsammans." in page
    assert inquiry_count(db) == 0


def started_token_on(page: str) -> str:
    return re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)


def submission_id_on(page: str) -> str:
    return re.search(r'name="submission_id" type="hidden" value="([^"]+)"', page).group(1)


def test_fill_timer_runs_from_the_first_display_across_errors(app, client, db, monkeypatch):
    """A person who fixes a field error within seconds is not taken for a bot."""
    UserFactory(role="secretary_general")
    clock = {"now": 1_900_000_000.0}
    monkeypatch.setattr("crm.public.spam.time.time", lambda: clock["now"])
    first_display = started_token_on(client.get("/samverkan").text)

    clock["now"] += 8  # eight seconds to fill in the form, with one mistake
    wrong = client.post("/samverkan", data=form_data(app, email="a@b", started=first_display))
    assert wrong.status_code == 422
    assert started_token_on(wrong.text) == first_display

    clock["now"] += 1  # one second to correct it
    right = client.post("/samverkan", data=form_data(app, started=first_display))
    assert right.status_code == 302
    assert inquiry_count(db) == 1


def test_rate_limit_counts_stored_submissions_and_keeps_the_text(limited_app, db):
    app = limited_app(PUBLIC_FORM_RATE_LIMITS="5 per minute")
    client = app.test_client()
    for _ in range(3):  # failed attempts use up nothing
        assert client.post("/samverkan", data=form_data(app, email="a@b")).status_code == 422
    statuses = [
        client.post("/samverkan", data=form_data(app, email=f"p{n}@exempel.se")).status_code
        for n in range(5)
    ]
    assert statuses == [302] * 5
    limited = client.post("/samverkan", data=form_data(app, message="Min långa text om allt."))
    assert limited.status_code == 429
    assert "vänta en stund och skicka igen" in limited.text
    assert "Min långa text om allt." in limited.text
    assert 'value="Sörmlands hembygdsförbund"' in limited.text
    assert inquiry_count(db) == 5


def test_switching_language_keeps_what_was_typed(app, client, db):
    data = form_data(app, message="Halvskriven text", email="", switch_language="en")
    response = client.post("/samverkan", data=data)
    assert response.status_code == 200
    page = response.text
    assert "Propose a collaboration" in page
    assert "Halvskriven text" in page
    assert 'value="Sörmlands hembygdsförbund"' in page
    assert "There are errors in the form" not in page  # nothing was sent yet
    assert 'name="switch_language" value="sv"' in page
    assert inquiry_count(db) == 0


def test_the_language_switch_submits_the_form_it_belongs_to(client):
    page = client.get("/samverkan").text
    assert 'form="inquiry-form"' in page
    assert 'id="inquiry-form"' in page


def test_a_repeated_submission_stores_one_inquiry_and_shows_the_same_receipt(app, client, db):
    UserFactory(role="secretary_general")
    data = form_data(app, submission_id=submission_id_on(client.get("/samverkan").text))
    first = client.post("/samverkan", data=data)
    receipt = receipt_of(client)
    again = client.post("/samverkan", data=data)  # a double click, or a reload of the POST
    assert first.status_code == again.status_code == 302
    assert receipt_of(client) == receipt
    assert inquiry_count(db) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2

    other_browser = app.test_client()  # the first answer never arrived: a retry elsewhere
    assert other_browser.post("/samverkan", data=data).status_code == 302
    assert receipt_of(other_browser) == receipt
    assert other_browser.get(receipt[1]).status_code == 200  # the status link works
    assert inquiry_count(db) == 1


def test_v4_2_2_missing_csrf_token_is_refused(database, db):
    app = make_app(database, WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/samverkan", data=form_data(app))
    assert response.status_code == 400
    assert inquiry_count(db) == 0


def test_oversize_body_is_refused_with_413(app, client, db, monkeypatch):
    # The form takes files: its limit is every file at its largest, plus room for the fields.
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 2_000)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_TOTAL_BYTES", 10_000)
    response = client.post("/samverkan", data=form_data(app, message="x" * 80_000))
    assert response.status_code == 413
    assert "För mycket data" in response.text
    assert inquiry_count(db) == 0


def test_the_status_link_is_shown_once_for_a_shared_computer(app, client, db):
    client.post("/samverkan", data=form_data(app))
    first = client.get("/samverkan/tack").text
    assert "/samverkan/status/" in first
    again = client.get("/samverkan/tack").text
    assert f"SAM-{utcnow().year}-0001" in again  # the reference stays
    assert "/samverkan/status/" not in again
    assert "visas bara en gång" in again
