from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import format_date
from flask_login import current_user

from crm.auth.permissions import Permission, permission_required
from crm.auth.queries import assignable_users
from crm.choices import Category, OrganisationType
from crm.inquiries.conflicts import may_act_on
from crm.inquiries.queries import load_conflicts
from crm.inquiries.statuses import FINAL_STATUSES, allowed_next
from crm.regions import region_name, regions
from crm.reports.charts import horizontal_bars
from crm.reports.queries import Period, PipelineFilters, dashboard, pipeline, yearly_report
from crm.reports.yearly import PARTS, report_tables, yearly_workbook
from crm.timeutil import local_today, utcnow
from crm.validation import plausible_year

bp = Blueprint("reports", __name__)


@bp.get("/pipeline")
@permission_required(Permission.REPORT_VIEW)
def pipeline_board():
    filters = PipelineFilters.from_args(request.args)
    columns = pipeline(filters)
    load_conflicts(card for column in columns for card in column["cards"])
    return render_template(
        "reports/pipeline.html",
        columns=columns,
        filters=filters,
        staff=assignable_users(),
        allowed_next=allowed_next,
        final_statuses=FINAL_STATUSES,
        may_act=lambda inquiry: may_act_on(current_user, inquiry),
        now=utcnow(),
    )


@bp.get("/dashboard")
@permission_required(Permission.REPORT_VIEW)
def dashboard_page():
    from flask import current_app

    from crm.reports.cache import cached

    period = Period.from_args(request.args)
    figures = cached(
        ("dashboard", period.year, period.quarter),
        current_app.config["DASHBOARD_CACHE_SECONDS"],
        lambda: dashboard(period),
    )
    month_name = lambda m: format_date(period.first_day.replace(month=m), "LLLL")  # noqa: E731
    # Every bar leads to the list filtered to exactly the inquiries it counts.
    scope = {"year": period.year, "quarter": period.quarter}
    listed = lambda **args: url_for("inquiries.index", **scope, **args)  # noqa: E731
    known_regions = regions()
    charts = {
        "months": horizontal_bars(
            [(month_name(m), n, url_for("inquiries.index", year=period.year, month=m))
             for m, n in figures["per_month"]]
        ),
        "categories": horizontal_bars(
            [(Category(c).label, n, listed(category=c)) for c, n in figures["by_category"] if c]
        ),
        "regions": horizontal_bars(
            [(region_name(code), n, listed(region=code) if code in known_regions else None)
             for code, n in figures["by_region"]]
        ),
        "types": horizontal_bars(
            [(OrganisationType(t).label, n, listed(organisation_type=t))
             for t, n in figures["by_type"] if t]
        ),
        "ageing": horizontal_bars(
            [(label, n, url_for("inquiries.index", age=index))
             for index, (label, n) in enumerate(figures["ageing"])]
        ),
    }  # fmt: skip
    return render_template(
        "reports/dashboard.html", period=period, figures=figures, charts=charts, scope=scope,
        years=range(utcnow().year, utcnow().year - 6, -1),
    )  # fmt: skip


EXCEL_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/dashboard/arsrapport")
@permission_required(Permission.REPORT_VIEW)
def yearly_report_page():
    year, notice = _report_year()
    return render_template(
        "reports/yearly.html", year=year, notice=notice, tables=_yearly_tables(year),
        parts=PARTS, years=range(local_today().year, local_today().year - 8, -1),
    )  # fmt: skip


@bp.get("/dashboard/arsrapport.xlsx")
@permission_required(Permission.REPORT_VIEW)
def yearly_report_xlsx():
    from flask import send_file

    year, _notice = _report_year()
    return send_file(
        yearly_workbook(_yearly_tables(year)),
        mimetype=EXCEL_TYPE,
        as_attachment=True,
        download_name=f"samverka-arsrapport-{year}.xlsx",
    )


