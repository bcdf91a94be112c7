from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.permissions import Permission, permission_required
from crm.core.forms import show_domain_error
from crm.core.idempotency import once, remember_result
from crm.errors import DomainError, NotPermitted
from crm.extensions import db
from crm.inquiries.queries import get_inquiry_or_404
from crm.partners.queries import get_organisation_or_404
from crm.tags import services
from crm.tags.forms import DeleteTagForm, MergeTagForm, RenameTagForm, TagForm, UntagForm
from crm.tags.queries import get_tag_or_404, tags_with_usage, usage_of

bp = Blueprint("tags", __name__)


# ---- on an inquiry or an organisation ---------------------------------------------------


def _tag_on(subject, render, target: str, form, action, success: str):
    """Validate, run the service, commit once and go back to the page; errors beside the field
    of the tag form on that page (a jäv refusal is a 403 with its reason)."""
    if form.validate_on_submit():
        try:
            result = action(subject)
        except NotPermitted:
            raise
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            remember_result(target)
            db.session.commit()
            flash(success(result) if callable(success) else success, "success")
            return redirect(target)
    return render(form)


def _inquiry_page(reference: str):
    from crm.inquiries.views import render_detail

    return lambda form: render_detail(get_inquiry_or_404(reference), {"tag": form}, 422)


def _organisation_page(organisation_id: int):
    from crm.partners.views import render_record

    return lambda form: render_record(get_organisation_or_404(organisation_id), {"tag": form}, 422)


def _added(tag) -> str:
    if tag is None:
        return _("Etiketten fanns redan.")
    return _("Etiketten ”%(name)s” är tillagd.", name=tag.name)


@bp.post("/inquiries/<reference>/tags")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def tag_inquiry(reference: str):
    inquiry = get_inquiry_or_404(reference)
    target = url_for("inquiries.detail", reference=reference) + "#tags-title"
    form = TagForm()
    return _tag_on(
        inquiry, _inquiry_page(reference), target, form,
        lambda inq: services.tag_inquiry(inq, form.name.data, current_user), _added,
    )  # fmt: skip


@bp.post("/inquiries/<reference>/tags/<int:tag_id>/remove")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def untag_inquiry(reference: str, tag_id: int):
    inquiry = get_inquiry_or_404(reference)
    tag = get_tag_or_404(tag_id)
    target = url_for("inquiries.detail", reference=reference) + "#tags-title"
    return _tag_on(
        inquiry, _inquiry_page(reference), target, UntagForm(),
        lambda inq: services.untag_inquiry(inq, tag, current_user),
        _("Etiketten ”%(name)s” är borttagen.", name=tag.name),
    )  # fmt: skip


@bp.post("/organisations/<int:organisation_id>/tags")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def tag_organisation(organisation_id: int):
    organisation = get_organisation_or_404(organisation_id)
    target = url_for("partners.detail", organisation_id=organisation_id) + "#tags-title"
    form = TagForm()
    return _tag_on(
        organisation, _organisation_page(organisation_id), target, form,
        lambda org: services.tag_organisation(org, form.name.data, current_user), _added,
    )  # fmt: skip


@bp.post("/organisations/<int:organisation_id>/tags/<int:tag_id>/remove")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def untag_organisation(organisation_id: int, tag_id: int):
    organisation = get_organisation_or_404(organisation_id)
    tag = get_tag_or_404(tag_id)
    target = url_for("partners.detail", organisation_id=organisation_id) + "#tags-title"
    return _tag_on(
        organisation, _organisation_page(organisation_id), target, UntagForm(),
        lambda org: services.untag_organisation(org, tag, current_user),
        _("Etiketten ”%(name)s” är borttagen.", name=tag.name),
    )  # fmt: skip


# ---- the tag register -------------------------------------------------------------------


@bp.get("/taggar")
@permission_required(Permission.INQUIRY_EDIT)
def index():
    return render_template("tags/index.html", rows=tags_with_usage())


