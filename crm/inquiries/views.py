from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from crm.activity import services as activity
from crm.activity.forms import FollowUpForm, NoteForm
from crm.activity.queries import TIMELINE_SHOWN, follow_ups_of, get_note_or_404, timeline_of
from crm.attachments.hooks import uploaded_files
from crm.attachments.services import upload_limit
from crm.auth.permissions import Permission, permission_required
from crm.auth.queries import assignable_users, user_by_id
from crm.choices import Channel, Priority, Recurrence
from crm.conversation import services as conversation
from crm.conversation.forms import EmlUploadForm
from crm.conversation.queries import (
    THREAD_SHOWN,
    count_unsorted,
    inquiry_fields_from_mail,
    thread_of,
    unsorted_mail_named,
)
from crm.core.forms import show_domain_error
from crm.core.idempotency import once, remember_result
from crm.core.uploads import accepts_upload
from crm.core.urls import safe_next
from crm.errors import DomainError, NotPermitted, StaleObject
from crm.extensions import db
from crm.inquiries import services
from crm.inquiries.conflicts import may_act_on
from crm.inquiries.forms import (
    AcknowledgeForm,
    AssignForm,
    ConflictForm,
    ContactForm,
    CounterpartReferenceForm,
    LogInquiryForm,
    OrganisationLinkForm,
    PriorityForm,
    ReplyForm,
    StatusForm,
    UseTemplateForm,
)
from crm.inquiries.intake import status_link
from crm.inquiries.queries import (
    InquiryFilters,
    assignment_candidates,
    get_inquiry_or_404,
    inbox_for,
    list_inquiries,
)
from crm.inquiries.statuses import FINAL_STATUSES, Status, allowed_next
from crm.regions import region_name, regions
from crm.reply_templates.queries import templates_for, visible_template
from crm.reply_templates.services import LANGUAGES, render_for, reply_language
from crm.tags.forms import TagForm
from crm.tags.queries import tag_names, tags_of_inquiry
from crm.validation import database_id

bp = Blueprint("inquiries", __name__)


@bp.get("/inbox")
@permission_required(Permission.INQUIRY_VIEW)
def inbox():
    # Only people who sort mail hear about the queue, and only they pay for counting it.
    sorts_mail = current_user.can(Permission.INQUIRY_EDIT)
    return render_template(
        "inquiries/inbox.html",
        groups=inbox_for(current_user),
        unsorted_count=count_unsorted() if sorts_mail else 0,
    )


@bp.get("/inquiries")
@permission_required(Permission.INQUIRY_VIEW)
def index():
    return render_list(request.args)


def list_args(next_url: str | None) -> MultiDict:
    """The list's query arguments from the address a list form was sent from (`next`); only
    the list's own address counts."""
    target = safe_next(next_url)
    if target is None:
        return MultiDict()
    parts = urlsplit(target)
    if parts.path != url_for("inquiries.index"):
        return MultiDict()
    return MultiDict(parse_qsl(parts.query))


def _cursor(args) -> dict:
    return {key: args.get(key) for key in ("after", "before") if args.get(key)}


def list_url(args) -> str:
    """The list's address for these arguments, rebuilt from the parsed filters and the page
    cursor only: anything else in them (even `endpoint` or `_external`) is dropped."""
    return url_for("inquiries.index", **InquiryFilters.from_args(args).as_args(), **_cursor(args))


def render_list(args, forms: dict | None = None, status_code: int = 200):
    """The inquiry list for these query arguments; `forms` carries a bulk or save-view form
    with errors back to the list it was sent from."""
    from crm.inquiries.forms import BulkForm
    from crm.saved_views.forms import SavedViewForm
    from crm.saved_views.queries import filters_of, views_for
    from crm.saved_views.services import may_delete
    from crm.tags.queries import tag_names, tags_by_inquiry

    filters = InquiryFilters.from_args(args)
    cursor = _cursor(args)
    page = list_inquiries(filters, current_user, **cursor)
    staff = assignable_users()
    here = list_url(args)
    defaults = {
        "bulk": BulkForm(formdata=None, data={"next": here}, candidates=staff),
        "view": SavedViewForm(formdata=None, data={"next": here}),
    }
    defaults.update(forms or {})
    current = filters.as_args()
    saved = []
    for view in views_for(current_user):
        view_args = filters_of(view).as_args()
        saved.append((view, url_for("inquiries.index", **view_args), view_args == current))
    page_html = render_template(
        "inquiries/list.html", filters=filters, page=page, statuses=list(Status), staff=staff,
        regions=regions(), tags=tags_by_inquiry([inquiry.id for inquiry in page.items]),
        tag_names=tag_names, forms=defaults, saved_views=saved, here=here,
        view_deletable=lambda view: may_delete(view, current_user),
    )  # fmt: skip
    return page_html, status_code


