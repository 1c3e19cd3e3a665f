"""Deleting an account: the person themself (with their password), or a site admin on
the person's request."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from frikomport.accounts import throttle
from frikomport.accounts.models import User
from frikomport.accounts.passwords import verify_password
from frikomport.db import utcnow
from frikomport.errors import NotFoundError
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.permissions import Permission, ensure
from frikomport.privacy import deletion
from frikomport.privacy.forms import DeleteAccountForm
from frikomport.registrations.services import my_registrations
from frikomport.viewhelpers import no_store, render_form, run_service

bp = Blueprint("account_deletion", __name__)


def _password_is_right(form: DeleteAccountForm):
    """Re-authentication, limited like logging in (a borrowed session must not be able
    to guess the password here)."""
    ip = request.remote_addr or ""
    if wait := throttle.attempt(ip, current_user.email):
        form.form_errors.append(_("Too many wrong passwords. Try again in %(num)d seconds.",
                                  num=wait))
        return False
    if current_user.password_hash and verify_password(current_user.password_hash,
                                                      form.password.data):
        throttle.succeeded(ip, current_user.email)
        return True
    form.password.errors.append(_("The password is wrong."))
    return False


@bp.route("/me/delete", methods=["GET", "POST"])
@login_required
@no_store
def delete_mine():
    form = DeleteAccountForm()
    person = current_user._get_current_object()
    if form.validate_on_submit() and _password_is_right(form) and run_service(
            form, lambda: deletion.delete_person(db.session, person, person)):
        logout_user()
        flash(_("Your account and your personal data are deleted."), "success")
        return redirect(url_for("core.index"))
    return render_form("privacy/delete_account.html", form, person=person,
                       upcoming=_upcoming(person), own=True)


@bp.route("/admin/users/<int:user_id>/delete", methods=["GET", "POST"])
@login_required
@no_store
def delete_user(user_id: int):
    ensure(current_user, Permission.MANAGE_TENANTS)
    person = db.session.get(User, user_id)
    if person is None:
        raise NotFoundError()
    form = Form()
    if form.validate_on_submit() and run_service(
            form, lambda: deletion.delete_person(db.session, current_user, person)):
        flash(_("The account and its personal data are deleted."), "success")
        return redirect(url_for("admin.users"))
    return render_form("privacy/delete_account.html", form, person=person,
                       upcoming=_upcoming(person), own=False)


def _upcoming(person: User) -> list:
    """The registrations that deleting the account will cancel."""
    now = utcnow()
    return [r for r in my_registrations(db.session, person)
            if r.is_active and (r.course.ends_at is None or r.course.ends_at > now)]
