"""The rules of attachments at the service level: files of received mail, scanning with a real
clamd, the disk following the database, and GDPR (nothing of the person left)."""

import io
import json
import os
import time
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from crm.attachments import storage
from crm.attachments.models import Attachment, ScanStatus
from crm.attachments.services import clean_orphans, prepare_uploads, save_uploads, scan_waiting
from crm.conversation.inbound import receive
from crm.conversation.services import attach_unsorted, file_as_new_inquiry, send_reply
from crm.errors import DomainError
from crm.inquiries.services import change_status
from crm.inquiries.statuses import Status
from crm.mail.services import send_pending
from crm.mail.threading import new_message_id
from crm.privacy.services import gdpr_erase, gdpr_export, purge_expired
from tests.attachments.samples import executable, pdf, png
from tests.clamd import EICAR
from tests.factories import InquiryFactory, UserFactory, make_attachment

SUBMITTER = "asa.oberg@hembygd-sormland.se"


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield app


@pytest.fixture
def staff(db):
    return UserFactory(role="secretary_general")


def uploaded(content: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=name)


def mail_with_files(*parts, in_reply_to=None, sender=SUBMITTER) -> bytes:
    """parts: (content, filename, disposition, content_id)."""
    message = EmailMessage()
    message["From"] = f"Åsa Öberg <{sender}>"
    message["To"] = "samverkan@lansmuseerna.se"
    message["Subject"] = "Re: Svar på din förfrågan"
    message["Message-ID"] = make_msgid(domain="hembygd-sormland.se")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content("Här kommer planen.")
    message.add_alternative('<p>Här kommer planen.</p><img src="cid:logo@x">', subtype="html")
    for content, filename, disposition, content_id in parts:
        maintype, subtype = (
            ("image", "png") if filename.endswith(".png") else ("application", "pdf")
        )
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename,
                               disposition=disposition, cid=content_id)  # fmt: skip
    return bytes(message)


def reloaded(db, attachment) -> Attachment:
    db.session.expire(attachment)
    return db.session.get(Attachment, attachment.id)


def on_disk(attachment) -> bool:
    return storage.path_of(attachment.storage_key).is_file()


def all_files(db):
    return db.session.scalars(select(Attachment).order_by(Attachment.id)).all()


# ---- e-mail ----------------------------------------------------------------------------------


def test_the_files_of_a_reply_by_mail_join_its_message(ctx, db, staff):
    inquiry = InquiryFactory(email=SUBMITTER, assignee_id=staff.id)
    thread_id = send_reply(inquiry, "Skicka gärna planen.", staff).message_id
    raw = mail_with_files(
        (pdf(), "Plan.pdf", "attachment", None),
        (png(), "image001.png", "inline", "<logo@x>"),  # the signature's logo the HTML shows
        (pdf(), "Budget.pdf", "inline", None),  # Apple Mail sends files inline: still a file
        (executable(), "setup.pdf", "attachment", None),  # refused: stays only in the raw mail
        in_reply_to=thread_id,
    )
    received = receive(raw)
    db.session.commit()
    assert received.reference == inquiry.reference
    plan, budget = all_files(db)
    assert (plan.filename, budget.filename) == ("Plan.pdf", "Budget.pdf")
    file = plan
    assert file.inquiry_id == inquiry.id
    assert file.message_id is not None
    assert file.inbound_mail_id == received.mail_id
    assert on_disk(file)


def test_an_unsorted_mail_keeps_its_files_until_it_is_put_on_an_inquiry(ctx, db, staff):
    received = receive(mail_with_files((pdf(), "Inbjudan.pdf", "attachment", None)))
    [file] = all_files(db)
    assert (file.inquiry_id, file.message_id) == (None, None)
    inquiry = InquiryFactory(assignee_id=staff.id)
    from crm.conversation.models import InboundMail

    attach_unsorted(db.session.get(InboundMail, received.mail_id), inquiry.reference, staff)
    file = reloaded(db, file)
    assert file.inquiry_id == inquiry.id
    assert file.message_id is not None


def test_a_mail_filed_as_a_new_inquiry_gives_it_its_files(ctx, db, staff):
    from crm.conversation.models import InboundMail

    received = receive(mail_with_files((pdf(), "Inbjudan.pdf", "attachment", None)))
    inquiry = InquiryFactory()
    file_as_new_inquiry(db.session.get(InboundMail, received.mail_id), inquiry, staff)
    [file] = all_files(db)
    assert (file.inquiry_id, file.message_id, file.note_id) == (inquiry.id, None, None)


