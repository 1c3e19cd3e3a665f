"""Statistics pages: an organisation's (/o/<slug>/admin/statistics, as host or as
employer) and the region's (/region/statistics), each with its charts and spreadsheets."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, g, render_template, request, url_for
from flask_login import current_user, login_required

from frikomport.extensions import db
from frikomport.periods import as_query, period_from
from frikomport.permissions import Permission, can
from frikomport.statistics import charts, exports, services, tables
from frikomport.tenancy.blueprints import tenant_blueprint

bp = tenant_blueprint("statistics", __name__)
region_bp = Blueprint("region_statistics", __name__, url_prefix="/region/statistics")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# An SVG shown as an image runs no script; its own inline styles are all it needs.
CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
ALL = "all"
# A month per row and per bar: ten years is as long as a period can usefully get.
LONGEST = timedelta(days=10 * 366)
CHARTS = ", ".join(f"'{name}'" for name in charts.CHARTS)
TABLES = ", ".join(f"'{key}'" for key in (ALL, *tables.TABLE_KEYS))


def _organisation_scope():
    view = request.args.get("view")
    return services.organisation_scope(current_user, g.organisation, view)


def _report(scope):
    first, last = period_from(request.args, LONGEST)
    return services.build(db.session, scope, first, last, current_user)


def _views() -> list[tuple[str, bool]]:
    """The organisation's two views, and whether this reader may open each."""
    return [(services.HOST, can(current_user, Permission.VIEW_HOST_STATISTICS,
                                g.organisation)),
            (services.EMPLOYER, can(current_user, Permission.VIEW_EMPLOYER_STATISTICS,
                                    g.organisation))]


@bp.get("/admin/statistics")
@login_required
def organisation_page():
    scope = _organisation_scope()
    report = _report(scope)
    links = _links(".organisation_page", view=scope.kind)
    return _page(report, links, g.organisation, _views())


@region_bp.get("")
@login_required
def region_page():
    report = _report(services.region_scope(current_user))
    return _page(report, _links(".region_page"), None, [])


def _page(report, links: dict, organisation, views) -> str:
    return render_template("statistics/page.html", report=report, links=links,
                           organisation=organisation, views=views,
                           key_figures=tables.key_figures(report),
                           tables=tables.all_tables(report, tables.COURSES_SHOWN))


def _links(page: str, **view) -> dict:
    """The URLs of the page's period form, charts and downloads for the same period."""
    query = as_query(*period_from(request.args, LONGEST)) | view
    base = page.rsplit("_", 1)[0]
    return {"page": url_for(page, **view),
            "chart": lambda name: url_for(f"{base}_chart", chart=name, **query),
            "xlsx": lambda key: url_for(f"{base}_xlsx", table=key, **query)}


@bp.get(f"/admin/statistics/<any({CHARTS}):chart>.svg")
@login_required
def organisation_chart(chart: str):
    return _svg(charts.render(chart, _report(_organisation_scope())))


@region_bp.get(f"/<any({CHARTS}):chart>.svg")
@login_required
def region_chart(chart: str):
    return _svg(charts.render(chart, _report(services.region_scope(current_user))))


def _svg(svg: bytes) -> Response:
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = CHART_POLICY
    return response


@bp.get(f"/admin/statistics/<any({TABLES}):table>.xlsx")
@login_required
def organisation_xlsx(table: str):
    return _xlsx(_report(_organisation_scope()), table)


@region_bp.get(f"/<any({TABLES}):table>.xlsx")
@login_required
def region_xlsx(table: str):
    return _xlsx(_report(services.region_scope(current_user)), table)


def _xlsx(report, key: str) -> Response:
    """One table (by its key) or all of them, every row, as a workbook."""
    chosen = [table for table in tables.all_tables(report) if key in (ALL, table.key)]
    if not chosen:  # a breakdown this report has not got (hosts of a host, say)
        abort(404)
    response = Response(exports.to_xlsx(chosen), mimetype=XLSX)
    name = f"statistikk-{key}-{report.first.isoformat()}-{report.last.isoformat()}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
