"""The page an invited person opens from the e-mail: accept, log in first, or create an
account."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from frikomport.accounts.sessions import log_in
from frikomport.errors import DomainError
from frikomport.extensions import db
from frikomport.tenancy import invitations
from frikomport.tenancy.forms import AcceptInvitationForm, NewInviteeForm
from frikomport.tenancy.models import Invitation
from frikomport.viewhelpers import flash_form_errors, no_store, render_form, run_service

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
    invitation_id = invitation.id  # the row may be gone when a retry runs
    if current_user.is_authenticated:
        form = AcceptInvitationForm()
        if form.validate_on_submit() and run_service(form, lambda: invitations.accept(
                db.session, invitation_id, current_user)):
            flash(_("Welcome to %(name)s!", name=organisation.name), "success")
            return redirect(url_for("tenancy.organisation", slug=organisation.slug))
        if _used_meanwhile(form, invitation_id):
            return redirect(url_for("core.index"))
        return render_form("tenancy/invitation.html", form, invitation=invitation,
                           wrong_account=current_user.email != invitation.email)
    if invitations.has_account(db.session, invitation):
        return render_template("tenancy/invitation.html", invitation=invitation,
                               must_log_in=True)
    form = NewInviteeForm(name=invitation.name)
    if form.validate_on_submit() and (created := run_service(
            form, lambda: invitations.accept_as_new_person(
                db.session, invitation_id, name=form.name.data, password=form.password.data,
                locale=session.get("locale")))):  # only a language the person chose
        log_in(db.session, created.value)
        flash(_("Your account is ready. Welcome to %(name)s!", name=organisation.name),
              "success")
        return redirect(url_for("tenancy.organisation", slug=organisation.slug))
    if _used_meanwhile(form, invitation_id):
        return redirect(url_for("core.index"))
    return render_form("tenancy/invitation.html", form, invitation=invitation)


def _used_meanwhile(form, invitation_id: int) -> bool:
    """The invitation was accepted or withdrawn while this request ran (e.g. the button
    pressed twice): say why, instead of showing a form for an invitation that is gone."""
    if form.form_errors and db.session.get(Invitation, invitation_id) is None:
        flash_form_errors(form)
        return True
    return False