@bp.route("/inquiries/new", methods=["GET", "POST"])
@accepts_upload(upload_limit, files="files")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def new():
    mail = unsorted_mail_named(request.values.get("mail") or request.form.get("from_mail"))
    if mail is not None and request.method == "GET":
        form = LogInquiryForm(data={**inquiry_fields_from_mail(mail), "from_mail": str(mail.id)})
    else:
        form = LogInquiryForm()
    if form.validate_on_submit():
        try:
            inquiry, _token = services.log_inquiry(
                form.intake_data(), Channel(form.channel.data), current_user,
                form.send_receipt.data, files=uploaded_files(),
            )  # fmt: skip
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            upload = EmlUploadForm(formdata=None)
            return render_template("inquiries/new.html", form=form, mail=mail, upload=upload), 422
        if mail is not None:
            conversation.file_as_new_inquiry(mail, inquiry, current_user)
        reference = inquiry.reference
        remember_result(url_for("inquiries.detail", reference=reference))
        db.session.commit()
        flash(_("Förfrågan %(ref)s är registrerad.", ref=reference), "success")
        return redirect(url_for("inquiries.detail", reference=reference))
    status = 422 if form.is_submitted() else 200
    upload = EmlUploadForm(formdata=None)
    return render_template("inquiries/new.html", form=form, mail=mail, upload=upload), status


@bp.get("/inquiries/<reference>")
@permission_required(Permission.INQUIRY_VIEW)
def detail(reference: str):
    inquiry = get_inquiry_or_404(reference)
    # Opening the page shows the submitter's contact details: that is an access to log (ASVS 8.3.5).
    services.record_viewed(inquiry, current_user)
    db.session.commit()
    return render_detail(inquiry, _reply_from_template(inquiry))


def _reply_from_template(inquiry) -> dict:
    """ "Använd mallen" without JavaScript: `?mall=<id>&sprak=<sv|en>` fills the reply with
    the template (placeholders filled in), in the submitter's language unless one is chosen."""
    template_id = database_id(request.args.get("mall"))
    if template_id is None or not may_act_on(current_user, inquiry):
        return {}
    if not current_user.can(Permission.INQUIRY_EDIT):
        return {}
    template = visible_template(template_id, current_user)
    if template is None:
        flash(_("Mallen finns inte längre. Välj en annan."), "error")
        return {}
    text = render_for(template, inquiry, current_user, request.args.get("sprak"))
    return {"reply": ReplyForm(formdata=None, data={"body": text})}


def _template_picker(inquiry, can_edit: bool) -> dict:
    """The reply's template choice, read only for those who see the reply form."""
    if not can_edit or inquiry.anonymised_at is not None:
        return {"template_picker": None}
    language = request.args.get("sprak")
    language = language if language in LANGUAGES else reply_language(inquiry)
    chosen = {"mall": request.args.get("mall"), "sprak": language}
    picker = UseTemplateForm(formdata=None, data=chosen, templates=templates_for(current_user))
    return {"template_picker": picker if picker.mall.choices else None}


def render_detail(inquiry, forms: dict | None = None, status_code: int = 200):
    """The detail page; `forms` carries a form with errors back to where it was filled in."""
    candidates = assignment_candidates(inquiry)
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
        "acknowledge": AcknowledgeForm(formdata=None),
        "contact": ContactForm(formdata=None),
        "follow_up": FollowUpForm(
            formdata=None, data={"owner": str(current_user.id)}, candidates=candidates
        ),
        "organisation": OrganisationLinkForm(formdata=None, data=version),
        "tag": TagForm(formdata=None),
        "counterpart": CounterpartReferenceForm(
            formdata=None,
            data={**version, "counterpart_reference": inquiry.counterpart_reference or ""},
        ),
    }
    defaults.update(forms or {})
    can_edit = may_act_on(current_user, inquiry)
    whole = request.args.get("hela") == "1"  # the whole thread and timeline, however long
    thread = thread_of(inquiry, shown=None if whole else THREAD_SHOWN)
    events, older_events = timeline_of(inquiry, shown=None if whole else TIMELINE_SHOWN)
    return (
        render_template(
            "inquiries/detail.html",
            inquiry=inquiry,
            regions=[region_name(code) for code in inquiry.regions],
            events=events,
            older_events=older_events,
            thread=thread,
            follow_ups=follow_ups_of(inquiry),
            forms=defaults,
            can_edit=can_edit,
            my_conflict=inquiry.declared_conflict(current_user),
            note_editable=lambda note: can_edit and activity.may_edit_note(current_user, note),
            file_url=lambda file: url_for(
                "attachments.inquiry_file", reference=inquiry.reference, attachment_id=file.id
            ),
            note_edit_url=lambda note: url_for(
                "inquiries.edit_note", reference=inquiry.reference, note_id=note.id
            ),
            follow_up_manageable=lambda f: activity.may_manage_follow_up(current_user, f),
            tags=tags_of_inquiry(inquiry),
            tag_names=tag_names,
            **_submitter_contact(inquiry, can_edit),
            **_template_picker(inquiry, can_edit),
        ),
        status_code,
    )


