"""A submission's receipt and assignee notice are rendered by the sender, not in the request.

The request stores what the sender needs (template, language, ids); the sender renders the
message when it first claims it and keeps the result, so every attempt sends the same mail.
"""

import json
import re
from datetime import timedelta

from aiosmtpd.controller import Controller
from flask import session
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from sqlalchemy import select

from crm.core.idempotency import new_submission_id
from crm.core.templating import format_date
from crm.inquiries.models import Inquiry
from crm.mail import services
from crm.mail.models import OutboxMessage, OutboxStatus
from crm.mail.services import send_pending
from crm.privacy.services import anonymise_inquiry
from tests.factories import OrganisationFactory, UserFactory
from tests.public.helpers import form_data
from tests.smtp import Inbox, parse

SUBMITTER = "asa.oberg@hembygd-sormland.se"
ASSIGNEE = "greta@lansmuseerna.se"


def outbox(db) -> dict[str, OutboxMessage]:
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return {row.kind: row for row in rows}


def submit(app, client, db):
    """Send the public form with a secretary general to route to; the inquiry, the assignee
    and the status link the receipt page showed."""
    assignee = UserFactory(
        role="secretary_general", name="Greta Generalsekreterare", email=ASSIGNEE
    )
    response = client.post("/samverkan", data=form_data(app))
    assert response.status_code == 302
    receipt_page = client.get(response.location).text
    link = re.search(r'href="(http://localhost/samverkan/status/[^"]+)"', receipt_page)
    inquiry = db.session.scalar(select(Inquiry).order_by(Inquiry.id.desc()))
    return inquiry, assignee, link.group(1)


def bodies(message):
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def test_the_request_renders_nothing_and_stores_no_personal_data_or_token(app, client, db):
    inquiry, assignee, link = submit(app, client, db)
    mails = outbox(db)
    assert sorted(mails) == ["assignee_notice", "receipt"]
    receipt, notice = mails["receipt"], mails["assignee_notice"]
    assert (receipt.recipient, notice.recipient) == (SUBMITTER, ASSIGNEE)
    for message in (receipt, notice):
        assert (message.subject, message.body_text, message.body_html) == ("", "", None)
        assert message.inquiry_id == inquiry.id
        assert message.status is OutboxStatus.PENDING
        assert message.message_id.startswith(f"<sam.{inquiry.reference.removeprefix('SAM-')}.")
    assert receipt.render_data == {"template": "receipt", "language": "sv"}
    assert notice.render_data == {
        "template": "assignee_notice", "language": "sv", "assignee_id": assignee.id,
    }  # fmt: skip
    stored = json.dumps([receipt.render_data, notice.render_data], ensure_ascii=False)
    token = link.rsplit("/", 1)[1]
    for secret_or_personal in ("Åsa", "asa.oberg", "Sörmland", "Vandringsutställning", token):
        assert secret_or_personal not in stored


def test_the_sender_renders_both_in_swedish_with_the_status_link(app, client, db, smtp_server):
    inquiry, _assignee, link = submit(app, client, db)
    # The sender may run where English is the language in force: the mails stay Swedish.
    with app.test_request_context():
        session["lang"] = "en"
        report = send_pending()
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    sent = {tuple(rcpts): parse(raw) for _, rcpts, raw in smtp_server.messages}

    receipt = sent[(SUBMITTER,)]
    assert receipt["Subject"] == (
        f"[{inquiry.reference}] Tack för din förfrågan / Thank you for your inquiry"
    )
    assert receipt["Auto-Submitted"] == "auto-replied"
    text, html = bodies(receipt)
    assert "Hej Åsa Öberg," in text
    assert f"med referensnummer {inquiry.reference}" in text
    assert "Vandringsutställning om sörmländska gårdar" in text
    assert "Vi vill gärna göra en utställning tillsammans.<br>" in html
    # The link is the one the receipt page showed, and it opens the status page.
    public_link = link.replace("http://localhost", app.config["BASE_URL"])
    assert public_link in text
    assert f'href="{public_link}"' in html
    status_page = client.get(link.removeprefix("http://localhost"))
    assert status_page.status_code == 200
    assert inquiry.reference in status_page.text

    notice = sent[(ASSIGNEE,)]
    assert notice["Subject"] == f"[{inquiry.reference}] Ny förfrågan från Sörmlands hembygdsförbund"
    text, html = bodies(notice)
    assert "Hej Greta Generalsekreterare," in text
    with app.test_request_context():
        with force_locale("sv"):
            due_sv = format_date(inquiry.first_response_due_at)
        with force_locale("en"):
            due_en = format_date(inquiry.first_response_due_at)
    assert due_sv != due_en
    assert f"Svar senast: {due_sv}" in text
    assert f"/inquiries/{inquiry.reference}" in text
    assert f"/inquiries/{inquiry.reference}" in html

    # What was sent is kept: subject and bodies stored, nothing left to render.
    for message in outbox(db).values():
        assert message.status is OutboxStatus.SENT
        assert message.render_data is None
        assert message.subject.startswith(f"[{inquiry.reference}] ")
        assert message.body_text
        assert message.body_html


