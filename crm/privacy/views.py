"""Requests from individuals without a shell (GDPR art. 15, 17, 20): the admin finds a person
by e-mail address, sees everything held about them, downloads it, and erases it after a
preview of what will change. Every step is audited; the address never goes into a URL."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.permissions import Permission, permission_required
from crm.core.idempotency import once, remember_result
from crm.database import checkpoint
from crm.extensions import db
from crm.privacy.forms import EraseForm, ExportForm, PersonForm
from crm.privacy.services import gdpr_erase, gdpr_export
from crm.security import keep_private
from crm.timeutil import utcnow

bp = Blueprint("privacy", __name__, url_prefix="/admin/personuppgifter")


@bp.route("", methods=["GET", "POST"])
@permission_required(Permission.PRIVACY_MANAGE)
def person():
    """Search by address (POST, so it stays out of URLs and logs) and preview."""
    keep_private()
    form = PersonForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("privacy/person.html", form=form, data=None), status
    email = form.email.data
    data = gdpr_export(email, actor=current_user)  # looking is an access: audited
    erase = gdpr_erase(email, dry_run=True, actor=current_user)
    db.session.commit()
    return render_template(
        "privacy/person.html", form=form, data=data, erase=erase,
        export_form=ExportForm(data={"email": email}),
        erase_form=EraseForm(formdata=None, data={"email": email}),
    )  # fmt: skip


@bp.post("/export")
@permission_required(Permission.PRIVACY_MANAGE)
def export():
    """Everything held, as a ZIP: export.json and the person's files."""
    form = ExportForm()
    if not form.validate_on_submit():
        return redirect(url_for("privacy.person"))
    with tempfile.TemporaryDirectory(prefix="samverka-export-") as folder:
        files = Path(folder) / "files"
        data = gdpr_export(form.email.data, files_dir=files, actor=current_user)
        db.session.commit()
        archive = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115 (sent below)
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("export.json", json.dumps(data, ensure_ascii=False, indent=2))
            for path in sorted(files.glob("*")) if files.exists() else []:
                bundle.write(path, f"files/{path.name}")
    archive.seek(0)
    response = send_file(
        archive, mimetype="application/zip", as_attachment=True,
        download_name=f"personuppgifter-{utcnow():%Y%m%d}.zip", max_age=0,
    )  # fmt: skip
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/radera")
@permission_required(Permission.PRIVACY_MANAGE)
@once()
def erase():
    form = EraseForm()
    if not form.validate_on_submit():
        flash(_("Bekräfta innan uppgifterna raderas."), "error")
        return redirect(url_for("privacy.person"))
    summary = gdpr_erase(form.email.data, actor=current_user)
    target = url_for("privacy.person")
    remember_result(target)
    db.session.commit()
    checkpoint()
    flash(
        _(
            "Personens uppgifter är raderade: %(inquiries)d förfrågningar anonymiserade, "
            "%(contacts)d kontaktuppgifter borttagna, %(files)d filer raderade.",
            inquiries=len(summary["inquiries"]), contacts=summary["contacts"],
            files=len(summary["files"]),
        ),
        "success",
    )  # fmt: skip
    return redirect(target)
