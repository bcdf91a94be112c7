from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.permissions import permission_required
from crm.core.forms import show_domain_error
from crm.core.idempotency import once, remember_result
from crm.errors import DomainError, NotPermitted
from crm.extensions import db
from crm.reply_templates import services
from crm.reply_templates.forms import PERSONAL, SHARED, DeleteTemplateForm, ReplyTemplateForm
from crm.reply_templates.models import ReplyTemplate
from crm.reply_templates.queries import get_template_or_404, templates_for

bp = Blueprint("reply_templates", __name__, url_prefix="/svarsmallar")


def templates_page(view):
    """Logged in, and allowed shared templates (template:manage) or personal ones
    (inquiry:edit); else 403."""

    @wraps(view)
    @permission_required()
    def wrapped(*args, **kwargs):
        if not services.may_use_the_pages(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _managed_or_403(template_id: int) -> ReplyTemplate:
    template = get_template_or_404(template_id, current_user)  # 404 before 403
    if not services.may_manage(template, current_user):
        abort(403)
    return template


def _scopes() -> list[str]:
    scopes = []
    if services.may_have_personal(current_user):
        scopes.append(PERSONAL)
    if services.may_manage_shared(current_user):
        scopes.append(SHARED)
    return scopes


@bp.get("")
@templates_page
def index():
    templates = templates_for(current_user)
    return render_template(
        "reply_templates/list.html",
        shared=[t for t in templates if t.shared],
        personal=[t for t in templates if not t.shared],
        manageable=lambda template: services.may_manage(template, current_user),
        may_have_personal=services.may_have_personal(current_user),
    )


@bp.route("/ny", methods=["GET", "POST"])
@templates_page
@once()
def new():
    form = ReplyTemplateForm(scopes=_scopes())
    if form.validate_on_submit():
        try:
            services.create_template(
                form.name.data, form.text_sv.data, form.text_en.data, current_user,
                shared=form.scope.data == SHARED,
            )  # fmt: skip
        except NotPermitted:
            raise
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            return _saved()
    return _form_page(form, None)


@bp.route("/<int:template_id>", methods=["GET", "POST"])
@templates_page
@once()
def edit(template_id: int):
    template = _managed_or_403(template_id)
    form = ReplyTemplateForm(obj=template, scopes=[SHARED if template.shared else PERSONAL])
    if form.validate_on_submit():
        try:
            services.update_template(
                template, form.name.data, form.text_sv.data, form.text_en.data, current_user
            )
        except NotPermitted:
            raise
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            return _saved()
    return _form_page(form, template)


def _saved():
    remember_result(url_for("reply_templates.index"))
    db.session.commit()
    flash(_("Mallen är sparad."), "success")
    return redirect(url_for("reply_templates.index"))


def _form_page(form, template):
    status = 422 if form.is_submitted() else 200
    return render_template(
        "reply_templates/form.html",
        form=form,
        template=template,
        placeholders=list(services.PLACEHOLDERS),
        choose_scope=template is None and len(form.scope.choices) > 1,
    ), status


@bp.route("/<int:template_id>/ta-bort", methods=["GET", "POST"])
@templates_page
@once()
def delete(template_id: int):
    template = _managed_or_403(template_id)
    form = DeleteTemplateForm()
    if request.method == "POST" and form.validate_on_submit():
        name = template.name
        services.delete_template(template, current_user)
        remember_result(url_for("reply_templates.index"))
        db.session.commit()
        flash(_("Mallen %(name)s är borttagen.", name=name), "success")
        return redirect(url_for("reply_templates.index"))
    status = 422 if form.is_submitted() else 200
    return render_template("reply_templates/delete.html", form=form, template=template), status
