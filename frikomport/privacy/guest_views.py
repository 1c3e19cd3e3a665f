"""A guest's own registration, from the signed link in every e-mail about it: see what
is stored, and delete it (guests have no account, so no "My data" page)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _

from frikomport.errors import DomainError
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.privacy import deletion
from frikomport.registrations.services import registration_for_cancel_link
from frikomport.viewhelpers import no_store, render_form, run_service

bp = Blueprint("guest_data", __name__)


@bp.route("/registrations/data/<token>", methods=["GET", "POST"])
@no_store
def registration(token: str):
    """GET shows the data; only the POST deletes (mail scanners follow GETs)."""
    try:
        found = registration_for_cancel_link(db.session, token)
        if found.user_id is not None:
            raise DomainError(_("The link is invalid."))
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("core.index"))
    form = Form()
    registration_id, course_id = found.id, found.course_id
    if form.validate_on_submit() and run_service(
            form, lambda: deletion.delete_guest_registration(db.session, registration_id)):
        flash(_("Your registration and your personal data in it are deleted."), "success")
        return redirect(url_for("courses.detail", course_id=course_id))
    return render_form("privacy/guest_registration.html", form, registration=found)
