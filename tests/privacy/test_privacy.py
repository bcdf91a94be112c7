"""Retention, export and erasure of personal data (ASVS V8, GDPR art. 15, 17, 20)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import JSON, String, Text, func, select

from crm.activity.models import Note, TimelineEvent
from crm.conversation.models import Direction, InboundMail, Message, MessageChannel
from crm.extensions import db as _db
from crm.mail.models import OutboxMessage
from crm.models import AuditLog, Contact, Inquiry
from crm.privacy.services import months_before, purge_expired
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def test_months_before_handles_month_ends():
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(NOW, 24) == datetime(2024, 11, 25, 12, tzinfo=UTC)


def test_v8_3_8_purge_anonymises_only_what_is_past_retention(app, db):
    expired = InquiryFactory(
        status="agreed",
        outcome="agreed",
        closed_at=datetime(2024, 11, 1, tzinfo=UTC),
        contact_name="Gammal Person",
        email="gammal@exempel.se",
        category="research",
    )
    kept = InquiryFactory(
        status="declined", outcome="declined", closed_at=datetime(2025, 1, 1, tzinfo=UTC)
    )
    still_open = InquiryFactory(status="in_dialogue", created_at=datetime(2020, 1, 1, tzinfo=UTC))
    spam = InquiryFactory(
        status="spam", outcome="spam", closed_at=datetime(2026, 11, 24, tzinfo=UTC)
    )
    with app.test_request_context():
        references = purge_expired(app.config, now=NOW)
    assert sorted(references) == sorted([expired.reference, spam.reference])
    gone = db.session.get(Inquiry, expired.id)
    assert gone.anonymised_at is not None
    assert "Gammal" not in gone.contact_name
    assert "gammal@" not in gone.email
    assert (gone.category, gone.status, gone.closed_at.year) == (
        "research",
        "agreed",
        2024,
    )  # statistics
    for untouched in (kept, still_open):
        assert db.session.get(Inquiry, untouched.id).anonymised_at is None
    assert (
        db.session.scalar(select(AuditLog).where(AuditLog.action == "retention_purge")).details[
            "count"
        ]
        == 2
    )


PERIODS = {"agreed": 36, "declined": 6, "withdrawn": 12}


@pytest.mark.parametrize("closed", [False, True], ids=["ended", "ended-then-closed"])
@pytest.mark.parametrize(("outcome", "months"), PERIODS.items())
def test_retention_follows_the_outcome_closed_or_not(app, db, monkeypatch, outcome, months, closed):
    """Each outcome keeps personal data its own number of months from the day it ended,
    whether or not the inquiry was closed afterwards."""
    monkeypatch.setitem(app.config, "RETENTION_MONTHS_BY_OUTCOME", PERIODS)
    monkeypatch.setitem(app.config, "RETENTION_MONTHS", 24)
    status = "closed" if closed else outcome
    ended = months_before(NOW, months)
    just_expired = InquiryFactory(
        status=status, outcome=outcome, closed_at=ended - timedelta(minutes=1)
    )
    InquiryFactory(status=status, outcome=outcome, closed_at=ended + timedelta(minutes=1))
    with app.test_request_context():
        assert purge_expired(app.config, now=NOW, dry_run=True) == [just_expired.reference]


def test_closed_agreed_and_closed_declined_follow_their_own_periods(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_MONTHS_BY_OUTCOME", PERIODS)
    ended = datetime(2026, 1, 1, tzinfo=UTC)  # ten months before NOW
    agreed = InquiryFactory(status="closed", outcome="agreed", closed_at=ended)
    declined = InquiryFactory(status="closed", outcome="declined", closed_at=ended)
    with app.test_request_context():
        assert purge_expired(app.config, now=NOW) == [declined.reference]
    assert db.session.get(Inquiry, declined.id).anonymised_at is not None
    assert db.session.get(Inquiry, agreed.id).anonymised_at is None


def test_an_ended_inquiry_of_unknown_outcome_follows_the_general_period(app, db, monkeypatch):
    """Closed before outcomes were kept, with no timeline to tell: RETENTION_MONTHS."""
    monkeypatch.setitem(app.config, "RETENTION_MONTHS_BY_OUTCOME", {"agreed": 1})
    monkeypatch.setitem(app.config, "RETENTION_MONTHS", 24)
    old = InquiryFactory(status="closed", closed_at=months_before(NOW, 24) - timedelta(days=1))
    InquiryFactory(status="closed", closed_at=months_before(NOW, 24) + timedelta(days=1))
    reopened = InquiryFactory(
        status="triaged", closed_at=None, created_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    with app.test_request_context():
        assert purge_expired(app.config, now=NOW) == [old.reference]
    assert db.session.get(Inquiry, reopened.id).anonymised_at is None


def test_retention_periods_come_from_the_environment_per_outcome(monkeypatch):
    from config import ConfigError, TestConfig

    monkeypatch.setenv("RETENTION_MONTHS", "18")
    monkeypatch.setenv("RETENTION_MONTHS_DECLINED", "6")
    assert TestConfig().RETENTION_MONTHS_BY_OUTCOME == {
        "agreed": 18, "declined": 6, "withdrawn": 18
    }  # fmt: skip
    monkeypatch.setenv("RETENTION_MONTHS_CLOSED", "12")
    with pytest.raises(ConfigError, match="RETENTION_MONTHS_CLOSED is no longer used"):
        TestConfig()


def test_purge_command_dry_run_changes_nothing(runner, db):
    old = InquiryFactory(status="closed", closed_at=datetime(2020, 1, 1, tzinfo=UTC))
    result = runner.invoke(args=["crm", "purge-expired", "--dry-run"])
    assert "Would anonymise 1 inquiries." in result.output
    assert old.reference in result.output
    assert db.session.get(Inquiry, old.id).anonymised_at is None
    result = runner.invoke(args=["crm", "purge-expired"])
    assert "Anonymised 1 inquiries." in result.output
    assert db.session.get(Inquiry, old.id).anonymised_at is not None


def person(db, email="anna.andersson@exempel.se"):
    staff = UserFactory()
    inquiry = InquiryFactory(
        email=email, contact_name="Anna Andersson", message=f"Skriv till {email}"
    )
    organisation = OrganisationFactory()
    db.session.add_all(
        [
            Contact(organisation_id=organisation.id, name="Anna Andersson", email=email),
            Note(
                inquiry_id=inquiry.id, author_id=staff.id, body=f"Ring eller mejla {email.upper()}"
            ),
            OutboxMessage(
                kind="receipt",
                recipient=email,
                subject="Tack",
                body_text=f"Hej {email}",
                inquiry_id=inquiry.id,
            ),
            Message(
                inquiry_id=inquiry.id,
                direction=Direction.OUTBOUND,
                channel=MessageChannel.SAMVERKA,
                body="Hej Anna",
            ),
            Message(
                inquiry_id=inquiry.id,
                direction=Direction.INBOUND,
                channel=MessageChannel.STATUS_PAGE,
                sender_name="Anna Andersson",
                sender_address="anna.andersson@exempel.se",
                body="Tack, då ses vi i maj.",
            ),
            TimelineEvent(
                inquiry_id=inquiry.id,
                kind="contact_logged",
                data={"channel": "phone", "summary": "Ringde Anna Andersson om mötet."},
            ),
        ]
    )
    db.session.commit()
    return inquiry


def test_gdpr_export_lists_everything_about_the_person(runner, db):
    inquiry = person(db)
    result = runner.invoke(args=["crm", "gdpr-export", "Anna.Andersson@exempel.se"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [i["reference"] for i in data["inquiries"]] == [inquiry.reference]
    assert [m["text"] for m in data["inquiries"][0]["messages"]] == [
        "Hej Anna",
        "Tack, då ses vi i maj.",
    ]
    assert data["inquiries"][0]["logged_contacts"][0]["text"] == "Ringde Anna Andersson om mötet."
    assert "internal_notes" in data["inquiries"][0]
    assert data["contact_records"][0]["email"] == "anna.andersson@exempel.se"
    assert data["emails_sent"][0]["subject"] == "Tack"
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "gdpr_export"))


def every_text_value():
    """Every string and JSON value in every table, for checking that nothing still holds a value."""
    values = []
    for table in _db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        for row in _db.session.execute(select(*columns)) if columns else []:
            values.extend(
                json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else str(v) for v in row
            )
    return values


def test_v8_3_2_erase_leaves_the_address_nowhere(runner, db):
    email = "anna.andersson@exempel.se"
    person(db, email)
    dry = runner.invoke(args=["crm", "gdpr-erase", email, "--dry-run"])
    assert "Would erase: 1 inquiries, 1 contacts, 1 e-mails, 0 attached files." in dry.output
    assert any(email in v.lower() for v in every_text_value())
    result = runner.invoke(args=["crm", "gdpr-erase", email])
    assert result.exit_code == 0, result.output
    assert not [v for v in every_text_value() if email in v.lower()]
    assert not [v for v in every_text_value() if "Anna Andersson" in v]
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "gdpr_erase"))


def test_gdpr_commands_refuse_a_non_address(runner, db):
    result = runner.invoke(args=["crm", "gdpr-erase", "inte-en-adress"])
    assert result.exit_code == 1
    assert "is not an e-mail address" in result.output


def test_anonymising_blanks_the_reason_of_a_jav_declaration_and_keeps_who_and_when(app, db):
    from crm.inquiries.services import declare_conflict
    from crm.privacy.services import anonymise_inquiry

    chair = UserFactory(role="chair")
    inquiry = InquiryFactory()
    declare_conflict(inquiry, chair, "Min svåger Gunnar Gunnarsson leder föreningen.")
    anonymise_inquiry(inquiry, None, reason="retention")
    db.session.commit()
    [declaration] = db.session.get(Inquiry, inquiry.id).conflicts
    assert (declaration.user_id, declaration.declared_at is not None) == (chair.id, True)
    assert "Gunnar" not in declaration.reason
    texts = db.session.scalars(
        select(TimelineEvent.data).where(TimelineEvent.inquiry_id == inquiry.id)
    )
    assert all("Gunnar" not in json.dumps(data) for data in texts)


def test_anonymising_blanks_what_was_said_in_logged_contacts(db):
    from crm.privacy.services import anonymise_inquiry

    inquiry = person(db)
    other = person(db, "someone.else@exempel.se")
    anonymise_inquiry(inquiry, None, reason="retention")
    kept = db.session.scalar(
        select(TimelineEvent).where(
            TimelineEvent.inquiry_id == inquiry.id, TimelineEvent.kind == "contact_logged"
        )
    )
    assert kept.data == {"channel": "phone"}  # how they were reached stays, for the statistics
    untouched = db.session.scalar(
        select(TimelineEvent.data).where(
            TimelineEvent.inquiry_id == other.id, TimelineEvent.kind == "contact_logged"
        )
    )
    assert untouched["summary"] == "Ringde Anna Andersson om mötet."


def test_anonymising_blanks_the_messages_of_the_thread_both_ways(db):
    from crm.privacy.services import anonymise_inquiry

    inquiry = person(db)
    other = person(db, "someone.else@exempel.se")
    anonymise_inquiry(inquiry, None, reason="retention")
    db.session.commit()
    rows = db.session.execute(
        select(Message.body, Message.sender_name, Message.sender_address).where(
            Message.inquiry_id == inquiry.id
        )
    ).all()
    assert rows == [("–", None, None), ("–", None, None)]
    assert db.session.scalars(
        select(Message.body).where(Message.inquiry_id == other.id).order_by(Message.id)
    ).all() == ["Hej Anna", "Tack, då ses vi i maj."]


def test_erasure_scrubs_the_address_from_contacts_logged_on_other_inquiries(runner, db):
    email = "anna.andersson@exempel.se"
    person(db, email)
    elsewhere = InquiryFactory(email="kollega@exempel.se")
    db.session.add(
        TimelineEvent(
            inquiry_id=elsewhere.id,
            kind="contact_logged",
            data={"channel": "email", "summary": f"Mejlade även {email.upper()} i kopia."},
        )
    )
    db.session.commit()
    assert runner.invoke(args=["crm", "gdpr-erase", email]).exit_code == 0
    summary = db.session.scalar(
        select(TimelineEvent.data).where(TimelineEvent.inquiry_id == elsewhere.id)
    )["summary"]
    assert summary == "Mejlade även – i kopia."


def test_erasure_drops_mail_not_yet_sent_to_the_person(runner, db):
    from crm.mail.models import OutboxMessage, OutboxStatus

    email = "berit@exempel.se"
    for status in (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.SENT):
        db.session.add(
            OutboxMessage(
                kind="receipt", recipient=email, subject="s", body_text="b", status=status
            )
        )
    db.session.add(OutboxMessage(kind="receipt", recipient="annan@exempel.se", subject="s",
                                 body_text="b"))  # fmt: skip
    db.session.commit()
    assert runner.invoke(args=["crm", "gdpr-erase", email]).exit_code == 0
    left = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.recipient, m.status) for m in left] == [
        ("–", OutboxStatus.SENT),
        ("annan@exempel.se", OutboxStatus.PENDING),
    ]


def test_mail_received_from_the_person_is_exported_and_erased(app, runner, db):
    from crm.conversation.inbound import receive
    from tests.conversation.mails import mail

    email = "anna.andersson@exempel.se"
    inquiry = person(db, email)
    with app.test_request_context():
        receive(mail("Hej från Anna", sender=f"Anna <{email}>", subject="Fråga"))
        receive(mail("Om något annat", sender="Annan <annan@exempel.se>"))
        db.session.commit()
    exported = json.loads(runner.invoke(args=["crm", "gdpr-export", email]).output)
    assert [m["text"] for m in exported["emails_received"]] == ["Hej från Anna"]
    assert runner.invoke(args=["crm", "gdpr-erase", email]).exit_code == 0
    rows = db.session.execute(
        select(InboundMail.sender_address, InboundMail.text, InboundMail.raw).order_by(
            InboundMail.id
        )
    ).all()
    assert rows[0] == (None, None, None)
    assert rows[1].sender_address == "annan@exempel.se"  # someone else's mail stays
    assert db.session.get(Inquiry, inquiry.id).anonymised_at is not None


def test_erasure_blanks_what_the_person_wrote_on_someone_elses_thread(app, runner, db):
    email = "kollega@exempel.se"
    elsewhere = InquiryFactory(email="nagon.annan@exempel.se")
    db.session.add(Message(
        inquiry_id=elsewhere.id, direction=Direction.INBOUND, channel=MessageChannel.EMAIL,
        sender_name="Kollega", sender_address=email, body="Jag heter Kollega Kollegasson.",
    ))  # fmt: skip
    db.session.commit()
    assert runner.invoke(args=["crm", "gdpr-erase", email]).exit_code == 0
    row = db.session.execute(
        select(Message.body, Message.sender_name, Message.sender_address)
    ).one()
    assert tuple(row) == ("–", None, None)