def _tag_page(tag, forms: dict | None = None, status: int = 200):
    others = [row.Tag for row in tags_with_usage() if row.Tag.id != tag.id]
    defaults = {
        "rename": RenameTagForm(formdata=None, data={"name": tag.name}),
        "merge": MergeTagForm(formdata=None, targets=others),
    }
    defaults.update(forms or {})
    inquiries, organisations = usage_of(tag)
    page = render_template(
        "tags/tag.html", tag=tag, forms=defaults, inquiries=inquiries,
        organisations=organisations, has_others=bool(others),
    )  # fmt: skip
    return page, status


@bp.get("/taggar/<int:tag_id>")
@permission_required(Permission.INQUIRY_EDIT)
def detail(tag_id: int):
    return _tag_page(get_tag_or_404(tag_id))


@bp.post("/taggar/<int:tag_id>/namn")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def rename(tag_id: int):
    tag = get_tag_or_404(tag_id)
    form = RenameTagForm()
    if form.validate_on_submit():
        try:
            services.rename_tag(tag, form.name.data, current_user)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            name = tag.name
            remember_result(url_for("tags.index"))
            db.session.commit()
            flash(_("Etiketten heter nu ”%(name)s”.", name=name), "success")
            return redirect(url_for("tags.index"))
    return _tag_page(get_tag_or_404(tag_id), {"rename": form}, 422)


@bp.post("/taggar/<int:tag_id>/sla-ihop")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def merge(tag_id: int):
    """First post: a page saying what will happen; the confirmed post does it."""
    source = get_tag_or_404(tag_id)
    others = [row.Tag for row in tags_with_usage() if row.Tag.id != source.id]
    form = MergeTagForm(targets=others)
    if not form.validate_on_submit():
        return _tag_page(source, {"merge": form}, 422)
    target = get_tag_or_404(int(form.target.data))
    if form.confirmed.data != "1":
        confirm = MergeTagForm(
            formdata=None, data={"target": str(target.id), "confirmed": "1"}, targets=others
        )
        inquiries, organisations = usage_of(source)
        return render_template(
            "tags/merge_confirm.html", source=source, target=target, form=confirm,
            inquiries=inquiries, organisations=organisations,
        )  # fmt: skip
    try:
        result = services.merge_tags(source, target, current_user)
    except NotPermitted:
        raise  # jäv on an inquiry with the tag: a 403 with its reason, as when untagging
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return _tag_page(get_tag_or_404(tag_id), {"merge": form}, 422)
    source_name, target_name = source.name, target.name
    remember_result(url_for("tags.index"))
    db.session.commit()
    flash(
        _(
            "”%(source)s” är sammanslagen med ”%(target)s”: %(inq)d förfrågningar och "
            "%(org)d organisationer fick ”%(target)s”; %(both)d hade redan båda.",
            source=source_name, target=target_name, inq=result.inquiries_moved,
            org=result.organisations_moved,
            both=result.inquiries_had_both + result.organisations_had_both,
        ),
        "success",
    )  # fmt: skip
    return redirect(url_for("tags.index"))


@bp.route("/taggar/<int:tag_id>/ta-bort", methods=["GET", "POST"])
@permission_required(Permission.INQUIRY_EDIT)
@once()
def delete(tag_id: int):
    tag = get_tag_or_404(tag_id)
    form = DeleteTagForm()
    if form.validate_on_submit():
        name = tag.name
        inquiries, organisations = services.delete_tag(tag, current_user)
        remember_result(url_for("tags.index"))
        db.session.commit()
        flash(
            _(
                "Etiketten ”%(name)s” är borttagen från %(inq)d förfrågningar och "
                "%(org)d organisationer.",
                name=name, inq=inquiries, org=organisations,
            ),
            "success",
        )  # fmt: skip
        return redirect(url_for("tags.index"))
    inquiries, organisations = usage_of(tag)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "tags/delete_confirm.html", tag=tag, form=form, inquiries=inquiries,
        organisations=organisations,
    ), status  # fmt: skip
