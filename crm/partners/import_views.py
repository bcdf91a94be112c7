"""The register import pages: upload, preview, confirm; and the template file.

A blueprint of its own beside `partners.views` (same feature, same permission), so the
import's routes and their upload limit sit together.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.permissions import Permission, permission_required
from crm.core.forms import show_domain_error
from crm.core.idempotency import once, remember_result
from crm.core.uploads import accepts_upload
from crm.errors import DomainError
from crm.extensions import db
from crm.partners import importing
from crm.partners.forms import ConfirmImportForm, ImportForm
from crm.partners.models import OrganisationImport
from crm.timeutil import utcnow

bp = Blueprint("partner_import", __name__, url_prefix="/organisations/import")


def _upload_limit() -> int:
    return importing.limits()[0]


@bp.route("", methods=["GET", "POST"])
@accepts_upload(_upload_limit)
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def upload():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            read = importing.read_rows(upload.read(_upload_limit() + 1), upload.filename or "")
            staged = importing.stage(read, upload.filename or "", current_user)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            target = url_for("partner_import.preview", import_id=staged.id)
            remember_result(target)
            db.session.commit()
            if read.ignored_columns:
                flash(_("Kolumner som inte används: %(names)s.",
                        names=", ".join(read.ignored_columns)), "info")  # fmt: skip
            return redirect(target)
    status = 422 if form.is_submitted() else 200
    return render_template("partners/import.html", form=form, columns=importing.COLUMNS,
                           limits=importing.limits()), status  # fmt: skip


@bp.errorhandler(413)
def too_large(_error):
    """A file over the limit is refused beside the field, like any other unreadable file,
    not by the general "shorten the text" page (the body was never read)."""
    form = ImportForm(formdata=None)
    size = importing.megabytes(_upload_limit())
    form.file.errors = [_("Filen är större än %(mb)s MB.", mb=size)]
    return render_template("partners/import.html", form=form, columns=importing.COLUMNS,
                           limits=importing.limits()), 413  # fmt: skip


def _staged_or_404(import_id: int) -> OrganisationImport:
    """Only the uploader's own import, and only while it is kept."""
    staged = db.session.get(OrganisationImport, import_id)
    if (
        staged is None
        or staged.user_id != current_user.id
        or staged.created_at < utcnow() - importing.KEPT_FOR
    ):
        abort(404)
    return staged


def _preview(staged, form, status: int = 200):
    rows = {row["line"]: row["values"] for row in staged.rows}
    return render_template(
        "partners/import_preview.html", staged=staged, form=form, rows=rows,
        counts=importing.summary(staged.verdicts), columns=importing.COLUMNS,
    ), status  # fmt: skip


@bp.get("/<int:import_id>")
@permission_required(Permission.ORGANISATION_EDIT)
def preview(import_id: int):
    return _preview(_staged_or_404(import_id), ConfirmImportForm(formdata=None))


@bp.post("/<int:import_id>")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def confirm(import_id: int):
    staged = _staged_or_404(import_id)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        return _preview(staged, form, 422)
    try:
        counts = importing.confirm(staged, current_user)
    except importing.PreviewOutdated as exc:
        db.session.commit()  # keep the fresh verdicts: the next confirmation is of those
        fresh_form = ConfirmImportForm(formdata=None)  # a new one-time id for that one
        show_domain_error(fresh_form, exc)
        return _preview(_staged_or_404(import_id), fresh_form, 409)
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return _preview(_staged_or_404(import_id), form, 422)
    target = url_for("partners.index")
    remember_result(target)
    db.session.commit()
    flash(
        _("Importen är klar: %(new)d nya organisationer, %(matched)d kompletterade, "
          "%(contacts)d nya kontakter; %(skipped)d rader hoppades över.",
          new=counts["new"], matched=counts["matched"], contacts=counts["contacts"],
          skipped=counts["conflict"] + counts["invalid"]),
        "success",
    )  # fmt: skip
    return redirect(target)


@bp.get("/mall.csv")
@permission_required(Permission.ORGANISATION_EDIT)
def template():
    return Response(
        importing.template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=organisationer-mall.csv"},
    )
