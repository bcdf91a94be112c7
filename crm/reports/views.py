from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import format_date
from flask_login import current_user

from crm.auth.permissions import Permission, permission_required
from crm.auth.queries import assignable_users
from crm.choices import Category, OrganisationType
from crm.inquiries.conflicts import may_act_on
from crm.inquiries.queries import load_conflicts
from crm.inquiries.statuses import allowed_next
from crm.regions import region_name
from crm.reports.charts import horizontal_bars
from crm.reports.queries import Period, PipelineFilters, dashboard, pipeline
from crm.timeutil import utcnow

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
    month_name = lambda m: format_date(period.start.replace(month=m).date(), "LLLL")  # noqa: E731
    charts = {
        "months": horizontal_bars([(month_name(m), n) for m, n in figures["per_month"]]),
        "categories": horizontal_bars([(Category(c).label, n) for c, n in figures["by_category"]]),
        "regions": horizontal_bars([(region_name(code), n) for code, n in figures["by_region"]]),
        "types": horizontal_bars([(OrganisationType(t).label, n) for t, n in figures["by_type"]]),
        "ageing": horizontal_bars(figures["ageing"]),
    }
    return render_template(
        "reports/dashboard.html", period=period, figures=figures, charts=charts,
        years=range(utcnow().year, utcnow().year - 6, -1),
    )  # fmt: skip


@bp.get("/export/inquiries.csv")
@permission_required(Permission.EXPORT_PERSONAL_DATA)
def export_inquiries():
    from flask import Response, stream_with_context

    from crm.audit.services import audit
    from crm.extensions import db
    from crm.inquiries.queries import InquiryFilters
    from crm.reports.export import csv_rows

    filters = InquiryFilters.from_args(request.args)
    delimiter = ";" if request.args.get("delimiter") == "semicolon" else ","
    audit(
        "personal_data_exported",
        current_user,
        None,
        what="inquiries.csv",
        filters=filters.audited_args(),
    )
    db.session.commit()
    filename = f"samverka-forfragningar-{utcnow():%Y%m%d}.csv"
    return Response(
        stream_with_context(csv_rows(filters, current_user, delimiter)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
