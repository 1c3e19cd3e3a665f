"""Billing pages: a host's invoice basis (/o/<slug>/admin/invoicing, its downloads, EHF,
waivers and credit notes) and a buyer's charges (/o/<slug>/admin/charges)."""

from __future__ import annotations

from datetime import date

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from frikomport.billing import credits, exports, invoices, services
from frikomport.errors import DomainError, NotFoundError, PermissionDeniedError
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.periods import as_query, bounds, period_from
from frikomport.permissions import Permission, ensure
from frikomport.tenancy.blueprints import tenant_blueprint
from frikomport.viewhelpers import flash_form_errors, run_service

bp = tenant_blueprint("billing", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/admin/invoicing")
@login_required
def invoice_basis():
    first, last = period_from(request.args)
    starts, ends = bounds(first, last)
    groups = services.to_invoice(db.session, current_user, g.organisation, starts, ends)
    done = services.invoiced(db.session, current_user, g.organisation, starts, ends)
    return render_template("billing/basis.html", organisation=g.organisation, groups=groups,
                           invoiced=done, first=first, last=last, form=Form())


@bp.get("/admin/charges")
@login_required
def charges():
    """What the organisation's employees have been charged for by the course hosts."""
    first, last = period_from(request.args)
    found = services.charges_to(db.session, current_user, g.organisation,
                                *bounds(first, last))
    return render_template("billing/charges.html", organisation=g.organisation,
                           charges=found, first=first, last=last)


@bp.post("/admin/invoicing/mark")
@login_required
def mark_invoiced():
    """The lines the organiser saw for one buyer (ids in the form) become invoiced."""
    ensure(current_user, Permission.MANAGE_COURSES, g.organisation)
    first, last = period_from(request.form)
    form = Form()
    if form.validate_on_submit() and run_service(form, lambda: _mark(first, last)):
        flash(_("Marked as invoiced on invoice %(number)s.",
                number=request.form.get("invoice_number", "").strip()), "success")
    else:
        flash_form_errors(form)
    return _back_to_basis(first, last)


def _back_to_basis(first: date, last: date):
    return redirect(url_for(".invoice_basis", **as_query(first, last)))


def _mark(first: date, last: date) -> int:
    groups = services.to_invoice(db.session, current_user, g.organisation, *bounds(first, last))
    group = services.shown_group(groups, request.form.get("buyer", ""),
                                 set(request.form.getlist("registration", type=int)))
    return services.mark_invoiced(db.session, current_user, g.organisation, group,
                                  request.form.get("invoice_number", ""))


@bp.post("/admin/invoicing/waive")
@login_required
def waive_fees():
    """Waive the chosen registrations' fees (ids in the form) with a reason; those already
    invoiced are credited on the credit note whose number the form gives."""
    ensure(current_user, Permission.MANAGE_COURSES, g.organisation)
    first, last = period_from(request.form)
    form = Form()
    done = form.validate_on_submit() and run_service(form, lambda: credits.waive_fees(
        db.session, current_user, g.organisation,
        request.form.getlist("registration", type=int), request.form.get("reason", ""),
        request.form.get("credit_note_number", "")))
    if done:
        numbers = sorted({line.invoice_number for line in done.value if line is not None})
        flash(_("Fees waived: %(count)d, credited on credit note %(number)s.",
                count=len(done.value), number=", ".join(numbers)) if numbers
              else _("Fees waived: %(count)d.", count=len(done.value)), "success")
    else:
        flash_form_errors(form)
    return _back_to_basis(first, last)


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
    first, last = period_from(request.args)
    groups = services.to_invoice(db.session, current_user, g.organisation,
                                 *bounds(first, last))
    data, mimetype = ((exports.to_csv(groups), "text/csv; charset=utf-8") if kind == "csv"
                      else (exports.to_xlsx(groups), XLSX))
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="fakturagrunnlag-{first.isoformat()}-{last.isoformat()}.{kind}"')
    return response
