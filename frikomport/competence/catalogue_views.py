"""The competence catalogue: the region's (site admin, /admin/competences) and an
organisation's own (its admins, /o/<slug>/admin/competences, beside the region's list).

Two child blueprints under ``competence_catalogue``: each checks its own rights before
every request, and the organisation's is a tenant blueprint (``g.organisation``).
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from frikomport.competence import catalogue
from frikomport.competence.catalogue import MAX_DESCRIPTION, MAX_MONTHS, MAX_NAME
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.permissions import Permission, ensure, ensure_region_catalogue
from frikomport.tenancy.blueprints import tenant_blueprint
from frikomport.viewhelpers import flash_form_errors, render_form, run_service

bp = Blueprint("competence_catalogue", __name__)
region_bp = Blueprint("region", __name__, url_prefix="/admin/competences")
organisation_bp = tenant_blueprint("organisation", __name__)


class CompetenceForm(Form):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=MAX_NAME)])
    description = TextAreaField(_l("Description"), validators=[
        Optional(), Length(max=MAX_DESCRIPTION)],
        description=_l("What the competence covers, in a sentence or two."))
    validity_months = IntegerField(
        _l("Valid for (months)"), validators=[Optional(), NumberRange(
            min=1, max=MAX_MONTHS, message=_l("Give a number of months from 1 to %(max)d, "
                                              "or leave the field empty."))],
        render_kw={"min": 1, "max": MAX_MONTHS},
        description=_l("Counted from the last day of the course that gives it. Leave empty "
                       "when the competence does not expire."))

    def data_for_service(self) -> catalogue.CompetenceData:
        return catalogue.CompetenceData(name=self.name.data or "",
                                        description=self.description.data or "",
                                        validity_months=self.validity_months.data)


@region_bp.before_request
@login_required
def require_site_admin():
    ensure_region_catalogue(current_user)


@organisation_bp.before_request
@login_required
def require_competence_rights():
    ensure(current_user, Permission.MANAGE_COMPETENCE, g.organisation)


# The region's catalogue ---------------------------------------------------------------------

@region_bp.route("", methods=["GET", "POST"])
def region_list():
    form = CompetenceForm()
    if form.validate_on_submit() and run_service(form, lambda: catalogue.create(
            db.session, current_user, None, form.data_for_service())):
        flash(_("“%(name)s” is added to the region's catalogue.", name=form.name.data.strip()),
              "success")
        return redirect(url_for(".region_list"))
    return render_form("competence/catalogue_region.html", form,
                       competences=catalogue.regional(db.session), action_form=Form())


@region_bp.route("/<int:competence_id>", methods=["GET", "POST"])
def region_edit(competence_id: int):
    competence = catalogue.get_regional(db.session, current_user, competence_id)
    return _edit(competence, None, url_for(".region_list"),
                 url_for(".region_delete", competence_id=competence.id))


@region_bp.post("/<int:competence_id>/delete")
def region_delete(competence_id: int):
    competence = catalogue.get_regional(db.session, current_user, competence_id)
    return _delete(competence, url_for(".region_list"),
                   url_for(".region_edit", competence_id=competence.id))


# An organisation's own ----------------------------------------------------------------------

@organisation_bp.route("/admin/competences", methods=["GET", "POST"])
def organisation_list():
    form = CompetenceForm()
    if form.validate_on_submit() and run_service(form, lambda: catalogue.create(
            db.session, current_user, g.organisation, form.data_for_service())):
        flash(_("“%(name)s” is added to your own competences.", name=form.name.data.strip()),
              "success")
        return redirect(url_for(".organisation_list"))
    return render_form("competence/catalogue_organisation.html", form,
                       organisation=g.organisation, regional=catalogue.regional(db.session),
                       own=catalogue.own(db.session, g.organisation), action_form=Form())


@organisation_bp.route("/admin/competences/<int:competence_id>", methods=["GET", "POST"])
def organisation_edit(competence_id: int):
    competence = catalogue.get_own(db.session, current_user, g.organisation, competence_id)
    return _edit(competence, g.organisation, url_for(".organisation_list"),
                 url_for(".organisation_delete", competence_id=competence.id))


@organisation_bp.post("/admin/competences/<int:competence_id>/delete")
def organisation_delete(competence_id: int):
    competence = catalogue.get_own(db.session, current_user, g.organisation, competence_id)
    return _delete(competence, url_for(".organisation_list"),
                   url_for(".organisation_edit", competence_id=competence.id))


def _edit(competence, organisation, done: str, delete_url: str):
    """The edit form of a competence (the region's: ``organisation`` None); saved, back
    to the list."""
    form = CompetenceForm(obj=competence)
    if form.validate_on_submit() and run_service(form, lambda: catalogue.update(
            db.session, current_user, competence, form.data_for_service())):
        flash(_("The changes are saved."), "success")
        return redirect(done)
    return render_form("competence/catalogue_edit.html", form, competence=competence,
                       organisation=organisation, action_form=Form(), back=done,
                       delete_url=delete_url)


def _delete(competence, done: str, refused: str):
    """Delete and go back to the list; a refusal (people hold it) returns to the
    competence with the reason."""
    name = competence.name
    form = Form()
    if form.validate_on_submit() and (deleted := run_service(
            form, lambda: catalogue.delete_competence(db.session, current_user, competence))):
        flash(_("“%(name)s” is deleted.", name=name), "success")
        if deleted.value:
            flash(ngettext("%(num)d course no longer gives it.",
                           "%(num)d courses no longer give it.", deleted.value), "info")
        return redirect(done)
    flash_form_errors(form)
    return redirect(refused)


bp.register_blueprint(region_bp)
bp.register_blueprint(organisation_bp)
