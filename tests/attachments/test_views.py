"""Attachments as people meet them: the public form, the status page, staff replies and notes,
downloads with safe headers, and what happens to a file that is refused."""

import io
import re

from sqlalchemy import func, select

from crm.attachments import storage
from crm.attachments.models import Attachment, ScanStatus
from crm.audit.models import AuditLog
from crm.mail.services import send_pending
from crm.models import Inquiry
from tests.attachments.samples import SVG, executable, office, pdf, png
from tests.factories import InquiryFactory, make_attachment
from tests.helpers import mails
from tests.public.helpers import form_data


def upload(content: bytes, name: str):
    return (io.BytesIO(content), name)


def files_on_disk(app) -> list[str]:
    with app.app_context():
        return [key for key, _ in storage.stored_keys() if not key.startswith("tmp/")]


def status_path(client) -> str:
    page = client.get("/samverkan/tack").text
    return re.search(r'href="http://localhost(/samverkan/status/[^"]+)"', page).group(1)


def submit_with(app, client, *files, **fields):
    data = form_data(app, **fields)
    data["files"] = list(files)
    return client.post("/samverkan", data=data, content_type="multipart/form-data")


def test_files_sent_with_the_public_form_are_on_the_thread_for_staff_and_submitter(
    app, client, db, login_as
):
    response = submit_with(
        app, client, upload(pdf(), "Projektplan 2027.pdf"), upload(png(), "karta.png")
    )
    assert response.status_code == 302
    inquiry = db.session.scalar(select(Inquiry))
    files = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [(f.filename, f.content_type, f.inquiry_id) for f in files] == [
        ("Projektplan 2027.pdf", "application/pdf", inquiry.id),
        ("karta.png", "image/png", inquiry.id),
    ]
    assert all(f.message_id is None and f.note_id is None for f in files)
    status_page = client.get(status_path(client)).text
    assert "Projektplan 2027.pdf" in status_page
    assert "Ingen viruskontroll" not in status_page  # the partner needs no scanner details
    login_as("secretary_general")
    detail = client.get(f"/inquiries/{inquiry.reference}").text
    assert f'href="/inquiries/{inquiry.reference}/files/{files[0].id}"' in detail
    assert "PDF" in detail
    assert "Ingen viruskontroll" in detail  # staff know no scanner looked at it


def test_a_download_is_an_attachment_with_a_safe_name_and_is_never_cached(
    app, client, db, login_as
):
    inquiry = InquiryFactory()
    attachment = make_attachment(inquiry=inquiry, filename="Årsrapport – Länsmuseet.pdf")
    db.session.commit()
    login_as("chair")
    response = client.get(f"/inquiries/{inquiry.reference}/files/{attachment.id}")
    assert response.status_code == 200
    assert response.data == pdf()
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%C3%85rsrapport%20%E2%80%93%20L%C3%A4nsmuseet.pdf" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_each_staff_download_is_audited(app, client, db, login_as):
    inquiry = InquiryFactory()
    attachment = make_attachment(inquiry=inquiry)
    db.session.commit()
    me = login_as("board")
    client.get(f"/inquiries/{inquiry.reference}/files/{attachment.id}")
    client.get(f"/inquiries/{inquiry.reference}/files/{attachment.id}")
    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "attachment_downloaded")
    ).all()
    assert [(e.actor_id, e.object_id) for e in entries] == [(me.id, str(attachment.id))] * 2


def test_a_file_of_another_inquiry_is_not_found_through_this_one(client, db, login_as):
    mine, other = InquiryFactory(), InquiryFactory()
    attachment = make_attachment(inquiry=other)
    db.session.commit()
    login_as("secretary_general")
    assert client.get(f"/inquiries/{mine.reference}/files/{attachment.id}").status_code == 404


def test_a_refused_file_keeps_what_was_typed_and_stores_nothing(app, client, db):
    before = files_on_disk(app)
    response = submit_with(
        app, client, upload(pdf(), "ok.pdf"), upload(executable(), "faktura.pdf"),
        subject="Min rubrik som ska finnas kvar",
    )  # fmt: skip
    assert response.status_code == 422
    page = response.text
    assert re.search(r'id="files-error"[^>]*>[^<]*”faktura.pdf”', page)
    assert 'value="Min rubrik som ska finnas kvar"' in page
    assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 0
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert files_on_disk(app) == before


