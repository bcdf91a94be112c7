from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh

from crm.attachments.hooks import uploaded_files
from crm.attachments.queries import get_attachment_or_404, public_files_of
from crm.attachments.services import upload_limit
from crm.attachments.views import download
from crm.conversation.queries import messages_of
from crm.conversation.services import answer_on_status_page, may_answer_on_status_page
from crm.core.forms import show_domain_error
from crm.core.idempotency import FIELD, once, remember_result
from crm.core.uploads import accepts_upload
from crm.errors import DomainError, InvalidTransition
from crm.extensions import db, limiter
from crm.i18n import language
from crm.inquiries.intake import (
    PRIVACY_NOTICE_VERSION,
    find_by_status_token,
    plausible_reference,
    status_link_token,
    submit_inquiry,
)
from crm.inquiries.services import withdraw_by_submitter
from crm.inquiries.statuses import WITHDRAWABLE_STATUSES
from crm.public.forms import PublicInquiryForm, StatusReplyForm, WithdrawForm
from crm.public.spam import Verdict, judge, keep_or_restart
from crm.regions import region_name
from crm.security import keep_private
from crm.tokens import new_token

bp = Blueprint("public", __name__)
log = logging.getLogger(__name__)


def _public_form_limits() -> str:
    return current_app.config["PUBLIC_FORM_RATE_LIMITS"]


def _languages() -> tuple[str, ...]:
    return current_app.config["LANGUAGES"]


def _counts_against_limit(_response) -> bool:
    """Only stored submissions (and what a bot must take for one) use up the per-IP limit."""
    return g.get("public_form_counted", False)


def _limit_reached(_limit):
    """The limit is hit: give the form back with what was typed, never a bare error page."""
    form = PublicInquiryForm()
    form.started.data = keep_or_restart(form.started.data)
    message = _(
        "Du har skickat många förfrågningar på kort tid. Det du skrev finns kvar nedan: "
        "vänta en stund och skicka igen."
    )
    return make_response(render_template("public/form.html", form=form, notice=message), 429)


def _receipt_again(earlier):
    """A repeat of a stored submission shows the same receipt, status link included."""
    # The link is derived from the form's one-time id, which the repeat carries too.
    _keep_receipt(earlier.result["reference"], status_link_token(request.form[FIELD]))
    return redirect(url_for("public.receipt"))


@bp.route("/samverkan", methods=["GET", "POST"])
@accepts_upload(upload_limit, files="files")
@limiter.limit(
    _public_form_limits,
    methods=["POST"],
    deduct_when=_counts_against_limit,
    on_breach=_limit_reached,
)
@once(on_repeat=_receipt_again)
def inquiry_form():
    if request.method == "POST" and request.form.get("switch_language") in _languages():
        session["lang"] = request.form["switch_language"]
        refresh()  # labels and choices are built below, in the new language
        return _show_form(PublicInquiryForm(), status=200, keep_errors=False)
    form = PublicInquiryForm()
    if not form.validate_on_submit():
        return _show_form(form, status=422 if request.method == "POST" else 200)
    verdict = judge(form.website.data, form.started.data)
    if verdict is Verdict.HONEYPOT:
        log.info("public form: honeypot submission answered with a receipt, nothing stored")
        g.public_form_counted = True
        _keep_receipt(plausible_reference(), new_token())
        return redirect(url_for("public.receipt"))
    if verdict is Verdict.TOO_FAST:
        log.info("public form: sent faster than a person fills it in; shown again")
        notice = _("Kontrollera dina uppgifter och skicka förfrågan igen.")
        return _show_form(form, status=422, notice=notice)
    try:
        inquiry, token = submit_inquiry(
            form.intake_data(),
            link_seed=form.submission_id.data,
            files=uploaded_files(),
            language=language(),
        )
    except DomainError as exc:  # a file refused: nothing is kept, the form comes back
        db.session.rollback()
        show_domain_error(form, exc)
        return _show_form(form, status=422)
    reference = inquiry.reference  # read before the commit expires it
    remember_result(url_for("public.receipt"), reference=reference)
    db.session.commit()
    g.public_form_counted = True
    _keep_receipt(reference, token)
    return redirect(url_for("public.receipt"))


