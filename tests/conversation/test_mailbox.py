"""`flask crm fetch-mail` and `flask crm receive-mail` against a real IMAP server (Dovecot)."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from crm.conversation.mailbox import fetch_mail
from crm.conversation.models import InboundMail, InboundStatus, Message
from crm.mail.threading import new_message_id
from tests.conversation.mails import gmail_reply, mail
from tests.factories import InquiryFactory, UserFactory
from tests.helpers import mails


@pytest.fixture
def inquiry(app, db):
    staff = UserFactory(role="secretary_general")
    return InquiryFactory(email="asa.oberg@hembygd-sormland.se", assignee_id=staff.id)


def reply_to(app, inquiry, text="Budgeten är 40 000 kr.") -> bytes:
    with app.app_context():
        ours = new_message_id(inquiry.reference)
    return mail(gmail_reply(text), In_Reply_To=ours, References=ours)


def folder_uids(connect, folder):
    with connect() as box:
        box.folder.set(folder)
        return box.uids()


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_fetch_mail_files_each_message_and_moves_it_once_stored(
    app, db, runner, inquiry, intake_mailbox
):
    with intake_mailbox() as box:
        box.append(reply_to(app, inquiry), "INBOX")
        box.append(mail("Hej, vi vill samarbeta!", subject="Samarbete?"), "INBOX")
    result = runner.invoke(args=["crm", "fetch-mail"])
    assert result.exit_code == 0, result.output
    assert "Stored 2 (1 attached, 1 unsorted); 0 already stored." in result.output
    assert folder_uids(intake_mailbox, "INBOX") == []
    assert len(folder_uids(intake_mailbox, "Samverka")) == 2
    [message] = db.session.scalars(select(Message)).all()
    assert (message.inquiry_id, message.body) == (inquiry.id, "Budgeten är 40 000 kr.")
    [row] = db.session.scalars(
        select(InboundMail).where(InboundMail.status == InboundStatus.UNSORTED)
    ).all()
    assert row.subject == "Samarbete?"


def test_the_same_message_in_the_mailbox_twice_is_stored_once(app, db, inquiry, intake_mailbox):
    raw = reply_to(app, inquiry)
    with intake_mailbox() as box:
        box.append(raw, "INBOX")
        box.append(raw, "INBOX")
    report = fetch_mail()
    assert (report.stored, report.duplicates) == (1, 1)
    assert count(db, InboundMail) == 1
    assert len(mails(db, "submitter_reply_notice")) == 1
    assert folder_uids(intake_mailbox, "INBOX") == []


def test_a_crash_between_storing_and_moving_loses_nothing_and_stores_nothing_twice(
    app, db, inquiry, intake_mailbox, monkeypatch
):
    from imap_tools.mailbox import BaseMailBox

    with intake_mailbox() as box:
        box.append(reply_to(app, inquiry), "INBOX")
    real_move = BaseMailBox.move

    def connection_lost(self, *args, **kwargs):
        raise ConnectionResetError("the IMAP connection died after the commit")

    monkeypatch.setattr(BaseMailBox, "move", connection_lost)
    with pytest.raises(ConnectionResetError):
        fetch_mail()
    assert count(db, InboundMail) == 1  # committed before the move
    assert len(folder_uids(intake_mailbox, "INBOX")) == 1  # and still in the mailbox
    monkeypatch.setattr(BaseMailBox, "move", real_move)
    report = fetch_mail()
    assert (report.stored, report.duplicates) == (0, 1)
    assert count(db, InboundMail) == 1
    assert count(db, Message) == 1
    assert len(mails(db, "submitter_reply_notice")) == 1
    assert folder_uids(intake_mailbox, "INBOX") == []


def test_a_second_fetch_mail_while_one_reads_the_mailbox_does_nothing(
    app, db, runner, inquiry, intake_mailbox, monkeypatch
):
    """Cron on another app host, or the next minute's run while a slow one still reads: both
    would store and move every message (a mail server files a message moved twice twice)."""
    from crm.conversation.mailbox import mailbox_lock

    with intake_mailbox() as box:
        box.append(reply_to(app, inquiry), "INBOX")
    with app.app_context(), mailbox_lock():
        busy = runner.invoke(args=["crm", "fetch-mail"])
        user = app.config["MAIL_IMAP_USERNAME"]
        monkeypatch.setitem(app.config, "MAIL_IMAP_USERNAME", "another-mailbox")
        with mailbox_lock():  # another mailbox is not held up
            pass
        monkeypatch.setitem(app.config, "MAIL_IMAP_USERNAME", user)
    assert busy.exit_code == 0, busy.output
    assert "Another fetch-mail is reading this mailbox. This run fetched nothing." in busy.output
    assert count(db, InboundMail) == 0
    assert len(folder_uids(intake_mailbox, "INBOX")) == 1

    done = runner.invoke(args=["crm", "fetch-mail"])  # once the other run has finished
    assert "Stored 1 (1 attached); 0 already stored." in done.output
    assert folder_uids(intake_mailbox, "INBOX") == []


def test_a_twenty_megabyte_message_is_refused_cleanly_and_moved(app, db, inquiry, intake_mailbox):
    big = mail("x" * (20 * 1024 * 1024), In_Reply_To=new_message_id(inquiry.reference))
    with intake_mailbox() as box:
        box.append(big, "INBOX")
    report = fetch_mail()
    [row] = db.session.scalars(select(InboundMail)).all()
    assert (report.stored, row.status, row.raw) == (1, InboundStatus.UNSORTED, None)
    assert "För stort" in row.error
    assert folder_uids(intake_mailbox, "INBOX") == []


def test_fetch_mail_without_a_mailbox_says_what_to_set(app, runner, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_IMAP_HOST", None)
    result = runner.invoke(args=["crm", "fetch-mail"])
    assert result.exit_code == 1
    assert "MAIL_IMAP_HOST" in result.output


def test_a_wrong_password_fails_the_run_with_the_reason(app, runner, db, intake_mailbox):
    app.config["MAIL_IMAP_PASSWORD"] = "fel"
    result = runner.invoke(args=["crm", "fetch-mail"])
    assert result.exit_code == 1
    assert "Fetching mail failed" in result.output


def test_receive_mail_reads_one_message_on_standard_input(app, db, runner, inquiry):
    raw = reply_to(app, inquiry, "Via Postfix.")
    result = runner.invoke(args=["crm", "receive-mail"], input=raw)
    assert result.exit_code == 0, result.output
    assert f"Stored as attached on {inquiry.reference}." in result.output
    again = runner.invoke(args=["crm", "receive-mail"], input=raw)
    assert "Already stored" in again.output
    assert count(db, Message) == 1


def test_receive_mail_asks_the_mail_server_to_retry_when_the_database_fails(
    app, db, runner, monkeypatch
):
    import crm.conversation.inbound as inbound

    def database_gone(raw, now=None):
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(inbound, "receive", database_gone)
    result = runner.invoke(args=["crm", "receive-mail"], input=mail("Hej"))
    assert result.exit_code == 75  # EX_TEMPFAIL: Postfix keeps the mail and tries again
    assert "try again later" in result.output
