"""Billing pages: a host's invoice basis (/o/<slug>/admin/invoicing, its downloads and
EHF) and a buyer's charges (/o/<slug>/admin/charges)."""

from __future__ import annotations

from datetime import date, time, timedelta

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from frikomport.billing import exports, invoices, services
from frikomport.errors import DomainError, NotFoundError, PermissionDeniedError
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.permissions import Permission, ensure
from frikomport.tenancy.blueprints import tenant_blueprint
from frikomport.timeutil import FIRST_YEAR, LAST_YEAR, local_to_utc
from frikomport.viewhelpers import flash_form_errors, run_service

bp = tenant_blueprint("billing", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(values) -> tuple[date, date]:
    """The days asked for (both included); this year when missing or not dates."""
    today = date.today()
    first = _day(values.get("from")) or date(today.year, 1, 1)
    last = _day(values.get("to")) or date(today.year, 12, 31)
    return (first, last) if first <= last else (last, first)


def _day(raw: str | None) -> date | None:
    try:
        day = date.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def _bounds(first: date, last: date):
    return local_to_utc(first, time()), local_to_utc(last + timedelta(days=1), time())


@bp.get("/admin/invoicing")
@login_required
def invoice_basis():
    first, last = _period(request.args)
    starts, ends = _bounds(first, last)
    groups = services.to_invoice(db.session, current_user, g.organisation, starts, ends)
    done = services.invoiced(db.session, current_user, g.organisation, starts, ends)
    return render_template("billing/basis.html", organisation=g.organisation, groups=groups,
                           invoiced=done, first=first, last=last, form=Form())


@bp.get("/admin/charges")
@login_required
def charges():
    """What the organisation's employees have been charged for by the course hosts."""
    first, last = _period(request.args)
    found = services.charges_to(db.session, current_user, g.organisation,
                                *_bounds(first, last))
    return render_template("billing/charges.html", organisation=g.organisation,
                           charges=found, first=first, last=last)


@bp.post("/admin/invoicing/mark")
@login_required
def mark_invoiced():
    """The lines the organiser saw for one buyer (ids in the form) become invoiced."""
    ensure(current_user, Permission.MANAGE_COURSES, g.organisation)
    first, last = _period(request.form)
    form = Form()
    if form.validate_on_submit() and run_service(form, lambda: _mark(first, last)):
        flash(_("Marked as invoiced on invoice %(number)s.",
                number=request.form.get("invoice_number", "").strip()), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for(".invoice_basis", **{"from": first.isoformat(),
                                                  "to": last.isoformat()}))


def _mark(first: date, last: date) -> int:
    groups = services.to_invoice(db.session, current_user, g.organisation, *_bounds(first, last))
    group = services.shown_group(groups, request.form.get("buyer", ""),
                                 set(request.form.getlist("registration", type=int)))
    return services.mark_invoiced(db.session, current_user, g.organisation, group,
                                  request.form.get("invoice_number", ""))


@bp.get("/admin/invoicing/ehf")
@login_required
def ehf_download():
    """The EHF document of one invoice (``?number=``), or back with the reason why not."""
    number = request.args.get("number", "")[:40]
    try:
        xml = invoices.ehf_invoice(db.session, current_user, g.organisation, number)
    except (NotFoundError, PermissionDeniedError):
        raise
    except DomainError as refusal:
        flash(refusal.message, "danger")
        return redirect(url_for(".invoice_basis"))
    response = Response(xml, mimetype="application/xml")
    safe = "".join(c for c in number if c.isalnum() or c in "-_") or "faktura"
    response.headers["Content-Disposition"] = f'attachment; filename="ehf-{safe}.xml"'
    return response


@bp.get("/admin/invoicing/basis.<any(csv, xlsx):kind>")
@login_required
def basis_download(kind: str):
    """The invoice basis of the period as a file (columns documented in the README)."""
    first, last = _period(request.args)
    groups = services.to_invoice(db.session, current_user, g.organisation,
                                 *_bounds(first, last))
    data, mimetype = ((exports.to_csv(groups), "text/csv; charset=utf-8") if kind == "csv"
                      else (exports.to_xlsx(groups), XLSX))
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="fakturagrunnlag-{first.isoformat()}-{last.isoformat()}.{kind}"')
    return response
