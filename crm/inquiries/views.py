from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from crm.activity.models import Note
from crm.audit.services import audit
from crm.auth.permissions import Permission, permission_required
from crm.choices import Channel, Priority, Recurrence
from crm.core.idempotency import once, remember_result
from crm.core.urls import safe_next
from crm.errors import DomainError, StaleObject
from crm.extensions import db
from crm.inquiries import services
from crm.inquiries.forms import (
    AssignForm,
    ConflictForm,
    FollowUpForm,
    LogInquiryForm,
    NoteForm,
    OrganisationLinkForm,
    PriorityForm,
    ReplyForm,
    StatusForm,
)
from crm.inquiries.queries import (
    InquiryFilters,
    chosen_user,
    follow_ups_of,
    get_inquiry_or_404,
    inbox_for,
    list_inquiries,
    notes_of,
    staff_candidates,
    timeline_of,
)
from crm.inquiries.statuses import Status, allowed_next
from crm.public.views import intake_data
from crm.regions import region_name, regions

bp = Blueprint("inquiries", __name__)
PATH_SEGMENT_SAFE = "!$&'()*+,/:;=@"  # what Werkzeug's converters leave unquoted


@bp.app_template_global()
def inquiry_url(reference: str) -> str:
    """`url_for("inquiries.detail", reference=…)` for list rows, which need dozens per page.

    Building the prefix once per request and appending the quoted reference is several
    times cheaper than a full URL build for each row.
    """
    prefix = g.get("inquiry_url_prefix")
    if prefix is None:
        prefix = g.inquiry_url_prefix = url_for("inquiries.detail", reference="x")[:-1]
    return prefix + quote(reference, safe=PATH_SEGMENT_SAFE)


@bp.get("/inbox")
@permission_required(Permission.INQUIRY_VIEW)
def inbox():
    return render_template("inquiries/inbox.html", groups=inbox_for(current_user))


@bp.get("/inquiries")
@permission_required(Permission.INQUIRY_VIEW)
def index():
    filters = InquiryFilters.from_args(request.args)
    page = list_inquiries(
        filters, current_user, after=request.args.get("after"), before=request.args.get("before")
    )
    return render_template(
        "inquiries/list.html",
        filters=filters,
        page=page,
        statuses=list(Status),
        staff=staff_candidates(),
        regions=regions(),
    )


@bp.route("/inquiries/new", methods=["GET", "POST"])
@permission_required(Permission.INQUIRY_EDIT)
@once()
def new():
    form = LogInquiryForm()
    if form.validate_on_submit():
        inquiry, _token = services.log_inquiry(
            intake_data(form), Channel(form.channel.data), current_user, form.send_receipt.data
        )
        reference = inquiry.reference
        remember_result(url_for("inquiries.detail", reference=reference))
        db.session.commit()
        flash(_("Förfrågan %(ref)s är registrerad.", ref=reference), "success")
        return redirect(url_for("inquiries.detail", reference=reference))
    status = 422 if form.is_submitted() else 200
    return render_template("inquiries/new.html", form=form), status


@bp.get("/inquiries/<reference>")
@permission_required(Permission.INQUIRY_VIEW)
def detail(reference: str):
    inquiry = get_inquiry_or_404(reference)
    # Opening the page shows the submitter's contact details: that is an access to log (ASVS 8.3.5).
    audit("inquiry_viewed", current_user, inquiry)
    db.session.commit()
    return render_detail(inquiry)


def render_detail(inquiry, forms: dict | None = None, status_code: int = 200):
    """The detail page; `forms` carries a form with errors back to where it was filled in."""
    candidates = staff_candidates()
    version = {"version": inquiry.version}
    # formdata=None: on a POST, Flask-WTF would otherwise fill every form from the posted one.
    defaults = {
        "status": StatusForm(formdata=None, data=version, allowed=allowed_next(inquiry.status)),
        "priority": PriorityForm(
            formdata=None, data={**version, "priority": inquiry.priority.value}
        ),
        "assign": AssignForm(
            formdata=None,
            data={**version, "assignee": str(inquiry.assignee_id or "")},
            candidates=candidates,
        ),
        "conflict": ConflictForm(formdata=None, data=version),
        "note": NoteForm(formdata=None),
        "reply": ReplyForm(formdata=None),
        "follow_up": FollowUpForm(
            formdata=None, data={"owner": str(current_user.id)}, candidates=candidates
        ),
        "organisation": OrganisationLinkForm(formdata=None, data=version),
    }
    defaults.update(forms or {})
    return (
        render_template(
            "inquiries/detail.html",
            inquiry=inquiry,
            regions=[region_name(code) for code in inquiry.regions],
            events=timeline_of(inquiry),
            notes=notes_of(inquiry),
            follow_ups=follow_ups_of(inquiry),
            forms=defaults,
            can_edit=current_user.can(Permission.INQUIRY_EDIT),
            note_editable=lambda note: (
                note.author_id == current_user.id and services.note_still_editable(note)
            ),
        ),
        status_code,
    )