class RefuseUntilOpened(Inbox):
    """Answers every message with a temporary failure (451) until `opened` is set."""

    def __init__(self):
        super().__init__()
        self.opened = False
        self.refused = []

    async def handle_DATA(self, server, session, envelope):
        if not self.opened:
            self.refused.append(parse(envelope.original_content))
            return "451 Try again later"
        return await super().handle_DATA(server, session, envelope)


def test_every_attempt_sends_what_the_first_attempt_rendered(app, client, db, smtp_port):
    inquiry, assignee, _link = submit(app, client, db)
    inbox = RefuseUntilOpened()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert send_pending().retrying == 2
        # What the templates read changes before the retry; the mail does not.
        db.session.get(type(assignee), assignee.id).name = "Greta Omdöpt"
        stored = db.session.get(Inquiry, inquiry.id)
        stored.first_response_due_at += timedelta(days=30)
        db.session.commit()
        inbox.opened = True
        assert send_pending(now=stored.created_at + timedelta(minutes=5)).sent == 2
    finally:
        controller.stop()
    first = {m["To"]: m for m in inbox.refused}
    again = {m["To"]: m for m in inbox.parsed()}
    assert set(first) == set(again) == {SUBMITTER, ASSIGNEE}
    for to in first:
        for header in ("Subject", "Date", "Message-ID", "From", "Reply-To", "Auto-Submitted"):
            assert first[to][header] == again[to][header], (to, header)
        assert bodies(first[to]) == bodies(again[to])
    assert "Hej Greta Generalsekreterare," in bodies(again[ASSIGNEE])[0]


def test_a_mail_that_cannot_be_rendered_is_retried_kept_and_shown_to_the_admin(
    app, client, db, smtp_server, monkeypatch, login_as
):
    _inquiry, _assignee, link = submit(app, client, db)
    rendering = services.render_template

    def receipt_template_lost(name, **context):
        if name.startswith("mail/receipt."):
            raise TemplateNotFound(name)
        return rendering(name, **context)

    monkeypatch.setattr(services, "render_template", receipt_template_lost)
    report = send_pending()
    assert (report.sent, report.retrying, report.failed) == (1, 1, 0)
    assert [m["To"] for m in smtp_server.parsed()] == [ASSIGNEE]
    receipt = outbox(db)["receipt"]
    assert receipt.status is OutboxStatus.PENDING
    assert receipt.attempts == 1
    assert "TemplateNotFound" in receipt.last_error
    assert "mail/receipt." in receipt.last_error
    assert receipt.next_attempt_at > receipt.created_at
    assert receipt.render_data == {"template": "receipt", "language": "sv"}  # kept to try again
    assert receipt.subject == ""

    # Still failing when the give-up window ends: failed, and the admin sees it.
    end = receipt.pending_since + timedelta(hours=app.config["MAIL_GIVE_UP_HOURS"])
    assert send_pending(now=end).failed == 1
    receipt = outbox(db)["receipt"]
    assert receipt.status is OutboxStatus.FAILED
    assert receipt.render_data is not None
    login_as("admin")
    page = client.get("/admin/mail").text
    assert "Mottagningskvitto" in page
    assert SUBMITTER in page
    assert "TemplateNotFound" in page

    # Once it can be rendered again (say, the template is back), "send again" delivers it.
    monkeypatch.setattr(services, "render_template", rendering)
    client.post(f"/admin/mail/{receipt.id}/send-again", data={"submission_id": new_submission_id()})
    assert send_pending().sent == 1
    [_notice, sent] = smtp_server.parsed()
    assert sent["To"] == SUBMITTER
    assert sent["Message-ID"] == receipt.message_id
    public_link = link.replace("http://localhost", app.config["BASE_URL"])
    assert public_link in bodies(sent)[0]
    assert outbox(db)["receipt"].status is OutboxStatus.SENT


