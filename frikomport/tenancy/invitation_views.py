"""The page an invited person opens from the e-mail: accept, log in first, or create an
account."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from frikomport.accounts.services import find_user_by_email
from frikomport.accounts.sessions import log_in
from frikomport.errors import DomainError
from frikomport.extensions import db
from frikomport.tenancy import invitations
from frikomport.tenancy.forms import AcceptInvitationForm, NewInviteeForm
from frikomport.viewhelpers import no_store, render_form, run_service

bp = Blueprint("invitations", __name__)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@no_store
def respond(token: str):
    try:
        invitation = invitations.find(db.session, token)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("core.index"))
    organisation = invitation.organisation
    if current_user.is_authenticated:
        form = AcceptInvitationForm()
        if form.validate_on_submit() and run_service(form, lambda: invitations.accept(
                db.session, invitation, current_user)):
            flash(_("Welcome to %(name)s!", name=organisation.name), "success")
            return redirect(url_for("tenancy.organisation", slug=organisation.slug))
        return render_form("tenancy/invitation.html", form, invitation=invitation,
                           wrong_account=current_user.email != invitation.email)
    if find_user_by_email(db.session, invitation.email) is not None:
        return render_template("tenancy/invitation.html", invitation=invitation,
                               must_log_in=True)
    form = NewInviteeForm(name=invitation.name)
    if form.validate_on_submit() and (created := run_service(
            form, lambda: invitations.accept_as_new_person(
                db.session, invitation, name=form.name.data, password=form.password.data))):
        log_in(db.session, created.value)
        flash(_("Your account is ready. Welcome to %(name)s!", name=organisation.name),
              "success")
        return redirect(url_for("tenancy.organisation", slug=organisation.slug))
    return render_form("tenancy/invitation.html", form, invitation=invitation)
