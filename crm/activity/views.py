from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.activity import services
from crm.activity.forms import FollowUpForm, RescheduleForm
from crm.activity.queries import follow_ups_due, get_follow_up_or_404
from crm.auth.permissions import Permission, permission_required
from crm.auth.queries import assignable_users, user_by_id
from crm.choices import Recurrence
from crm.core.forms import show_domain_error
from crm.core.idempotency import once, remember_result
from crm.core.urls import safe_next
from crm.errors import DomainError, NotPermitted
from crm.extensions import db
from crm.inquiries.queries import load_conflicts

bp = Blueprint("follow_ups", __name__, url_prefix="/follow-ups")


def _back_to() -> str:
    return safe_next(request.form.get("next")) or url_for("follow_ups.index")


@bp.route("", methods=["GET", "POST"])
@permission_required(Permission.INQUIRY_VIEW)
@once()
def index():
    candidates = assignable_users()
    form = FollowUpForm(data={"owner": str(current_user.id)}, candidates=candidates)
    status = 200
    if request.method == "POST":
        if not current_user.can(Permission.INQUIRY_EDIT):
            abort(403)
        if form.validate_on_submit():
            try:
                services.add_follow_up(
                    form.title.data, form.due_on.data, user_by_id(form.owner.data),
                    current_user, recurrence=Recurrence(form.recurrence.data),
                )  # fmt: skip
                remember_result(url_for("follow_ups.index"))
                db.session.commit()
                flash(_("Uppföljningen är sparad."), "success")
                return redirect(url_for("follow_ups.index"))
            except DomainError as exc:
                db.session.rollback()
                show_domain_error(form, exc)
        status = 422
    follow_ups = follow_ups_due(current_user, limit=500)
    load_conflicts(f.inquiry for f in follow_ups)
    return (
        render_template(
            "activity/follow_ups.html",
            follow_ups=follow_ups,
            form=form,
            reschedule=RescheduleForm(formdata=None),
            can_edit=current_user.can(Permission.INQUIRY_EDIT),
            manageable=lambda f: services.may_manage_follow_up(current_user, f),
        ),
        status,
    )


@bp.post("/<int:follow_up_id>/done")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def complete(follow_up_id: int):
    # Someone else's follow-up raises NotPermitted: 403 with the reason, nothing changed.
    following = services.complete_follow_up(get_follow_up_or_404(follow_up_id), current_user)
    remember_result(_back_to())
    next_due = following.due_on.isoformat() if following is not None else None
    db.session.commit()
    if next_due is not None:
        flash(_("Klart. Nästa gång är %(date)s.", date=next_due), "success")
    else:
        flash(_("Uppföljningen är klar."), "success")
    return redirect(_back_to())


@bp.post("/<int:follow_up_id>/reschedule")
@permission_required(Permission.INQUIRY_EDIT)
@once()
def reschedule(follow_up_id: int):
    follow_up = get_follow_up_or_404(follow_up_id)
    services.require_may_manage_follow_up(follow_up, current_user)  # 403 before 422
    form = RescheduleForm()
    if not form.validate_on_submit():
        flash(_("Ange ett datum som ÅÅÅÅ-MM-DD."), "error")
        return redirect(_back_to())
    try:
        services.reschedule_follow_up(follow_up, form.due_on.data, current_user)
        remember_result(_back_to())
        db.session.commit()
        flash(_("Nytt datum: %(date)s.", date=form.due_on.data.isoformat()), "success")
    except NotPermitted:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(_back_to())
