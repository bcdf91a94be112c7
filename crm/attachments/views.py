"""Downloading attachments: staff with `inquiry:view`, the submitter through the status link,
and the admin's list of quarantined files. A file is only ever sent as a download."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, render_template, request, send_file
from flask_login import current_user

from crm.attachments import queries, services, storage
from crm.attachments.models import Attachment
from crm.auth.permissions import Permission, permission_required
from crm.conversation.queries import get_mail_or_404
from crm.extensions import db
from crm.inquiries.queries import get_inquiry_or_404, references_of
from crm.security import sandboxed

bp = Blueprint("attachments", __name__)
log = logging.getLogger(__name__)


def download(attachment: Attachment, audited_for=None):
    """The file as a download under its cleaned name (RFC 6266, UTF-8 `filename*`), with its
    detected type; never inline, never cached. A download by staff (`audited_for`) is
    audited, only when the file is actually sent."""
    if not attachment.servable:
        abort(404)
    path = storage.path_of(attachment.storage_key)
    if not path.is_file():
        log.error("attachment %d: its file %s is missing", attachment.id, attachment.storage_key)
        abort(404)
    if audited_for is not None and request.method == "GET":
        services.audit_download(attachment, audited_for)
        db.session.commit()
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    sandboxed()
    return response


@bp.get("/inquiries/<reference>/files/<int:attachment_id>")
@permission_required(Permission.INQUIRY_VIEW)
def inquiry_file(reference: str, attachment_id: int):
    inquiry = get_inquiry_or_404(reference)
    attachment = queries.get_attachment_or_404(attachment_id)
    if attachment.inquiry_id != inquiry.id:
        abort(404)
    return download(attachment, audited_for=current_user)


@bp.get("/inbox/unsorted/<int:mail_id>/files/<int:attachment_id>")
@permission_required(Permission.INQUIRY_EDIT)
def unsorted_file(mail_id: int, attachment_id: int):
    mail = get_mail_or_404(mail_id)
    attachment = queries.get_attachment_or_404(attachment_id)
    if attachment.inbound_mail_id != mail.id or attachment.inquiry_id is not None:
        abort(404)
    return download(attachment, audited_for=current_user)


@bp.get("/admin/attachments")
@permission_required(Permission.SETTINGS_MANAGE)
def quarantine():
    """Files the scanner stopped, and files still waiting for it."""
    attachments = queries.needing_attention()
    return render_template(
        "attachments/quarantine.html",
        attachments=attachments,
        references=references_of({a.inquiry_id for a in attachments if a.inquiry_id}),
    )
