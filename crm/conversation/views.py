"""The unsorted queue: e-mail the intake could not file, for a person to sort."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.attachments.queries import files_of_mail
from crm.auth.permissions import Permission, permission_required
from crm.conversation import services
from crm.conversation.forms import AttachMailForm, DiscardMailForm, EmlUploadForm
from crm.conversation.models import InboundMail
from crm.conversation.queries import count_unsorted, get_mail_or_404, unsorted_mail
from crm.core.forms import show_domain_error
from crm.core.idempotency import once, remember_result
from crm.core.uploads import accepts_upload
from crm.errors import DomainError, NotPermitted
from crm.extensions import db

bp = Blueprint("mailbox", __name__)


@bp.get("/inbox/unsorted")
@permission_required(Permission.INQUIRY_EDIT)
def unsorted():
    return _show_queue()


def _show_queue(failed: InboundMail | None = None, form=None, status: int = 200):
    forms = {}
    for mail in (rows := unsorted_mail()):
        forms[mail.id] = (
            form if failed is not None and mail.id == failed.id else AttachMailForm(formdata=None)
        )
    return render_template(
        "conversation/unsorted.html",
        mails=rows,
        files=files_of_mail([mail.id for mail in rows]),
        file_url=lambda file: url_for(
            "attachments.unsorted_file", mail_id=file.inbound_mail_id, attachment_id=file.id
        ),
        forms=forms,
        total=count_unsorted(),
        discard=DiscardMailForm(formdata=None),
    ), status


@bp.post("/inbox/unsorted/<int:mail_id>/attach")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def attach(mail_id: int):
    mail = get_mail_or_404(mail_id)
    form = AttachMailForm()
    if not form.validate_on_submit():
        return _show_queue(mail, form, 422)
    try:
        inquiry = services.attach_unsorted(mail, form.reference.data, current_user)
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return _show_queue(get_mail_or_404(mail_id), form, 422)
    reference = inquiry.reference
    target = url_for("inquiries.detail", reference=reference, _anchor="thread-end")
    remember_result(target)
    db.session.commit()
    flash(_("E-postmeddelandet ligger nu i %(ref)s.", ref=reference), "success")
    return redirect(target)


@bp.post("/inbox/unsorted/<int:mail_id>/discard")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def discard(mail_id: int):
    mail = get_mail_or_404(mail_id)
    try:
        services.discard_unsorted(mail, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _show_queue(status=409)
    remember_result(url_for("mailbox.unsorted"))
    db.session.commit()
    flash(_("E-postmeddelandet är kasserat."), "success")
    return redirect(url_for("mailbox.unsorted"))


def _mail_size_limit() -> int:
    return current_app.config["MAIL_MAX_BYTES"]


@bp.post("/inquiries/new/eml")
@accepts_upload(_mail_size_limit)
@permission_required(Permission.INQUIRY_EDIT)
@once()
def upload_eml():
    """Read a saved e-mail: a reply lands on its inquiry's thread; anything else opens the
    new-inquiry form filled in from it."""
    form = EmlUploadForm()
    if not form.validate_on_submit():
        return _new_inquiry_page(form)
    raw = form.eml.data.read(_mail_size_limit() + 1)
    try:
        received = services.receive_uploaded_eml(raw, current_user)
    except NotPermitted:
        raise  # jäv: 403 with its reason, and the filing rolled back
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return _new_inquiry_page(form)
    if received.reference is not None:
        target = url_for("inquiries.detail", reference=received.reference, _anchor="thread-end")
        message = _("Meddelandet hör till %(ref)s och ligger nu i tråden.", ref=received.reference)
    else:
        target = url_for("inquiries.new", mail=received.mail_id)
        message = _("Kontrollera uppgifterna från e-postmeddelandet och spara förfrågan.")
    remember_result(target)
    db.session.commit()
    flash(message, "success")
    return redirect(target)


def _new_inquiry_page(upload_form):
    from crm.inquiries.forms import LogInquiryForm

    form = LogInquiryForm(formdata=None)
    return render_template("inquiries/new.html", form=form, upload=upload_form, mail=None), 422
