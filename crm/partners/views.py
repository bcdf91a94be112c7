from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from crm.activity.models import Note
from crm.activity.services import record_event
from crm.audit.services import audit
from crm.auth.permissions import Permission, permission_required
from crm.choices import Recurrence
from crm.core.idempotency import once, remember_result
from crm.errors import DomainError
from crm.extensions import db
from crm.inquiries import services as inquiry_services
from crm.inquiries.forms import FollowUpForm, NoteForm
from crm.inquiries.queries import chosen_user, staff_candidates
from crm.partners.forms import ContactForm, MergeForm, OrganisationForm
from crm.partners.models import Contact, Organisation
from crm.partners.queries import (
    OrganisationFilters,
    get_organisation_or_404,
    list_organisations,
    record_of,
)
from crm.partners.services import merge_organisations, normalise_name, save_organisation
from crm.regions import region_name, regions

bp = Blueprint("partners", __name__, url_prefix="/organisations")


@bp.get("")
@permission_required(Permission.ORGANISATION_VIEW)
def index():
    filters = OrganisationFilters.from_args(request.args)
    rows, next_cursor = list_organisations(filters, request.args.get("after"))
    return render_template(
        "partners/list.html", rows=rows, filters=filters, next_cursor=next_cursor,
        regions=regions(), region_name=region_name,
    )  # fmt: skip


@bp.get("/<int:organisation_id>")
@permission_required(Permission.ORGANISATION_VIEW)
def detail(organisation_id: int):
    return render_record(get_organisation_or_404(organisation_id))


def render_record(organisation, forms: dict | None = None, status: int = 200):
    candidates = staff_candidates()
    defaults = {
        "contact": ContactForm(formdata=None),
        "note": NoteForm(formdata=None),
        "follow_up": FollowUpForm(
            formdata=None, data={"owner": str(current_user.id)}, candidates=candidates
        ),
    }
    defaults.update(forms or {})
    return (
        render_template(
            "partners/detail.html", organisation=organisation, forms=defaults,
            region_name=region_name, can_edit=current_user.can(Permission.ORGANISATION_EDIT),
            **record_of(organisation),
        ),
        status,
    )  # fmt: skip


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
            saved = save_organisation(organisation, form.data, current_user)
            target = url_for("partners.detail", organisation_id=saved.id)
            remember_result(target)
            name = saved.name
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(exc.message)
        else:
            flash(_("%(name)s är sparad.", name=name), "success")
            return redirect(target)
    status = 422 if form.is_submitted() else 200
    return render_template("partners/form.html", form=form, organisation=organisation), status


@bp.post("/<int:organisation_id>/contacts")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def add_contact(organisation_id: int):
    organisation = get_organisation_or_404(organisation_id)
    form = ContactForm()
    if not form.validate_on_submit():
        return render_record(organisation, {"contact": form}, 422)
    contact = Contact(organisation_id=organisation.id)
    _fill_contact(contact, form)
    db.session.add(contact)
    db.session.flush()
    record_event("contact_added", current_user, organisation=organisation, name=contact.name)
    audit("contact_added", current_user, contact)
    return _done(organisation, _("Kontakten är sparad."))


def _done(organisation, message: str):
    """Commit the change, remember where it led, and go back to the organisation."""
    target = url_for("partners.detail", organisation_id=organisation.id)
    remember_result(target)
    db.session.commit()
    flash(message, "success")
    return redirect(target)


def _fill_contact(contact: Contact, form: ContactForm) -> None:
    contact.name = form.name.data
    contact.title = form.title.data or None
    contact.email = form.email.data
    contact.phone = form.phone.data or None


def _contact_or_404(organisation, contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.organisation_id != organisation.id:
        abort(404)
    return contact


@bp.post("/<int:organisation_id>/contacts/<int:contact_id>")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def edit_contact(organisation_id: int, contact_id: int):
    organisation = get_organisation_or_404(organisation_id)
    contact = _contact_or_404(organisation, contact_id)
    form = ContactForm()
    if not form.validate_on_submit():
        return render_record(organisation, {"contact": form}, 422)
    _fill_contact(contact, form)
    audit("contact_updated", current_user, contact)
    return _done(organisation, _("Kontakten är ändrad."))


@bp.post("/<int:organisation_id>/contacts/<int:contact_id>/delete")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def delete_contact(organisation_id: int, contact_id: int):
    organisation = get_organisation_or_404(organisation_id)
    contact = _contact_or_404(organisation, contact_id)
    record_event("contact_removed", current_user, organisation=organisation, name=contact.name)
    audit("contact_removed", current_user, contact)
    db.session.delete(contact)
    return _done(organisation, _("Kontakten är borttagen."))


@bp.post("/<int:organisation_id>/notes")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def add_note(organisation_id: int):
    organisation = get_organisation_or_404(organisation_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return render_record(organisation, {"note": form}, 422)
    note = Note(organisation_id=organisation.id, author_id=current_user.id, body=form.body.data)
    db.session.add(note)
    db.session.flush()
    record_event("note_added", current_user, organisation=organisation, note_id=note.id)
    audit("note_added", current_user, note, organisation_id=organisation.id)
    return _done(organisation, _("Anteckningen är sparad."))


@bp.post("/<int:organisation_id>/follow-ups")
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def add_follow_up(organisation_id: int):
    organisation = get_organisation_or_404(organisation_id)
    form = FollowUpForm(candidates=staff_candidates())
    if form.validate_on_submit():
        try:
            inquiry_services.add_follow_up(
                form.title.data, form.due_on.data, chosen_user(form.owner.data),
                current_user, organisation=organisation,
                recurrence=Recurrence(form.recurrence.data),
            )  # fmt: skip
            return _done(organisation, _("Uppföljningen är sparad."))
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(exc.message)
    return render_record(get_organisation_or_404(organisation_id), {"follow_up": form}, 422)


@bp.route("/<int:organisation_id>/merge", methods=["GET", "POST"])
@permission_required(Permission.ORGANISATION_EDIT)
@once()
def merge(organisation_id: int):
    survivor = get_organisation_or_404(organisation_id)
    form = MergeForm()
    if form.validate_on_submit():
        duplicate = db.session.scalar(
            select(Organisation).where(Organisation.name_key == normalise_name(form.duplicate.data))
        )
        try:
            if duplicate is None:
                raise DomainError(
                    _("Det finns ingen organisation med det namnet."), field="duplicate"
                )
            name = duplicate.name
            merge_organisations(survivor, duplicate, current_user)
            remember_result(url_for("partners.detail", organisation_id=survivor.id))
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            form.duplicate.errors.append(exc.message)
        else:
            message = _(
                "%(name)s är sammanslagen med %(survivor)s.", name=name, survivor=survivor.name
            )
            flash(message, "success")
            return redirect(url_for("partners.detail", organisation_id=survivor.id))
    status = 422 if form.is_submitted() else 200
    return render_template("partners/merge.html", form=form, organisation=survivor), status