def _act(reference: str, form_name: str, form, action, success: str, versioned: bool = True):
    """Validate, check the version the user saw, run the service, commit once, report.

    Whatever goes wrong, the person gets their form back as they filled it in.
    """
    inquiry = get_inquiry_or_404(reference)
    if not form.validate_on_submit():
        return render_detail(inquiry, {form_name: form}, 422)
    target = safe_next(request.form.get("next")) or url_for("inquiries.detail", reference=reference)
    try:
        if versioned:
            services.check_version(inquiry, form.version.data)
        action(inquiry)
        remember_result(target)
        db.session.commit()
    except (StaleObject, StaleDataError):
        db.session.rollback()
        return _conflict(reference, form_name, form)
    except DomainError as exc:
        db.session.rollback()
        inquiry = get_inquiry_or_404(reference)
        target_field = getattr(form, exc.field, None) if exc.field else None
        if target_field is not None:
            target_field.errors = [*target_field.errors, exc.message]
            return render_detail(inquiry, {form_name: form}, 422)
        flash(str(exc), "error")
        return redirect(url_for("inquiries.detail", reference=reference))
    flash(success, "success")
    return redirect(target)


def _conflict(reference: str, form_name: str, form):
    """Someone else saved first: show what they did, and this person's form as they left it."""
    inquiry = get_inquiry_or_404(reference)
    if "version" in form:
        # Sending it again now is a decision made with the new state in view.
        form.version.data = inquiry.version
        form.version.raw_data = [str(inquiry.version)]
    flash(services.stale_message(), "error")
    return render_detail(inquiry, {form_name: form}, 409)


@bp.post("/inquiries/<reference>/status")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def change_status(reference: str):
    inquiry = get_inquiry_or_404(reference)
    form = StatusForm(allowed=allowed_next(inquiry.status))
    return _act(
        reference, "status", form,
        lambda inq: services.change_status(inq, Status(form.status.data), current_user),
        _("Status ändrad."),
    )  # fmt: skip


@bp.post("/inquiries/<reference>/priority")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def set_priority(reference: str):
    form = PriorityForm()
    return _act(
        reference, "priority", form,
        lambda inq: services.set_priority(inq, Priority(form.priority.data), current_user),
        _("Prioriteten är ändrad."),
    )  # fmt: skip


@bp.post("/inquiries/<reference>/assign")
@permission_required(Permission.INQUIRY_ASSIGN)
@once()
def assign(reference: str):
    form = AssignForm(candidates=staff_candidates())
    return _act(
        reference, "assign", form,
        lambda inq: services.assign(inq, chosen_user(form.assignee.data), current_user),
        _("Ansvarig är ändrad. Den nya ansvariga får ett e-postmeddelande."),
    )  # fmt: skip


@bp.post("/inquiries/<reference>/conflict")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def declare_conflict(reference: str):
    form = ConflictForm()
    return _act(
        reference, "conflict", form,
        lambda inq: services.declare_conflict(inq, current_user, form.reason.data),
        _("Jäv anmält. Förfrågan är överlämnad till generalsekreteraren."),
    )  # fmt: skip


@bp.post("/inquiries/<reference>/notes")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def add_note(reference: str):
    form = NoteForm()
    return _act(
        reference, "note", form,
        lambda inq: services.add_note(inq, form.body.data, current_user),
        _("Anteckningen är sparad."), versioned=False,
    )  # fmt: skip


@bp.post("/inquiries/<reference>/notes/<int:note_id>")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def edit_note(reference: str, note_id: int):
    form = NoteForm()
    inquiry = get_inquiry_or_404(reference)
    note = db.session.get(Note, note_id)
    if note is None or note.inquiry_id != inquiry.id:
        abort(404)
    return _act(
        reference, "note", form,
        lambda inq: services.edit_note(note, form.body.data, current_user),
        _("Anteckningen är ändrad."), versioned=False,
    )  # fmt: skip


@bp.post("/inquiries/<reference>/reply")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def reply(reference: str):
    form = ReplyForm()
    return _act(
        reference, "reply", form,
        lambda inq: services.publish_reply(inq, form.body.data, current_user),
        _("Svaret är publicerat och skickat till avsändaren."), versioned=False,
    )  # fmt: skip


@bp.post("/inquiries/<reference>/follow-ups")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def add_follow_up(reference: str):
    form = FollowUpForm(candidates=staff_candidates())
    return _act(
        reference, "follow_up", form,
        lambda inq: services.add_follow_up(
            form.title.data, form.due_on.data, chosen_user(form.owner.data),
            current_user, inquiry=inq, recurrence=Recurrence(form.recurrence.data),
        ),
        _("Uppföljningen är sparad."), versioned=False,
    )  # fmt: skip


@bp.post("/inquiries/<reference>/organisation")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def link_organisation(reference: str):
    form = OrganisationLinkForm()

    def act(inquiry):
        from crm.routing.admin import resolve_organisation

        if form.action.data == "unlink":
            services.link_organisation(inquiry, None, current_user)
        elif form.action.data == "create":
            services.create_organisation_from(inquiry, current_user)
        else:
            if not form.organisation_name.data:
                raise DomainError(_("Skriv organisationens namn."), field="organisation_name")
            services.link_organisation(
                inquiry, resolve_organisation(form.organisation_name.data), current_user
            )

    return _act(reference, "organisation", form, act, _("Organisationen är ändrad."))
