from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from crm.activity import services as activity
from crm.activity.forms import FollowUpForm, NoteForm
from crm.activity.queries import get_note_or_404
from crm.auth.permissions import Permission, permission_required
from crm.auth.queries import assignable_users, user_by_id
from crm.choices import Recurrence
from crm.core.forms import show_domain_error
from crm.core.idempotency import once, remember_result
from crm.errors import DomainError, NotPermitted
from crm.extensions import db
from crm.partners import services
from crm.partners.forms import ContactForm, MergeForm, OrganisationForm
from crm.partners.queries import (
    OrganisationFilters,
    duplicate_suggestions,
    duplicates_of,
    find_organisation_named,
    get_contact_or_404,
    get_organisation_or_404,
    list_organisations,
    record_of,
)
from crm.regions import region_name, regions
from crm.tags.forms import TagForm
from crm.tags.queries import tag_names, tags_by_organisation, tags_of_organisation

bp = Blueprint("partners", __name__, url_prefix="/organisations")


@bp.get("")
@permission_required(Permission.ORGANISATION_VIEW)
def index():
    filters = OrganisationFilters.from_args(request.args)
    rows, next_cursor = list_organisations(filters, request.args.get("after"))
    return render_template(
        "partners/list.html", rows=rows, filters=filters, next_cursor=next_cursor,
        regions=regions(), region_name=region_name,
        tags=tags_by_organisation(organisation.id for organisation, *_ in rows),
    )  # fmt: skip


@bp.get("/<int:organisation_id>")
@permission_required(Permission.ORGANISATION_VIEW)
def detail(organisation_id: int):
    return render_record(get_organisation_or_404(organisation_id))


def render_record(organisation, forms: dict | None = None, status: int = 200):
    """The organisation's page; `forms` carries a form with errors back to where it was."""
    defaults = {
        "contact": ContactForm(formdata=None),
        "note": NoteForm(formdata=None),
        "follow_up": FollowUpForm(
            formdata=None, data={"owner": str(current_user.id)}, candidates=assignable_users()
        ),
        "tag": TagForm(formdata=None),
    }
    defaults.update(forms or {})
    return (
        render_template(
            "partners/detail.html", organisation=organisation, forms=defaults,
            region_name=region_name, can_edit=current_user.can(Permission.ORGANISATION_EDIT),
            note_editable=lambda note: activity.may_edit_note(current_user, note),
            likely_duplicates=duplicates_of(organisation),
            tags=tags_of_organisation(organisation), tag_names=tag_names,
            **record_of(organisation),
        ),
        status,
    )  # fmt: skip


def _on_record(organisation_id: int, form_name: str, form, action, success: str):
    """Validate, run the service, commit once and go back to the record; errors beside the
    fields of the form that was filled in."""
    organisation = get_organisation_or_404(organisation_id)
    if form.validate_on_submit():
        try:
            action(organisation)
            target = url_for("partners.detail", organisation_id=organisation.id)
            remember_result(target)
            db.session.commit()
        except NotPermitted:
            raise  # someone else's note: 403 with the reason
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            flash(success, "success")
            return redirect(target)
    return render_record(get_organisation_or_404(organisation_id), {form_name: form}, 422)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def new():
    return _edit(None)


