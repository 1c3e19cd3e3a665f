"""Site administration: tenants and user accounts (site admins only)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from frikomport.accounts import services as accounts
from frikomport.extensions import db
from frikomport.permissions import Permission, ensure
from frikomport.tenancy import services as tenancy
from frikomport.tenancy.forms import NewOrganisationForm
from frikomport.viewhelpers import render_form, run_service

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_site_admin():
    ensure(current_user, Permission.MANAGE_TENANTS)


@bp.get("/")
def organisations():
    return render_template("admin/organisations.html",
                           organisations=tenancy.list_organisations(db.session))


@bp.route("/organisations/new", methods=["GET", "POST"])
def new_organisation():
    form = NewOrganisationForm()
    if form.validate_on_submit() and run_service(form, lambda: tenancy.create_organisation(
        db.session, current_user, slug=form.slug.data, **form.organisation_fields(),
    )):
        flash(_("The organisation %(name)s is created. Add its first administrator.",
                name=form.name.data), "success")
        return redirect(url_for("tenancy.members", slug=form.slug.data.strip().lower()))
    return render_form("admin/new_organisation.html", form)


@bp.get("/users")
def users():
    query = request.args.get("q", "").strip()
    found = accounts.search_users(db.session, current_user, query)
    return render_template("admin/users.html", users=found, query=query, form=FlaskForm())


@bp.post("/users/<int:user_id>/enabled")
def set_user_enabled(user_id: int):
    form = FlaskForm()
    enable = request.form.get("enabled") == "1"
    if form.validate_on_submit() and run_service(form, lambda: accounts.set_enabled(
        db.session, current_user, user_id, enable,
    )):
        flash(_("The account is enabled.") if enable else _("The account is disabled."),
              "success")
    for message in form.form_errors:
        flash(message, "danger")
    return redirect(url_for(".users", q=request.args.get("q", "")))