def _submitter_contact(inquiry, can_edit: bool) -> dict:
    """Whether the submitter is a contact of the linked organisation, and whether this
    reader may save them as one ("Spara avsändaren som kontakt")."""
    from crm.partners.queries import contact_with_address

    if inquiry.organisation_id is None or inquiry.anonymised_at is not None:
        return {"submitter_contact": None, "may_save_contact": False}
    contact = contact_with_address(inquiry.organisation_id, inquiry.email)
    may_save = contact is None and can_edit and current_user.can(Permission.ORGANISATION_EDIT)
    return {"submitter_contact": contact, "may_save_contact": may_save}


def _act(reference: str, form_name: str, form, action, success, versioned: bool = True):
    """Validate, check the version the user saw, run the service, commit once, report.

    `success` is the message, or a function of what the service returned that gives it.
    Whatever goes wrong, the person gets their form back as they filled it in; a refusal
    (NotPermitted: jäv, someone else's note) is answered 403 with its reason.
    """
    inquiry = get_inquiry_or_404(reference)
    if not form.validate_on_submit():
        return render_detail(inquiry, {form_name: form}, 422)
    target = safe_next(request.form.get("next")) or url_for("inquiries.detail", reference=reference)
    try:
        if versioned:
            services.check_version(inquiry, form.version.data)
        result = action(inquiry)
        remember_result(target)
        db.session.commit()
    except (StaleObject, StaleDataError):
        db.session.rollback()
        return _conflict(reference, form_name, form)
    except NotPermitted:
        raise
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return render_detail(get_inquiry_or_404(reference), {form_name: form}, 422)
    flash(success(result) if callable(success) else success, "success")
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


@bp.route("/inquiries/<reference>/status", methods=["GET", "POST"])
@permission_required(Permission.INQUIRY_EDIT)
@once()
def change_status(reference: str):
    inquiry = get_inquiry_or_404(reference)
    if request.method == "GET":
        return _confirm_final_status(inquiry)
    form = StatusForm(allowed=allowed_next(inquiry.status))
    return _act(
        reference, "status", form,
        lambda inq: services.change_status(inq, Status(form.status.data), current_user),
        _("Status ändrad."),
    )  # fmt: skip


def _confirm_final_status(inquiry):
    """The pipeline's "are you sure?" before a card leaves the board for good (agreed,
    declined, withdrawn, closed): a small page that says so and can go back."""
    back = safe_next(request.args.get("next")) or url_for(
        "inquiries.detail", reference=inquiry.reference
    )
    wanted = request.args.get("status", "")
    allowed = {status.value: status for status in allowed_next(inquiry.status)}
    if wanted not in allowed or allowed[wanted] is Status.SPAM:
        return redirect(back)
    status = allowed[wanted]
    consequences = [
        _("%(ref)s, %(subject)s, flyttas från %(old)s till %(new)s.", ref=inquiry.reference,
          subject=inquiry.subject, old=inquiry.status.label, new=status.label),
    ]  # fmt: skip
    if status in FINAL_STATUSES:
        consequences.append(
            _("Förfrågan är då avgjord, och kortet flyttas till utfallen, som visar de "
              "senaste 90 dagarna.")
        )  # fmt: skip
    return render_template(
        "core/confirm.html",
        heading=_("Flytta till %(status)s?", status=status.label),
        consequences=consequences,
        action=url_for("inquiries.change_status", reference=inquiry.reference),
        hidden={"status": status.value, "version": inquiry.version, "next": back},
        button=_("Ja, flytta till %(status)s", status=status.label),
        back=back,
        primary=True,
    )


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
    form = AssignForm(candidates=assignment_candidates(get_inquiry_or_404(reference)))
    return _act(
        reference, "assign", form,
        lambda inq: services.assign(inq, user_by_id(form.assignee.data), current_user),
        _("Ansvarig är ändrad. Den nya ansvariga får ett e-postmeddelande."),
    )  # fmt: skip


