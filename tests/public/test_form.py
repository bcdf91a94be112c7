"""The public inquiry form through HTTP: fields, errors, spam defence, limits."""

import time

import pytest
from sqlalchemy import func, select

from crm.models import Inquiry, OutboxMessage, TimelineEvent
from crm.public.spam import form_started_token
from crm.timeutil import utcnow
from tests.conftest import make_app
from tests.factories import UserFactory
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
    assert "Åsa" not in mails[0].subject  # no personal data beyond the organisation
    assert mails[0].subject == f"Ny förfrågan SAM-{year}-0001 från Sörmlands hembygdsförbund"
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
    assert response.status_code == 200
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


@pytest.mark.parametrize(
    "trap",
    [
        {"website": "http://spam.example"},
        {"started": "forged-token"},
        {"started": None},
    ],
    ids=["honeypot", "forged-time", "no-time"],
)
def test_spam_traps_show_a_receipt_but_store_nothing(app, client, db, trap):
    data = form_data(app, **trap)
    response = client.post("/samverkan", data=data)
    assert response.status_code == 200
    assert "Tack för din förfrågan" in response.text
    assert inquiry_count(db) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_too_fast_submission_is_dropped_quietly(app, client, db):
    with app.test_request_context():
        just_now = form_started_token(time.time() - 1)
    response = client.post("/samverkan", data=form_data(app, started=just_now))
    assert "Tack för din förfrågan" in response.text
    assert inquiry_count(db) == 0


def test_rate_limit_answers_429_with_a_friendly_page(limited_app, db):
    app = limited_app(PUBLIC_FORM_RATE_LIMITS="5 per minute")
    client = app.test_client()
    statuses = [
        client.post("/samverkan", data=form_data(app, email=f"p{n}@exempel.se")).status_code
        for n in range(6)
    ]
    assert statuses == [302] * 5 + [429]
    page = client.post("/samverkan", data=form_data(app)).text
    assert "För många försök" in page
    assert inquiry_count(db) == 5


def test_v4_2_2_missing_csrf_token_is_refused(database, db):
    app = make_app(database, WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/samverkan", data=form_data(app))
    assert response.status_code == 400
    assert inquiry_count(db) == 0


def test_oversize_body_is_refused_with_413(app, client, db):
    response = client.post("/samverkan", data=form_data(app, message="x" * 70_000))
    assert response.status_code == 413
    assert "För mycket data" in response.text
    assert inquiry_count(db) == 0
