from __future__ import annotations

import logging
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _

from crm.choices import Addressee, Category, OrganisationType
from crm.errors import InvalidTransition
from crm.extensions import db, limiter
from crm.inquiries.intake import (
    PRIVACY_NOTICE_VERSION,
    IntakeData,
    find_by_status_token,
    submit_inquiry,
)
from crm.inquiries.services import withdraw_by_submitter
from crm.inquiries.statuses import WITHDRAWABLE_STATUSES, explain
from crm.public.forms import PublicInquiryForm, WithdrawForm
from crm.public.spam import form_started_token, looks_automated
from crm.regions import region_name
from crm.security import keep_private

bp = Blueprint("public", __name__)
log = logging.getLogger(__name__)
bp.add_app_template_global(explain, "status_explanation")


def _public_form_limits() -> str:
    return current_app.config["PUBLIC_FORM_RATE_LIMITS"]


@bp.route("/samverkan", methods=["GET", "POST"])
@limiter.limit(_public_form_limits, methods=["POST"])
def inquiry_form():
    form = PublicInquiryForm()
    if form.validate_on_submit():
        if looks_automated(form.website.data, form.started.data):
            log.info("public form: automated submission dropped")
            return _show_receipt(fake=True)
        inquiry, token = submit_inquiry(intake_data(form))
        reference = inquiry.reference  # read before the commit expires it
        db.session.commit()
        session["receipt"] = {"reference": reference, "token": token}
        return redirect(url_for("public.receipt"))
    form.started.data = form_started_token()
    return render_template("public/form.html", form=form)


def intake_data(form) -> IntakeData:
    return IntakeData(
        organisation_name=form.organisation_name.data,
        organisation_type=OrganisationType(form.organisation_type.data),
        organisation_number=form.organisation_number.data,
        contact_name=form.contact_name.data,
        email=form.email.data,
        phone=form.phone.data,
        category=Category(form.category.data),
        regions=form.regions.data or [],
        subject=form.subject.data,
        message=form.message.data,
        addressee=Addressee(form.addressee.data),
        consent=bool(getattr(form, "consent", None) and form.consent.data),
    )


@bp.get("/samverkan/tack")
def receipt():
    if "receipt" not in session:
        return redirect(url_for("public.inquiry_form"))
    return _show_receipt()


def _show_receipt(fake: bool = False):
    if fake:
        # Looks like a receipt so that a bot learns nothing; nothing was stored.
        reference = f"SAM-{secrets.randbelow(9000) + 1000}"
        status_link = None
    else:
        stored = session["receipt"]
        reference = stored["reference"]
        status_link = url_for("public.status", token=stored["token"], _external=True)
    return render_template("public/receipt.html", reference=reference, status_link=status_link)


def _inquiry_for_token(token: str):
    keep_private()
    inquiry = find_by_status_token(token)
    if inquiry is None or inquiry.anonymised_at is not None:
        abort(404)
    return inquiry


@bp.get("/samverkan/status/<token>")
def status(token: str):
    from crm.inquiries.queries import public_replies

    inquiry = _inquiry_for_token(token)
    return render_template(
        "public/status.html",
        inquiry=inquiry,
        replies=public_replies(inquiry),
        regions=[region_name(code) for code in inquiry.regions],
        can_withdraw=inquiry.status in WITHDRAWABLE_STATUSES,
        form=WithdrawForm(),
        token=token,
    )


@bp.route("/samverkan/status/<token>/aterkalla", methods=["GET", "POST"])
def withdraw(token: str):
    inquiry = _inquiry_for_token(token)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            withdraw_by_submitter(inquiry)
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