@bp.post("/inquiries/<reference>/conflict")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def declare_conflict(reference: str):
    form = ConflictForm()
    was_responsible = get_inquiry_or_404(reference).assignee_id == current_user.id
    return _act(
        reference, "conflict", form,
        lambda inq: services.declare_conflict(inq, current_user, form.reason.data),
        lambda assignee: _conflict_declared(was_responsible, assignee),
    )  # fmt: skip


def _conflict_declared(was_responsible: bool, assignee) -> str:
    if not was_responsible:
        return _("Jäv anmält. Du kan fortfarande läsa förfrågan men inte ändra den.")
    if assignee is None:
        return _(
            "Jäv anmält. Alla som kan ansvara för förfrågan har anmält jäv, så den har ingen "
            "ansvarig nu. Den syns under Ej tilldelade i inkorgen."
        )
    return _("Jäv anmält. Förfrågan är överlämnad till %(name)s.", name=assignee.name)


@bp.post("/inquiries/<reference>/notes")
@accepts_upload(upload_limit, files="files")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def add_note(reference: str):
    form = NoteForm()
    return _act(
        reference, "note", form,
        lambda inq: activity.add_note(
            form.body.data, current_user, inquiry=inq, files=uploaded_files()
        ),
        _("Anteckningen är sparad."), versioned=False,
    )  # fmt: skip


@bp.post("/inquiries/<reference>/notes/<int:note_id>")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def edit_note(reference: str, note_id: int):
    form = NoteForm()
    note = get_note_or_404(note_id, inquiry_id=get_inquiry_or_404(reference).id)
    return _act(
        reference, "note", form,
        lambda inq: activity.edit_note(note, form.body.data, current_user),
        _("Anteckningen är ändrad."), versioned=False,
    )  # fmt: skip


@bp.post("/inquiries/<reference>/reply")
@accepts_upload(upload_limit, files="files")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def reply(reference: str):
    form = ReplyForm()
    if "preview" in request.form:
        return _preview_reply(reference, form)
    if "edit" in request.form:  # back from the preview: the text in the form, nothing sent
        flash(_("Svaret är inte skickat. Ändra det nedan och skicka när det är klart."), "info")
        if _files_chosen():  # a browser cannot put them back in the files field
            form.files.errors = [_("Filerna du valde följer inte med tillbaka. Välj dem igen.")]
        return render_detail(get_inquiry_or_404(reference), {"reply": form})
    return _act(
        reference, "reply", form,
        lambda inq: conversation.send_reply(
            inq, form.body.data, current_user, files=uploaded_files()
        ),
        _("Svaret är publicerat och skickat till avsändaren."), versioned=False,
    )  # fmt: skip


def _preview_reply(reference: str, form):
    """The reply as it will be sent (recipient, subject, the e-mail's text), with "Skicka"
    and "Ändra"; nothing is stored. Files are chosen on the preview, on the final send."""
    inquiry = get_inquiry_or_404(reference)
    if not form.validate_on_submit():
        return render_detail(inquiry, {"reply": form}, 422)
    try:
        preview = conversation.preview_reply(inquiry, form.body.data, current_user)
    except NotPermitted:
        raise
    except DomainError as exc:
        show_domain_error(form, exc)
        return render_detail(inquiry, {"reply": form}, 422)
    files_left_behind = _files_chosen()
    return render_template(
        "inquiries/reply_preview.html", inquiry=inquiry, form=form,
        preview=_without_status_link(inquiry, preview), files_left_behind=files_left_behind,
    )  # fmt: skip


def _files_chosen() -> bool:
    return any(file.filename for file in request.files.getlist("files"))


def _without_status_link(inquiry, preview):
    """The preview with the submitter's private status link named, not shown: it is their
    key to the status page, where they answer as themselves, and staff never see it (only its
    hash is stored); the e-mail sent carries it."""
    link = status_link(inquiry)
    if not link:
        return preview
    named = _("[avsändarens personliga länk till statussidan]")
    return replace(preview, text=preview.text.replace(link, named))


@bp.post("/inquiries/<reference>/diarienummer")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def set_counterpart_reference(reference: str):
    form = CounterpartReferenceForm()
    return _act(
        reference, "counterpart", form,
        lambda inq: services.set_counterpart_reference(
            inq, form.counterpart_reference.data, current_user
        ),
        _("Motpartens diarienummer är sparat."),
    )  # fmt: skip


