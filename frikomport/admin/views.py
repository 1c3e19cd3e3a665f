"""Site administration: tenants and user accounts (site admins only)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from frikomport.accounts import services as accounts
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.notifications import delivery
from frikomport.notifications import services as notifications
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
    return render_template("admin/users.html", users=found, query=query, form=Form())


@bp.post("/users/<int:user_id>/enabled")
def set_user_enabled(user_id: int):
    form = Form()
    enable = request.form.get("enabled") == "1"
    if form.validate_on_submit() and run_service(form, lambda: accounts.set_enabled(
        db.session, current_user, user_id, enable,
    )):
        flash(_("The account is enabled.") if enable else _("The account is disabled."),
              "success")
    for message in form.form_errors:
        flash(message, "danger")
    return redirect(url_for(".users", q=request.args.get("q", "")))


@bp.get("/outbox")
def outbox():
    return render_template("admin/outbox.html", counts=notifications.status_counts(db.session),
                           messages=notifications.failed_messages(db.session), form=Form())


@bp.post("/outbox/retry")
def retry_outbox():
    """Send failed e-mails again: one (``message_id``) or all."""
    form = Form()
    chosen = request.form.get("message_id")
    ids = None  # all of them
    if chosen is not None:  # one message; a malformed id selects none, never all
        ids = [int(chosen)] if chosen.isascii() and chosen.isdigit() and len(chosen) < 10 else []
    if form.validate_on_submit():
        count = delivery.retry(db.session, include_failed=True, message_ids=ids)
        db.session.commit()
        flash(ngettext("%(num)d message will be sent again.",
                       "%(num)d messages will be sent again.", count), "success")
    return redirect(url_for(".outbox"))