# ---- scanning with a real clamd --------------------------------------------------------------


def test_a_clean_file_is_scanned_and_an_infected_one_quarantined(ctx, db, clamd_config):
    inquiry = InquiryFactory()
    clean, infected = save_uploads(
        [uploaded(pdf(), "plan.pdf"), uploaded(EICAR, "eicar.txt")], inquiry=inquiry
    )
    assert clean.scan_status is ScanStatus.CLEAN
    assert clean.scanned_at is not None
    assert infected.scan_status is ScanStatus.INFECTED
    assert infected.scan_signature.startswith("Eicar-Test-Signature")
    assert not infected.servable
    from crm.audit.models import AuditLog

    assert db.session.scalar(
        select(AuditLog).where(AuditLog.action == "attachment_quarantined")
    ).object_id == str(infected.id)


def test_with_clamd_down_files_wait_and_are_scanned_later_by_the_command(
    app, ctx, db, clamd, monkeypatch, runner, staff, smtp_server
):
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", "/nonexistent/clamd.sock")
    inquiry = InquiryFactory(assignee_id=staff.id)
    files = prepare_uploads([uploaded(pdf(), "a.pdf")])
    message = send_reply(inquiry, "Avtalet bifogas.", staff, files=files)
    [file] = all_files(db)
    assert file.scan_status is ScanStatus.PENDING
    db.session.commit()
    report = send_pending()
    assert smtp_server.messages == []  # never sent with an unscanned file
    assert report.retrying == 1
    result = runner.invoke(args=["crm", "scan-attachments"])
    assert result.exit_code == 75, result.output  # the scanner is still down
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", clamd.socket)
    result = runner.invoke(args=["crm", "scan-attachments"])
    assert result.exit_code == 0, result.output
    assert "Clean: 1" in result.output
    assert reloaded(db, file).scan_status is ScanStatus.CLEAN
    from crm.mail.models import OutboxMessage

    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "public_reply"))
    mail.next_attempt_at = mail.created_at  # due again now
    db.session.commit()
    assert send_pending().sent == 1
    [sent] = smtp_server.parsed()
    assert sent["Message-ID"] == message.message_id
    assert [part.get_filename() for part in sent.iter_attachments()] == ["a.pdf"]