def test_svg_html_macros_and_mismatches_are_refused_next_to_the_field(app, client, db):
    for content, name in (
        (SVG, "logga.png"), (SVG, "logga.svg"), (b"<html><script>x</script></html>", "a.txt"),
        (office("docx", vba_project=True), "plan.docx"), (pdf(), "plan.docx"),
    ):  # fmt: skip
        response = submit_with(app, client, upload(content, name))
        assert response.status_code == 422, name
        assert 'id="files-error"' in response.text, name
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_the_limits_on_number_and_size_are_settings(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_FILES", 2)
    response = submit_with(app, client, *(upload(pdf(), f"{n}.pdf") for n in range(3)))
    assert "Högst 2 filer." in response.text
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1000)
    big = pdf() + b"%" * 2000
    response = submit_with(app, client, upload(big, "stor.pdf"))
    assert "Filen ”stor.pdf” är för stor" in response.text
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 10_000)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_TOTAL_BYTES", 3000)
    response = submit_with(app, client, upload(big, "a.pdf"), upload(big, "b.pdf"))
    assert "Filerna är för stora tillsammans" in response.text
    assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 0


def test_the_submitter_answers_with_a_file_and_sees_only_public_files(app, client, db, login_as):
    submit_with(app, client)
    path = status_path(client)
    page = client.get(path).text
    submission = re.search(r'name="submission_id" type="hidden" value="([^"]+)"', page)
    response = client.post(
        path + "/svar",
        data={"body": "Budgeten bifogas.", "submission_id": submission.group(1),
              "files": [upload(pdf(), "budget.pdf")]},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 302
    [answer_file] = db.session.scalars(select(Attachment)).all()
    assert answer_file.message_id is not None
    from crm.activity.services import add_note
    from tests.factories import UserFactory

    staff = UserFactory(role="secretary_general")
    inquiry = db.session.scalar(select(Inquiry))
    internal = make_attachment(note=add_note("Intern", staff, inquiry=inquiry), filename="i.pdf")
    db.session.commit()
    page = client.get(path).text
    assert "budget.pdf" in page
    assert "i.pdf" not in page
    assert client.get(f"{path}/filer/{answer_file.id}").status_code == 200
    assert client.get(f"{path}/filer/{internal.id}").status_code == 404
    other = make_attachment(inquiry=InquiryFactory())
    db.session.commit()
    assert client.get(f"{path}/filer/{other.id}").status_code == 404


def test_a_staff_reply_sends_its_files_as_mime_attachments(app, client, db, login_as, smtp_server):
    me = login_as("secretary_general")
    inquiry = InquiryFactory(assignee_id=me.id)
    response = client.post(
        f"/inquiries/{inquiry.reference}/reply",
        data={"body": "Här är avtalsutkastet.", "files": [upload(pdf(), "Avtal utkast.pdf")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    [reply] = mails(db, "public_reply")
    assert send_pending().sent >= 1
    [parsed] = [m for m in smtp_server.parsed() if m["Message-ID"] == reply.message_id]
    [part] = list(parsed.iter_attachments())
    assert part.get_filename() == "Avtal utkast.pdf"
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == pdf()
    assert "Här är avtalsutkastet." in parsed.get_body(("plain",)).get_content()


def test_a_note_keeps_its_files_internal(client, db, login_as):
    me = login_as("secretary_general")
    inquiry = InquiryFactory(assignee_id=me.id)
    client.post(
        f"/inquiries/{inquiry.reference}/notes",
        data={"body": "Offerten från tryckeriet", "files": [upload(pdf(), "offert.pdf")]},
        content_type="multipart/form-data",
    )
    [file] = db.session.scalars(select(Attachment)).all()
    assert file.note_id is not None
    assert file.inquiry_id == inquiry.id
    page = client.get(f"/inquiries/{inquiry.reference}").text
    note_start = page.index("Offerten från tryckeriet")
    assert page.index("offert.pdf", note_start) > note_start


def test_a_refused_reply_file_keeps_the_text_and_sends_nothing(client, db, login_as):
    me = login_as("secretary_general")
    inquiry = InquiryFactory(assignee_id=me.id)
    response = client.post(
        f"/inquiries/{inquiry.reference}/reply",
        data={"body": "Text som ska finnas kvar", "files": [upload(executable(), "x.exe")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Text som ska finnas kvar" in response.text
    assert re.search(r'id="reply-files-error"', response.text)
    assert mails(db, "public_reply") == []


def test_staff_log_an_inquiry_with_its_files(app, client, db, login_as):
    login_as("secretary_general")
    data = form_data(app, channel="phone")
    data["files"] = [upload(pdf(), "inbjudan.pdf")]
    response = client.post("/inquiries/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    [file] = db.session.scalars(select(Attachment)).all()
    assert file.inquiry_id == db.session.scalar(select(Inquiry.id))


def test_unscanned_and_quarantined_files_are_never_served(client, db, login_as):
    inquiry = InquiryFactory()
    waiting = make_attachment(inquiry=inquiry, scan_status=ScanStatus.PENDING, filename="w.pdf")
    infected = make_attachment(inquiry=inquiry, scan_status=ScanStatus.INFECTED, filename="v.pdf")
    db.session.commit()
    login_as("chair")
    for file in (waiting, infected):
        assert client.get(f"/inquiries/{inquiry.reference}/files/{file.id}").status_code == 404
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert "Spärrad: skadlig kod" in page
    assert "Väntar på viruskontroll" in page
    assert f"/files/{infected.id}" not in page


def test_the_admin_sees_quarantined_and_waiting_files(client, db, login_as):
    inquiry = InquiryFactory()
    file = make_attachment(inquiry=inquiry, scan_status=ScanStatus.INFECTED, filename="virus.pdf")
    file.scan_signature = "Eicar-Test-Signature"
    make_attachment(inquiry=inquiry, filename="fin.pdf")
    db.session.commit()
    login_as("admin")
    page = client.get("/admin/attachments").text
    assert "virus.pdf" in page
    assert "Eicar-Test-Signature" in page
    assert inquiry.reference in page
    assert "fin.pdf" not in page


def test_files_of_unsorted_mail_are_listed_and_downloaded_by_those_who_sort(
    app, client, db, login_as
):
    from crm.conversation.inbound import receive
    from tests.attachments.test_services import mail_with_files

    with app.test_request_context():
        received = receive(mail_with_files((pdf(), "Inbjudan.pdf", "attachment", None)))
        db.session.commit()
    [file] = db.session.scalars(select(Attachment)).all()
    login_as("chair")
    page = client.get("/inbox/unsorted").text
    link = f"/inbox/unsorted/{received.mail_id}/files/{file.id}"
    assert f'href="{link}"' in page
    assert client.get(link).data == pdf()
    assert client.get(f"/inbox/unsorted/{received.mail_id + 1}/files/{file.id}").status_code == 404


# ---- after the hostile review -----------------------------------------------------------------


def test_files_are_stored_and_scanned_before_the_request_touches_the_database(
    app, client, db, monkeypatch
):
    from sqlalchemy import event

    import crm.attachments.services as services

    order = []
    real_scan = services.scan_path
    monkeypatch.setattr(services, "scan_path", lambda path: order.append("scan") or real_scan(path))
    listener = lambda *args: order.append("sql")  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        submit_with(app, client, upload(pdf(), "plan.pdf"))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert order[0] == "scan"  # on SQLite the first statement takes the write lock


def test_files_too_large_together_are_refused_beside_the_field_not_by_a_413(
    app, client, db, monkeypatch
):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 10_000)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_TOTAL_BYTES", 15_000)
    big = pdf() + b"%" * 8000
    response = submit_with(app, client, upload(big, "a.pdf"), upload(big, "b.pdf"))
    assert response.status_code == 422
    assert re.search(r'id="files-error"[^>]*>Filerna är för stora tillsammans', response.text)
    over = [upload(big, f"{n}.pdf") for n in range(20)]  # beyond every file at its largest
    response = submit_with(app, client, *over)
    assert response.status_code == 413
    assert "de bifogade filerna får vara högst" in response.text


def test_an_id_too_large_for_the_database_is_no_page(client, db, login_as):
    inquiry = InquiryFactory()
    db.session.commit()
    login_as("chair")
    huge = "99999999999999999999"
    assert client.get(f"/inquiries/{inquiry.reference}/files/{huge}").status_code == 404
    assert client.get(f"/inbox/unsorted/{huge}/files/1").status_code == 404
    assert client.get(f"/organisations/{huge}").status_code == 404


def test_an_unwritable_store_keeps_the_form_and_says_so(app, client, db, monkeypatch, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(blocked))
    response = submit_with(app, client, upload(pdf(), "plan.pdf"), subject="Kvar")
    assert response.status_code == 422
    assert "Filerna kunde inte sparas just nu" in response.text
    assert 'value="Kvar"' in response.text


def test_a_form_refused_for_another_field_leaves_no_file_behind(app, client, db):
    before = files_on_disk(app)
    response = submit_with(app, client, upload(pdf(), "plan.pdf"), email="inte-en-adress")
    assert response.status_code == 422
    assert files_on_disk(app) == before


def test_a_file_not_served_is_not_audited_nor_is_a_head_request(client, db, login_as):
    inquiry = InquiryFactory()
    stopped = make_attachment(inquiry=inquiry, scan_status=ScanStatus.INFECTED)
    fine = make_attachment(inquiry=inquiry)
    db.session.commit()
    login_as("chair")
    client.get(f"/inquiries/{inquiry.reference}/files/{stopped.id}")
    client.head(f"/inquiries/{inquiry.reference}/files/{fine.id}")
    audited = select(func.count()).where(AuditLog.action == "attachment_downloaded")
    assert db.session.scalar(audited) == 0