@bp.post("/inquiries/<reference>/answer-read")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def acknowledge_answer(reference: str):
    form = AcknowledgeForm()
    return _act(
        reference, "acknowledge", form,
        lambda inq: conversation.acknowledge_answer(inq, current_user),
        _("Svaret är markerat som läst."), versioned=False,
    )  # fmt: skip


@bp.post("/inquiries/<reference>/contacts")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def log_contact(reference: str):
    form = ContactForm()
    return _act(
        reference, "contact", form,
        lambda inq: services.log_contact(
            inq, Channel(form.channel.data), form.summary.data, form.moment(), current_user
        ),
        _("Kontakten är registrerad."), versioned=False,
    )  # fmt: skip


@bp.post("/inquiries/<reference>/spara-kontakt")
@permission_required(Permission.INQUIRY_EDIT, Permission.ORGANISATION_EDIT)
@once()
def save_submitter_contact(reference: str):
    from crm.partners.forms import SubmitterContactForm
    from crm.partners.services import save_submitter_as_contact

    form = SubmitterContactForm()
    return _act(
        reference, "save_contact", form,
        lambda inq: save_submitter_as_contact(inq, current_user),
        lambda contact: _("%(name)s är sparad som kontakt.", name=contact.name),
        versioned=False,
    )  # fmt: skip


@bp.post("/inquiries/<reference>/follow-ups")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def add_follow_up(reference: str):
    form = FollowUpForm(candidates=assignment_candidates(get_inquiry_or_404(reference)))
    return _act(
        reference, "follow_up", form,
        lambda inq: activity.add_follow_up(
            form.title.data, form.due_on.data, user_by_id(form.owner.data),
            current_user, inquiry=inq, recurrence=Recurrence(form.recurrence.data),
        ),
        _("Uppföljningen är sparad."), versioned=False,
    )  # fmt: skip


@bp.post("/inquiries/<reference>/organisation")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def link_organisation(reference: str):
    form = OrganisationLinkForm()
    return _act(
        reference, "organisation", form,
        lambda inq: services.change_organisation_link(
            inq, form.action.data, form.organisation_name.data, current_user
        ),
        _("Organisationen är ändrad."),
    )  # fmt: skip


# ---- bulk actions on the list -----------------------------------------------------------


@bp.post("/inquiries/bulk")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def bulk():
    """One action on every ticked inquiry, in one transaction; refusals are reported by
    reference, and the person goes back to the list as they left it."""
    from crm.inquiries import bulk as bulk_actions
    from crm.inquiries.forms import BulkForm

    form = BulkForm(candidates=assignable_users())
    args = list_args(form.next.data)
    if not form.validate_on_submit():
        return render_list(args, {"bulk": form}, 422)
    target = list_url(args)
    ids = form.selected.ids
    try:
        if form.action.data == "assign":
            if not current_user.can(Permission.INQUIRY_ASSIGN):
                raise NotPermitted(_("Du har inte behörighet att tilldela förfrågningar."))
            assignee = user_by_id(form.assignee.data)
            result = bulk_actions.bulk_assign(ids, assignee, current_user)
        elif form.action.data == "status":
            result = bulk_actions.bulk_change_status(ids, Status(form.status.data), current_user)
        else:
            result = bulk_actions.bulk_tag(ids, form.tag.data, current_user)
        remember_result(target)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(services.stale_message(), "error")
        return render_list(args, {"bulk": form}, 409)
    except NotPermitted:
        raise
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return render_list(args, {"bulk": form}, 422)
    _report_bulk(result)
    return redirect(target)


def _report_bulk(result) -> None:
    """What happened, row by row where it matters; no success message when nothing changed."""
    from flask_babel import ngettext

    if result.changed:
        flash(
            ngettext("%(num)d förfrågan är ändrad.", "%(num)d förfrågningar är ändrade.",
                     len(result.changed)),
            "success",
        )  # fmt: skip
    if result.unchanged:
        flash(
            _("%(n)d var redan så: %(refs)s.", n=len(result.unchanged),
              refs=", ".join(result.unchanged)),
            "info",
        )  # fmt: skip
    if result.refused:
        flash(
            ngettext("%(num)d förfrågan kunde inte ändras:",
                     "%(num)d förfrågningar kunde inte ändras:", len(result.refused)),
            "error",
        )  # fmt: skip
        for reference, reason in result.refused:
            flash(f"{reference}: {reason}", "error")
    if result.missing:
        flash(_("%(n)d av de markerade finns inte längre.", n=result.missing), "error")