def test_scanning_without_a_scanner_is_an_error_not_a_silent_pass(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", None)
    monkeypatch.setitem(app.config, "CLAMD_HOST", None)
    result = runner.invoke(args=["crm", "scan-attachments"])
    assert result.exit_code != 0
    assert "No scanner configured" in result.output


def test_scan_waiting_stops_when_the_scanner_is_down(ctx, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", "/nonexistent/clamd.sock")
    inquiry = InquiryFactory()
    for _ in range(5):
        make_attachment(inquiry=inquiry, scan_status=ScanStatus.PENDING)
    counts = scan_waiting()
    assert counts["pending"] == 3  # three unanswered in a row: the rest waits for the next run
    waiting = select(func.count()).where(Attachment.scan_status == ScanStatus.PENDING)
    assert db.session.scalar(waiting) == 5


def test_one_file_the_scanner_cannot_answer_for_holds_up_no_other(ctx, db, clamd_config):
    inquiry = InquiryFactory()
    odd = make_attachment(inquiry=inquiry, scan_status=ScanStatus.PENDING)
    storage.path_of(odd.storage_key).unlink()  # nothing to scan
    fine = make_attachment(inquiry=inquiry, scan_status=ScanStatus.PENDING)
    older = make_attachment(inquiry=inquiry, scan_status=ScanStatus.NOT_SCANNED)
    assert not older.servable  # a scanner is configured now: unscanned files wait for it
    scan_waiting()
    assert reloaded(db, odd).scan_status is ScanStatus.PENDING
    assert reloaded(db, fine).scan_status is ScanStatus.CLEAN
    assert reloaded(db, older).scan_status is ScanStatus.CLEAN


# ---- the disk follows the database -----------------------------------------------------------


def test_a_file_written_in_a_transaction_that_rolls_back_is_removed(ctx, db):
    inquiry = InquiryFactory()
    db.session.commit()
    [file] = save_uploads([uploaded(pdf(), "a.pdf")], inquiry=inquiry)
    path = storage.path_of(file.storage_key)
    assert path.is_file()
    db.session.rollback()
    assert not path.exists()


def test_a_refused_upload_writes_nothing(ctx, db):
    before = set(storage.stored_keys())
    with pytest.raises(DomainError) as refused:
        save_uploads([uploaded(pdf(), "a.pdf"), uploaded(executable(), "b.pdf")])
    assert refused.value.field == "files"
    assert set(storage.stored_keys()) == before


def test_orphaned_files_are_cleaned_up_but_young_and_known_ones_stay(ctx, db):
    inquiry = InquiryFactory()
    kept = make_attachment(inquiry=inquiry)
    db.session.commit()
    orphan = storage.store(io.BytesIO(pdf()), db.session)
    young = storage.store(io.BytesIO(png()), db.session)
    db.session.info.pop(storage.WRITTEN, None)  # as after a crash: nobody will roll them back
    hour_ago = time.time() - 7200
    for key in (orphan.storage_key, kept.storage_key):
        os.utime(storage.path_of(key), (hour_ago, hour_ago))
    removed = clean_orphans(older_than_seconds=3600)
    assert orphan.storage_key in removed
    assert not storage.path_of(orphan.storage_key).exists()
    assert storage.path_of(kept.storage_key).is_file()
    assert storage.path_of(young.storage_key).is_file()


# ---- GDPR --------------------------------------------------------------------------------


def person_with_files(db, staff):
    """An inquiry from the person with a file on its original message and on an answer, a file
    they mailed that waits unsorted, and a file of someone else's."""
    inquiry = InquiryFactory(email=SUBMITTER, assignee_id=staff.id)
    make_attachment(inquiry=inquiry, filename="plan.pdf")
    thread_id = send_reply(inquiry, "Skicka budgeten.", staff).message_id
    receive(mail_with_files((pdf(), "budget.pdf", "attachment", None), in_reply_to=thread_id))
    receive(mail_with_files((png(), "foto.png", "attachment", None)))  # unsorted
    other = make_attachment(inquiry=InquiryFactory(), filename="annan.pdf")
    db.session.commit()
    return inquiry, other


def test_erasure_leaves_no_file_of_the_person_on_disk_or_in_the_database(ctx, db, staff):
    _inquiry, other = person_with_files(db, staff)
    theirs = [a for a in all_files(db) if a.id != other.id]
    assert len(theirs) == 3
    keys = [a.storage_key for a in theirs]
    summary = gdpr_erase(SUBMITTER, dry_run=True)
    assert sorted(summary["files"]) == ["budget.pdf", "foto.png", "plan.pdf"]
    assert all(storage.path_of(key).is_file() for key in keys)  # a dry run keeps everything
    gdpr_erase(SUBMITTER)
    db.session.commit()
    assert [a.id for a in all_files(db)] == [other.id]
    assert not any(storage.path_of(key).exists() for key in keys)
    remaining = {key for key, _ in storage.stored_keys()}
    assert other.storage_key in remaining
    assert not remaining & set(keys)


def test_the_export_lists_and_copies_the_persons_files(ctx, db, staff, tmp_path):
    person_with_files(db, staff)
    data = gdpr_export(SUBMITTER, files_dir=tmp_path)
    names = sorted(entry["name"] for entry in data["files"])
    assert names == ["budget.pdf", "foto.png", "plan.pdf"]
    for entry in data["files"]:
        assert (tmp_path / entry["file"]).read_bytes() in (pdf(), png())
    json.dumps(data)  # plain data


def test_marking_spam_removes_the_files(ctx, db, staff):
    inquiry = InquiryFactory(assignee_id=staff.id)
    file = make_attachment(inquiry=inquiry)
    db.session.commit()
    change_status(inquiry, Status.SPAM, staff)
    db.session.commit()
    assert all_files(db) == []
    assert not storage.path_of(file.storage_key).exists()


def test_retention_removes_files_and_the_dry_run_names_them(ctx, db, app, runner, staff):
    from crm.inquiries.statuses import Outcome
    from crm.timeutil import utcnow

    inquiry = InquiryFactory(
        status=Status.CLOSED, outcome=Outcome.DECLINED, closed_at=utcnow().replace(year=2020)
    )
    file = make_attachment(inquiry=inquiry, filename="gammal.pdf")
    db.session.commit()
    dry = runner.invoke(args=["crm", "purge-expired", "--dry-run"])
    assert f"{inquiry.reference} (files: gammal.pdf)" in dry.output
    assert storage.path_of(file.storage_key).is_file()
    assert purge_expired(app.config) == [inquiry.reference]
    db.session.commit()
    assert all_files(db) == []
    assert not storage.path_of(file.storage_key).exists()


def test_forgotten_discarded_mail_takes_its_files(ctx, db, app, staff):
    from datetime import timedelta

    from crm.conversation.inbound import forget_discarded_mail
    from crm.conversation.models import InboundMail
    from crm.conversation.services import discard_unsorted
    from crm.timeutil import utcnow

    received = receive(mail_with_files((pdf(), "reklam.pdf", "attachment", None)))
    mail = db.session.get(InboundMail, received.mail_id)
    discard_unsorted(mail, staff)
    [file] = all_files(db)
    db.session.commit()
    later = utcnow() + timedelta(days=app.config["MAIL_DISCARDED_DAYS"] + 1)
    assert forget_discarded_mail(later) == 1
    db.session.commit()
    assert all_files(db) == []
    assert not storage.path_of(file.storage_key).exists()


def test_mail_files_are_never_the_signed_thread_id_of_another(ctx):
    # The Message-ID lookup for a mail's files is by exact id: a made-up id finds nothing.
    from crm.attachments.queries import files_of_mail_message

    assert files_of_mail_message(new_message_id("SAM-2099-0001")) == []


# ---- after the hostile review -----------------------------------------------------------------


def test_a_reply_whose_file_went_missing_never_blocks_the_queue(ctx, db, staff, smtp_server):
    inquiry = InquiryFactory(assignee_id=staff.id)
    with_file = send_reply(
        inquiry, "Bilagan", staff, files=prepare_uploads([uploaded(pdf(), "a.pdf")])
    )
    later = send_reply(inquiry, "Utan bilaga", staff)
    db.session.commit()
    [file] = all_files(db)
    storage.path_of(file.storage_key).unlink()
    report = send_pending()
    assert [m["Message-ID"] for m in smtp_server.parsed()] == [later.message_id]
    assert report.retrying == 1
    from crm.mail.models import OutboxMessage

    held = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.message_id == with_file.message_id)
    )
    assert "missing" in held.last_error