def _show_form(form, status: int, notice: str | None = None, keep_errors: bool = True):
    # The timer runs from the form's first display, across every re-display.
    form.started.data = keep_or_restart(form.started.data)
    if not keep_errors:
        for field in form:
            field.errors = []
    return render_template("public/form.html", form=form, notice=notice), status


def _keep_receipt(reference: str, token: str) -> None:
    session["receipt"] = {"reference": reference, "token": token}


@bp.get("/samverkan/tack")
def receipt():
    stored = session.get("receipt")
    if not stored:
        return redirect(url_for("public.inquiry_form"))
    # The status link is shown once: on a shared computer the next person must not find it
    # here. The reference stays, and the link is in the receipt e-mail.
    token = stored.pop("token", None)
    session["receipt"] = {"reference": stored["reference"]}
    keep_private()
    return render_template(
        "public/receipt.html",
        reference=stored["reference"],
        status_link=url_for("public.status", token=token, _external=True) if token else None,
    )


def _inquiry_for_token(token: str):
    keep_private()
    inquiry = find_by_status_token(token)
    if inquiry is None or inquiry.anonymised_at is not None:
        abort(404)
    return inquiry


@bp.get("/samverkan/status/<token>")
def status(token: str):
    return _show_status(_inquiry_for_token(token), token)


def _show_status(inquiry, token: str, reply_form=None, status_code: int = 200):
    return render_template(
        "public/status.html",
        inquiry=inquiry,
        messages=messages_of(inquiry),
        files=public_files_of(inquiry),
        file_url=lambda file: url_for("public.file", token=token, attachment_id=file.id),
        regions=[region_name(code) for code in inquiry.regions],
        can_withdraw=inquiry.status in WITHDRAWABLE_STATUSES,
        can_answer=may_answer_on_status_page(inquiry),
        reply_form=reply_form or StatusReplyForm(formdata=None),
        token=token,
    ), status_code


def _status_reply_limits() -> str:
    return current_app.config["STATUS_REPLY_RATE_LIMITS"]


@bp.post("/samverkan/status/<token>/svar")
@accepts_upload(upload_limit, files="files")
@limiter.limit(_status_reply_limits)
@once()
def answer(token: str):
    inquiry = _inquiry_for_token(token)
    form = StatusReplyForm()
    if not form.validate_on_submit():
        return _show_status(inquiry, token, form, 422)
    try:
        answer_on_status_page(inquiry, form.body.data, files=uploaded_files())
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return _show_status(_inquiry_for_token(token), token, form, 422)
    target = url_for("public.status", token=token, _anchor="thread-end")
    remember_result(target)
    db.session.commit()
    flash(_("Tack! Ditt svar är skickat."), "success")
    return redirect(target)


@bp.get("/samverkan/status/<token>/filer/<int:attachment_id>")
def file(token: str, attachment_id: int):
    """A file of the public thread (never an internal note's), for the submitter."""
    inquiry = _inquiry_for_token(token)
    attachment = get_attachment_or_404(attachment_id)
    if attachment.inquiry_id != inquiry.id or attachment.note_id is not None:
        abort(404)
    return download(attachment)


@bp.route("/samverkan/status/<token>/aterkalla", methods=["GET", "POST"])
@once()
def withdraw(token: str):
    inquiry = _inquiry_for_token(token)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            withdraw_by_submitter(inquiry)
            remember_result(url_for("public.status", token=token))
            db.session.commit()
            flash(_("Din förfrågan är återkallad."), "success")
        except InvalidTransition:
            db.session.rollback()
            flash(_("Förfrågan kan inte återkallas längre."), "error")
        return redirect(url_for("public.status", token=token))
    if inquiry.status not in WITHDRAWABLE_STATUSES:
        return redirect(url_for("public.status", token=token))
    return render_template("public/withdraw.html", inquiry=inquiry, form=form, token=token)


@bp.get("/integritet")
def privacy():
    return render_template("public/privacy.html", version=PRIVACY_NOTICE_VERSION)


@bp.get("/tillganglighet")
def accessibility():
    return render_template("public/accessibility.html")
