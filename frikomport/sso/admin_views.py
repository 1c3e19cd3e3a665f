"""Single sign-on settings: an organisation's provider (its admins,
/o/<slug>/admin/sso) and the site admin's overview with the domains waiting for approval
(/admin/sso)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.permissions import Permission, ensure
from frikomport.sso import settings
from frikomport.sso.forms import ProviderForm
from frikomport.sso.lookup import provider_of
from frikomport.tenancy.blueprints import tenant_blueprint
from frikomport.urls import external_url
from frikomport.viewhelpers import flash_form_errors, render_form, run_service

bp = Blueprint("sso_admin", __name__)
site_bp = Blueprint("site", __name__, url_prefix="/admin/sso")
organisation_bp = tenant_blueprint("organisation", __name__)


@site_bp.before_request
@login_required
def require_site_admin():
    ensure(current_user, Permission.MANAGE_TENANTS)


@organisation_bp.before_request
@login_required
def require_sso_rights():
    ensure(current_user, Permission.MANAGE_SSO, g.organisation)


@organisation_bp.route("/admin/sso", methods=["GET", "POST"])
def provider_settings():
    provider = provider_of(db.session, g.organisation)
    form = ProviderForm(obj=provider)
    if provider is not None and not form.is_submitted():
        form.domain_names.data = "\n".join(d.domain for d in provider.domains)
    if form.validate_on_submit() and run_service(form, lambda: settings.save_provider(
            db.session, current_user, g.organisation, issuer=form.issuer.data,
            client_id=form.client_id.data, client_secret=form.client_secret.data or "",
            scopes=form.scopes.data, email_claim=form.email_claim.data,
            domains=form.domain_names.data or "", label=form.label.data or "",
            allow_local_passwords=form.allow_local_passwords.data,
            enabled=form.enabled.data)):
        flash(_("The single sign-on settings are saved, and the provider answered."),
              "success")
        return redirect(url_for(".provider_settings"))
    return render_form(
        "sso/settings.html", form, organisation=g.organisation, provider=provider,
        linked=settings.linked_people(db.session, provider) if provider else (0, None),
        redirect_uri=external_url("sso.callback"),
        logout_uri=external_url("sso.logged_out"), delete_form=Form())


@organisation_bp.post("/admin/sso/delete")
def delete_provider():
    form = Form()
    if form.validate_on_submit() and run_service(form, lambda: settings.delete_provider(
            db.session, current_user, g.organisation)):
        flash(_("Single sign-on is removed. People log in with a password again."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for(".provider_settings"))


@site_bp.get("")
def overview():
    providers = settings.all_providers(db.session, current_user)
    waiting = [d for p in providers for d in p.domains if d.approved_at is None]
    accounts = settings.accounts_in_waiting_domains(db.session)
    return render_form("sso/overview.html", Form(), providers=providers, waiting=waiting,
                       accounts=accounts)


@site_bp.post("/domains/<int:domain_id>/<any(approve, reject):decision>")
def decide_domain(domain_id: int, decision: str):
    form = Form()
    if form.validate_on_submit() and (done := run_service(form, lambda: settings.decide_domain(
            db.session, current_user, domain_id, decision == "approve"))):
        flash(_("%(domain)s is approved.", domain=done.value.domain) if decision == "approve"
              else _("%(domain)s is rejected.", domain=done.value.domain), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for(".overview"))


bp.register_blueprint(site_bp)
bp.register_blueprint(organisation_bp)