def test_a_staff_reply_with_an_infected_file_is_refused(ctx, db, staff, clamd_config):
    inquiry = InquiryFactory(assignee_id=staff.id)
    files = prepare_uploads([uploaded(EICAR, "eicar.txt")])
    with pytest.raises(DomainError) as refused:
        send_reply(inquiry, "Se bilagan", staff, files=files)
    assert "Virusskannern stoppade filen ”eicar.txt”" in refused.value.message
    assert refused.value.field == "files"


def test_a_mail_whose_file_was_quarantined_later_is_held_for_the_admin(ctx, db, staff, smtp_server):
    inquiry = InquiryFactory(assignee_id=staff.id)
    send_reply(inquiry, "Bilagan", staff, files=prepare_uploads([uploaded(pdf(), "a.pdf")]))
    [file] = all_files(db)
    file.scan_status = ScanStatus.INFECTED
    db.session.commit()
    assert send_pending().retrying == 1
    assert smtp_server.messages == []


def test_at_most_twenty_files_are_kept_from_one_mail(ctx, db):
    parts = [(pdf(), f"{n}.pdf", "attachment", None) for n in range(25)]
    receive(mail_with_files(*parts))
    assert len(all_files(db)) == 20


def test_the_export_names_but_never_hands_out_a_stopped_or_missing_file(ctx, db, tmp_path):
    inquiry = InquiryFactory(email=SUBMITTER)
    make_attachment(inquiry=inquiry, filename="virus.pdf", scan_status=ScanStatus.INFECTED)
    gone = make_attachment(inquiry=inquiry, filename="borta.pdf")
    storage.path_of(gone.storage_key).unlink()
    data = gdpr_export(SUBMITTER, files_dir=tmp_path)
    assert {entry["name"]: entry["file"] for entry in data["files"]} == {
        "virus.pdf": None, "borta.pdf": None,
    }  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_files_written_in_a_savepoint_that_rolls_back_go_the_rest_stay(ctx, db):
    inquiry = InquiryFactory()
    [kept] = save_uploads([uploaded(pdf(), "kept.pdf")], inquiry=inquiry)
    savepoint = db.session.begin_nested()
    [dropped] = save_uploads([uploaded(png(), "dropped.png")], inquiry=inquiry)
    savepoint.rollback()
    db.session.commit()
    assert not storage.path_of(dropped.storage_key).exists()
    assert storage.path_of(kept.storage_key).is_file()


def test_a_file_deleted_inside_a_savepoint_that_rolls_back_stays(ctx, db):
    from crm.attachments.services import delete_attachments

    inquiry = InquiryFactory()
    file = make_attachment(inquiry=inquiry)
    db.session.commit()
    savepoint = db.session.begin_nested()
    delete_attachments(Attachment.id == file.id)
    savepoint.rollback()
    db.session.commit()
    assert storage.path_of(file.storage_key).is_file()
