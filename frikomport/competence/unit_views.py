"""Units, their members and leaders, requirements and the competence matrix.

The back office (/o/<slug>/admin/units…) is for the organisation's admins. The matrix
(/o/<slug>/units/<unit_id>/matrix) is for the unit's leaders and the admins; /o/<slug>/units
lists the units a reader may open, so a leader who is an employee finds theirs.
"""

from __future__ import annotations

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from frikomport.competence import matrix_export
from frikomport.competence.catalogue import usable
from frikomport.competence.matrix import state_words, unit_matrix
from frikomport.competence.records import EXPIRING_DAYS, Standing
from frikomport.competence.requirements import (
    add_requirement,
    remove_requirement,
    unit_requirements,
)
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.inputs import single_line
from frikomport.templating import date_short
from frikomport.tenancy.blueprints import tenant_blueprint
from frikomport.units import services
from frikomport.units.forms import RequirementForm, UnitForm
from frikomport.viewhelpers import flash_form_errors, render_form, run_service

bp = tenant_blueprint("units", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_SEARCH = 200
# The colour of each state's badge; the state is always written out too (WCAG 1.4.1).
STANDING_COLOURS = {Standing.VALID: "success", Standing.EXPIRING: "warning",
                    Standing.EXPIRED: "danger", Standing.MISSING: "danger"}
STANDING_SYMBOLS = {Standing.VALID: "✓", Standing.EXPIRING: "!", Standing.EXPIRED: "✕",
                    Standing.MISSING: "–"}


# The back office --------------------------------------------------------------------

@bp.route("/admin/units", methods=["GET", "POST"])
@login_required
def unit_list():
    form = UnitForm()
    if form.validate_on_submit() and (outcome := run_service(form, lambda: services.create_unit(
            db.session, current_user, g.organisation, form.name.data))):
        flash(_("The unit “%(name)s” is created.", name=outcome.value.name), "success")
        return redirect(url_for(".unit_page", unit_id=outcome.value.id))
    units = services.list_units(db.session, current_user, g.organisation)
    return render_form("competence/units_admin.html", form, organisation=g.organisation,
                       units=units)


def _unit(unit_id: int):
    return services.get_unit(db.session, current_user, g.organisation, unit_id)


@bp.route("/admin/units/<int:unit_id>", methods=["GET", "POST"])
@login_required
def unit_page(unit_id: int):
    """The unit: its name, requirements, leaders and members, and the search for people
    to place in it (``q`` in the query string)."""
    unit = _unit(unit_id)
    form = UnitForm(obj=unit)
    if form.validate_on_submit() and run_service(form, lambda: services.rename_unit(
            db.session, current_user, unit, form.name.data)):
        flash(_("The unit is renamed."), "success")
        return _back(unit)
    return _unit_page(unit, form, _requirement_form(formdata=None))


def _requirement_form(**kwargs) -> RequirementForm:
    return RequirementForm(**kwargs).offer(usable(db.session, g.organisation))


def _unit_page(unit, form: UnitForm, requirement_form: RequirementForm):
    search = _search()
    found, more = services.candidates(db.session, current_user, unit, search)
    return render_form(
        "competence/unit_admin.html", form, organisation=g.organisation, unit=unit,
        requirement_form=requirement_form, search=search, candidates=found, more=more,
        requirements=unit_requirements(db.session, unit),
        leaders=services.leaders_of(db.session, unit),
        members=services.members_of(db.session, unit), action_form=Form())


def _search() -> str:
    return single_line(request.args.get("q", ""))[:MAX_SEARCH]


def _back(unit):
    """To the unit's page, with the search the action was taken from."""
    return redirect(url_for(".unit_page", unit_id=unit.id, q=_search() or None))


@bp.post("/admin/units/<int:unit_id>/delete")
@login_required
def delete_unit(unit_id: int):
    unit = _unit(unit_id)
    name = unit.name
    form = Form()
    if form.validate_on_submit() and run_service(
            form, lambda: services.delete_unit(db.session, current_user, unit)):
        flash(_("The unit “%(name)s” is deleted. Its members are in no unit now.",
                name=name), "success")
        return redirect(url_for(".unit_list"))
    flash_form_errors(form)
    return _back(unit)


@bp.post("/admin/units/<int:unit_id>/requirements")
@login_required
def new_requirement(unit_id: int):
    unit = _unit(unit_id)
    form = _requirement_form()
    if form.validate_on_submit() and run_service(form, lambda: add_requirement(
            db.session, current_user, unit, form.competence.data, form.job_title.data or "")):
        flash(_("The requirement is added."), "success")
        return _back(unit)
    return _unit_page(unit, UnitForm(formdata=None, obj=unit), form)


def _action(unit_id: int, change, message):
    """A button on the unit's page: run ``change(unit)``, then say ``message(result)``."""
    unit = _unit(unit_id)
    form = Form()
    if form.validate_on_submit() and (outcome := run_service(form, lambda: change(unit))):
        flash(message(outcome.value), "success")
    else:
        flash_form_errors(form)
    return _back(unit)


@bp.post("/admin/units/<int:unit_id>/requirements/<int:requirement_id>/remove")
@login_required
def delete_requirement(unit_id: int, requirement_id: int):
    return _action(unit_id, lambda unit: remove_requirement(
        db.session, current_user, unit, requirement_id),
        lambda _requirement: _("The requirement is removed."))


@bp.post("/admin/units/<int:unit_id>/members/<int:membership_id>")
@login_required
def place_member(unit_id: int, membership_id: int):
    return _action(unit_id, lambda unit: services.place_member(
        db.session, current_user, unit, membership_id),
        lambda membership: _("%(name)s is placed in the unit.", name=membership.user.name))


@bp.post("/admin/units/<int:unit_id>/members/<int:membership_id>/remove")
@login_required
def take_out_member(unit_id: int, membership_id: int):
    return _action(unit_id, lambda unit: services.take_out_member(
        db.session, current_user, unit, membership_id),
        lambda membership: _("%(name)s is no longer in the unit.", name=membership.user.name))


@bp.post("/admin/units/<int:unit_id>/leaders/<int:user_id>")
@login_required
def add_leader(unit_id: int, user_id: int):
    return _action(unit_id, lambda unit: services.add_leader(
        db.session, current_user, unit, user_id),
        lambda user: _("%(name)s leads the unit now.", name=user.name))


@bp.post("/admin/units/<int:unit_id>/leaders/<int:user_id>/remove")
@login_required
def remove_leader(unit_id: int, user_id: int):
    return _action(unit_id, lambda unit: services.remove_leader(
        db.session, current_user, unit, user_id),
        lambda user: _("%(name)s no longer leads the unit.", name=user.name))


# The matrix -------------------------------------------------------------------------

@bp.get("/units")
@login_required
def my_units():
    units = services.viewable_units(db.session, current_user, g.organisation)
    return render_template("competence/units.html", organisation=g.organisation, units=units)


def _matrix(unit_id: int):
    unit = services.find_unit(db.session, g.organisation, unit_id)
    return unit_matrix(db.session, current_user, unit)


@bp.get("/units/<int:unit_id>/matrix")
@login_required
def matrix(unit_id: int):
    """The words and dates are made once per state and day, not per cell: a unit of 1,000
    people and 10 competences has 10,000 cells."""
    table = _matrix(unit_id)
    return render_template("competence/matrix.html", organisation=g.organisation,
                           matrix=table, words=state_words(), colours=STANDING_COLOURS,
                           symbols=STANDING_SYMBOLS, expiring_days=EXPIRING_DAYS,
                           days={day: date_short(day) for day in table.last_days()})


@bp.get("/units/<int:unit_id>/matrix.xlsx")
@login_required
def matrix_xlsx(unit_id: int):
    table = _matrix(unit_id)
    body = matrix_export.download(db.session, current_user, table)
    db.session.commit()  # the audit event of the download
    response = Response(body, mimetype=XLSX)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{matrix_export.filename(table)}"')
    return response
