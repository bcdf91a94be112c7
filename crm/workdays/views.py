"""/admin/closure-days: the days the office is closed, and the holidays already skipped."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date as babel_format_date
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.permissions import Permission, permission_required
from crm.choices import Priority
from crm.core.idempotency import once, remember_result
from crm.errors import DomainError
from crm.extensions import db
from crm.i18n import language
from crm.workdays import services
from crm.workdays.forms import ClosureDayForm
from crm.workdays.models import ClosureDay

bp = Blueprint("workdays", __name__, url_prefix="/admin/closure-days")


@bp.get("")
@permission_required(Permission.SETTINGS_MANAGE)
def closure_days():
    return _page(ClosureDayForm())


@bp.post("")
@permission_required(Permission.SETTINGS_MANAGE)
@once()
def add_closure_day():
    form = ClosureDayForm()
    if form.validate_on_submit():
        try:
            closure = services.add_closure_day(form.day.data, form.reason.data, current_user)
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(exc.message)
        else:
            remember_result(url_for("workdays.closure_days"))
            db.session.commit()
            day = format_date(closure.day, "full")
            flash(_("Stängningsdag tillagd: %(day)s.", day=day), "success")
            return redirect(url_for("workdays.closure_days"))
    return _page(form), 422


@bp.post("/<int:closure_day_id>/delete")
@permission_required(Permission.SETTINGS_MANAGE)
@once()
def delete_closure_day(closure_day_id: int):
    closure = db.session.get(ClosureDay, closure_day_id)
    if closure is None:
        abort(404)
    day = format_date(closure.day, "full")
    try:
        services.delete_closure_day(closure, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _page(ClosureDayForm()), 422
    remember_result(url_for("workdays.closure_days"))
    db.session.commit()
    flash(_("Stängningsdag borttagen: %(day)s.", day=day), "success")
    return redirect(url_for("workdays.closure_days"))


def _day_label(day: date, lang: str) -> str:
    """Weekday, day and month ("torsdag 24 december"); the table's caption has the year."""
    return babel_format_date(day, "EEEE d MMMM", locale=lang)


def _page(form: ClosureDayForm) -> str:
    upcoming, past = services.list_closure_days()
    year, lang, config = services.local_today().year, language(), current_app.config
    # Only those on weekdays: a holiday on a weekend changes nothing, the weekend never counts.
    holiday_years = [
        (y, [(_day_label(day, lang), name) for day, name in services.holidays_in(y, lang)
             if day.weekday() < services.SATURDAY])
        for y in (year, year + 1)
    ]  # fmt: skip
    targets = [
        (priority, services.target_working_days(priority, config))
        for priority in (Priority.HIGH, Priority.NORMAL, Priority.LOW)
    ]
    return render_template(
        "workdays/closure_days.html", form=form, upcoming=upcoming, past=past,
        holiday_years=holiday_years, targets=targets, workday_end=config["WORKDAY_ENDS_AT"],
    )  # fmt: skip