def test_a_receipt_whose_link_no_longer_works_is_not_sent(
    app, client, db, smtp_server, monkeypatch
):
    """A status link is derived under the secret key: a key changed between the submission
    and the sender would make a dead link, so the receipt waits for the admin instead."""
    submit(app, client, db)
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-key-than-at-the-submission")
    report = send_pending()
    assert (report.sent, report.retrying) == (1, 1)
    receipt = outbox(db)["receipt"]
    assert receipt.status is OutboxStatus.PENDING
    assert "status link" in receipt.last_error


def test_erasure_leaves_nothing_queued_for_rendering(app, client, db, runner):
    inquiry, _assignee, _link = submit(app, client, db)
    assert all(m.render_data for m in outbox(db).values())
    result = runner.invoke(args=["crm", "gdpr-erase", SUBMITTER])
    assert result.exit_code == 0, result.output
    # Nothing unsent about the inquiry is left to render: not the receipt, not the notice.
    assert outbox(db) == {}
    assert db.session.get(Inquiry, inquiry.id).anonymised_at is not None


def test_anonymising_drops_what_was_queued_and_blanks_what_was_sent(app, client, db, smtp_server):
    """The retention purge and erasure share `anonymise_inquiry`: a message rendered and sent
    keeps no text, and a message still waiting to be rendered is not sent at all."""
    sent = submit(app, client, db)[0].id
    assert send_pending().sent == 2
    queued = submit_again(app, client, db)
    assert outbox(db)["receipt"].render_data is not None
    for inquiry_id in (sent, queued):
        anonymise_inquiry(db.session.get(Inquiry, inquiry_id), None, reason="retention")
    db.session.commit()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert {(row.inquiry_id, row.status) for row in rows} == {(sent, OutboxStatus.SENT)}
    for row in rows:
        assert (row.recipient, row.subject, row.body_text, row.body_html) == ("–", "–", "–", None)
        assert row.render_data is None


def submit_again(app, client, db):
    response = client.post("/samverkan", data=form_data(app, email="annan@exempel.se"))
    assert response.status_code == 302
    return db.session.scalar(select(Inquiry.id).order_by(Inquiry.id.desc()))


def test_the_export_names_an_unrendered_mail_by_its_subject(app, client, db, runner):
    inquiry, _assignee, _link = submit(app, client, db)
    result = runner.invoke(args=["crm", "gdpr-export", SUBMITTER])
    assert result.exit_code == 0, result.output
    [mail] = json.loads(result.output)["emails_sent"]
    assert mail["subject"] == (
        f"[{inquiry.reference}] Tack för din förfrågan / Thank you for your inquiry"
    )
    assert mail["status"] == "pending"
    assert outbox(db)["receipt"].render_data is not None  # showing it rendered nothing stored


def test_a_submission_runs_a_fixed_number_of_statements(app, client, db, count_queries):
    """Organisation matched (three timeline events), routed (a notice), with a one-time id."""
    UserFactory(role="secretary_general")
    OrganisationFactory(name="Sörmlands hembygdsförbund")
    data = form_data(app, submission_id=new_submission_id())
    with count_queries() as counted:
        assert client.post("/samverkan", data=data).status_code == 302
    # 15 when the mails were rendered here, each event and mail was its own INSERT and the
    # one-time id was looked up before it was written; SQLite adds an explicit BEGIN.
    assert counted() <= 11