@bp.route("/<int:organisation_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def edit(organisation_id: int):
    return _edit(get_organisation_or_404(organisation_id))


def _edit(organisation):
    form = OrganisationForm(obj=organisation)
    if request.method == "GET" and organisation is not None:
        form.type.data = organisation.type.value
        form.relationship.data = organisation.relationship.value
        form.region.data = organisation.region or ""
    if form.validate_on_submit():
        try:
            saved = services.save_organisation(organisation, form.data, current_user)
            target = url_for("partners.detail", organisation_id=saved.id)
            remember_result(target)
            name = saved.name
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            flash(_("%(name)s är sparad.", name=name), "success")
            return redirect(target)
    status = 422 if form.is_submitted() else 200
    return render_template("partners/form.html", form=form, organisation=organisation), status


@bp.post("/<int:organisation_id>/contacts")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def add_contact(organisation_id: int):
    form = ContactForm()
    return _on_record(
        organisation_id, "contact", form,
        lambda organisation: services.add_contact(organisation, form.data, current_user),
        _("Kontakten är sparad."),
    )  # fmt: skip


@bp.post("/<int:organisation_id>/contacts/<int:contact_id>")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def edit_contact(organisation_id: int, contact_id: int):
    form = ContactForm()
    return _on_record(
        organisation_id, "contact", form,
        lambda organisation: services.update_contact(
            get_contact_or_404(organisation, contact_id), form.data, current_user
        ),
        _("Kontakten är ändrad."),
    )  # fmt: skip


@bp.post("/<int:organisation_id>/contacts/<int:contact_id>/delete")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def delete_contact(organisation_id: int, contact_id: int):
    organisation = get_organisation_or_404(organisation_id)
    services.remove_contact(get_contact_or_404(organisation, contact_id), current_user)
    target = url_for("partners.detail", organisation_id=organisation.id)
    remember_result(target)
    db.session.commit()
    flash(_("Kontakten är borttagen."), "success")
    return redirect(target)


@bp.post("/<int:organisation_id>/notes")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def add_note(organisation_id: int):
    form = NoteForm()
    return _on_record(
        organisation_id, "note", form,
        lambda organisation: activity.add_note(
            form.body.data, current_user, organisation=organisation
        ),
        _("Anteckningen är sparad."),
    )  # fmt: skip


@bp.post("/<int:organisation_id>/notes/<int:note_id>")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def edit_note(organisation_id: int, note_id: int):
    form = NoteForm()
    note = get_note_or_404(note_id, organisation_id=organisation_id)
    return _on_record(
        organisation_id, "note", form,
        lambda _organisation: activity.edit_note(note, form.body.data, current_user),
        _("Anteckningen är ändrad."),
    )  # fmt: skip


@bp.post("/<int:organisation_id>/follow-ups")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def add_follow_up(organisation_id: int):
    form = FollowUpForm(candidates=assignable_users())
    return _on_record(
        organisation_id, "follow_up", form,
        lambda organisation: activity.add_follow_up(
            form.title.data, form.due_on.data, user_by_id(form.owner.data), current_user,
            organisation=organisation, recurrence=Recurrence(form.recurrence.data),
        ),
        _("Uppföljningen är sparad."),
    )  # fmt: skip


def _moved_summary(moved: dict) -> str:
    """What a merge moved, in words: "Flyttade hit: 3 förfrågningar, 1 kontaktperson." """
    counted = {
        "inquiries": lambda n: ngettext("%(num)d förfrågan", "%(num)d förfrågningar", n),
        "contacts": lambda n: ngettext("%(num)d kontaktperson", "%(num)d kontaktpersoner", n),
        "notes": lambda n: ngettext("%(num)d anteckning", "%(num)d anteckningar", n),
        "follow_ups": lambda n: ngettext("%(num)d uppföljning", "%(num)d uppföljningar", n),
        "routing_rules": lambda n: ngettext(
            "%(num)d fördelningsregel", "%(num)d fördelningsregler", n
        ),
    }
    parts = [say(moved[table]) for table, say in counted.items() if moved.get(table)]
    if not parts:
        return _("Dubbletten hade inget som behövde flyttas.")
    return _("Flyttade hit: %(what)s.", what=", ".join(parts))


@bp.route("/<int:organisation_id>/merge", methods=["GET", "POST"])
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def merge(organisation_id: int):
    survivor = get_organisation_or_404(organisation_id)
    # A suggestion on the duplicates page names the duplicate; the person still confirms.
    form = MergeForm(data={"duplicate": request.args.get("duplicate", "")[:200]})
    if form.validate_on_submit():
        try:
            duplicate = find_organisation_named(form.duplicate.data, field="duplicate")
            name = duplicate.name
            moved = services.merge_organisations(survivor, duplicate, current_user)
            target = url_for("partners.detail", organisation_id=survivor.id)
            remember_result(target)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            message = _(
                "%(name)s är sammanslagen med %(survivor)s.", name=name, survivor=survivor.name
            )
            flash(f"{message} {_moved_summary(moved)}", "success")
            return redirect(target)
    status = 422 if form.is_submitted() else 200
    return render_template("partners/merge.html", form=form, organisation=survivor), status


@bp.get("/dubbletter")
@permission_required(Permission.ORGANISATION_EDIT)
def duplicates():
    return render_template("partners/duplicates.html", suggestions=duplicate_suggestions())