def _report_year() -> tuple[int, str | None]:
    """The year asked for, or this year with a message when the value is no plausible year."""
    from flask_babel import gettext as _

    asked = (request.args.get("year") or "").strip()
    year = plausible_year(asked)
    if year is not None:
        return year, None
    default = local_today().year
    if not asked:
        return default, None
    return default, _("”%(value)s” är inget år vi kan visa. Här är %(year)s i stället.",
                      value=asked[:12], year=default)  # fmt: skip


def _yearly_tables(year: int):
    from flask import current_app

    from crm.choices import Priority
    from crm.reports.cache import cached
    from crm.workdays.services import target_working_days

    figures = cached(
        ("yearly", year), current_app.config["DASHBOARD_CACHE_SECONDS"],
        lambda: yearly_report(year),
    )  # fmt: skip
    return report_tables(
        figures, {priority: target_working_days(priority) for priority in Priority}
    )


@bp.route("/export/inquiries.csv", methods=["GET", "POST"])
@permission_required(Permission.EXPORT_PERSONAL_DATA)
def export_inquiries():
    from flask import Response, stream_with_context

    from crm.extensions import db
    from crm.reports.export import csv_rows

    conditions = _export_scope("csv")
    if not isinstance(conditions, list):
        return conditions
    db.session.commit()
    filename = f"samverka-forfragningar-{utcnow():%Y%m%d}.csv"
    return Response(
        stream_with_context(csv_rows(conditions, _delimiter())),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/export/inquiries.xlsx", methods=["GET", "POST"])
@permission_required(Permission.EXPORT_PERSONAL_DATA)
def export_inquiries_xlsx():
    from flask import send_file

    from crm.extensions import db
    from crm.reports.export import xlsx_file

    conditions = _export_scope("xlsx")
    if not isinstance(conditions, list):
        return conditions
    db.session.commit()
    return send_file(
        xlsx_file(conditions),
        mimetype=EXCEL_TYPE,
        as_attachment=True,
        download_name=f"samverka-forfragningar-{utcnow():%Y%m%d}.xlsx",
    )


def _export_scope(format_: str):
    """What to export, audited: the ticked rows of a POST, else the list's filters. A redirect
    back to the list when the selection is empty or too large."""
    from flask import flash, redirect, url_for
    from flask_babel import gettext as _

    from crm.audit.services import audit
    from crm.core.urls import safe_next
    from crm.inquiries.queries import InquiryFilters, filter_conditions
    from crm.reports.export import MAX_SELECTED, selected_ids, selection_conditions

    what = f"inquiries.{format_}"
    if request.method == "POST":
        ids = selected_ids(request.form.getlist("selected"))
        if not ids or len(ids) > MAX_SELECTED:
            if ids:
                flash(_("Välj högst %(n)s förfrågningar att exportera, eller exportera med filter.",
                        n=MAX_SELECTED), "error")  # fmt: skip
            else:
                flash(_("Välj de förfrågningar som ska exporteras."), "error")
            back = safe_next(request.form.get("next")) or url_for("inquiries.index")
            return redirect(back, 303)
        conditions = selection_conditions(ids)
        # the ids (no personal data themselves) tell later whose data left, as filters do
        audit("personal_data_exported", current_user, None, what=what, format=format_,
              selected=len(ids), inquiries=ids)  # fmt: skip
        return conditions
    filters = InquiryFilters.from_args(request.args)
    audit("personal_data_exported", current_user, None, what=what, format=format_,
          filters=filters.audited_args())  # fmt: skip
    return filter_conditions(filters, current_user)


def _delimiter() -> str:
    """Semicolon in Swedish (Excel with Swedish settings splits on it), comma in English;
    `delimiter=semicolon|comma` chooses."""
    from crm.i18n import language

    chosen = request.values.get("delimiter")
    if chosen in {"semicolon", "comma"}:
        return ";" if chosen == "semicolon" else ","
    return ";" if language() == "sv" else ","
