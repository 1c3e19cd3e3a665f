"""Participants of a course, for its organisers."""

from __future__ import annotations

from flask import Response, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user, login_required

from frikomport.courses.services import get_course_for_management
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.permissions import Permission, ensure
from frikomport.registrations import exports, notes, services
from frikomport.registrations.forms import EmailParticipantsForm
from frikomport.registrations.models import RegistrationState
from frikomport.tenancy.blueprints import tenant_blueprint
from frikomport.viewhelpers import flash_form_errors, render_form, run_service

bp = tenant_blueprint("participants", __name__)

STATE_LABELS = {
    RegistrationState.PENDING: _l("Awaiting"),
    RegistrationState.CONFIRMED: _l("Confirmed"),
    RegistrationState.WAITLISTED: _l("Waiting list"),
    RegistrationState.CANCELLED: lazy_pgettext("registration", "Cancelled"),
    RegistrationState.REJECTED: _l("Rejected"),
    RegistrationState.ATTENDED: _l("Attended"),
    RegistrationState.NO_SHOW: _l("Did not come"),
}

# Designsystemet colours of the status tags: what needs the organiser's attention stands out.
STATE_COLORS = {
    RegistrationState.PENDING: "warning",
    RegistrationState.CONFIRMED: "success",
    RegistrationState.WAITLISTED: "info",
    RegistrationState.CANCELLED: "neutral",
    RegistrationState.REJECTED: "danger",
    RegistrationState.ATTENDED: "accent",
    RegistrationState.NO_SHOW: "neutral",
}

# What an organiser can do with a registration in each state: (action, label, colour).
ROW_ACTIONS = {
    RegistrationState.PENDING: [("approve", _l("Approve"), None),
                                ("reject", _l("Reject"), "danger")],
    RegistrationState.WAITLISTED: [("promote", _l("Give seat"), None),
                                   ("cancel", _l("Cancel"), "danger")],
    RegistrationState.CONFIRMED: [("attended", _l("Attended"), None),
                                  ("no-show", _l("Did not come"), None),
                                  ("cancel", _l("Cancel"), "danger")],
    RegistrationState.ATTENDED: [("no-show", _l("Did not come"), None)],
    RegistrationState.NO_SHOW: [("attended", _l("Attended"), None)],
    RegistrationState.CANCELLED: [],
    RegistrationState.REJECTED: [],
}

ACTIONS = {
    "approve": (services.approve, _l("The registration is approved.")),
    "reject": (services.reject, _l("The registration is rejected.")),
    "promote": (services.promote, _l("Moved from the waiting list to a seat.")),
    "cancel": (services.cancel_by_organiser, _l("The registration is cancelled.")),
    "attended": (lambda *args: services.mark_attendance(*args, attended=True),
                 _l("Marked as attended.")),
    "no-show": (lambda *args: services.mark_attendance(*args, attended=False),
                _l("Marked as not attended.")),
}
ACTION_NAMES = 'any("approve", "reject", "promote", "cancel", "attended", "no-show")'
BASE = "/admin/courses/<int:course_id>/participants"


@bp.before_request
@login_required
def require_course_rights():
    ensure(current_user, Permission.MANAGE_COURSES, g.organisation)


def _course(course_id: int):
    return get_course_for_management(db.session, current_user, g.organisation, course_id)


@bp.get(BASE)
def participant_list(course_id: int):
    course = _course(course_id)
    return render_template(
        "registrations/participants.html", organisation=g.organisation, course=course,
        registrations=services.participants(db.session, current_user, course),
        events=services.history(db.session, current_user, course),
        labels=STATE_LABELS, state_colors=STATE_COLORS, row_actions=ROW_ACTIONS, form=Form(),
        note_label=notes.note_label,
        State=RegistrationState)


@bp.post(f"{BASE}/<int:registration_id>/<{ACTION_NAMES}:action>")
def participant_action(course_id: int, registration_id: int, action: str):
    service, success = ACTIONS[action]
    form = Form()
    if form.validate_on_submit() and run_service(form, lambda: service(
            db.session, current_user, g.organisation, course_id, registration_id)):
        flash(str(success), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for(".participant_list", course_id=course_id))


@bp.get(f"{BASE}.csv")
def export_csv(course_id: int):
    course = _course(course_id)
    body = exports.to_csv(course, _listed(course, exports.CSV), STATE_LABELS, utcnow())
    return _download(body, "text/csv; charset=utf-8", f"deltakere-{course.id}.csv")


@bp.get(f"{BASE}.xlsx")
def export_xlsx(course_id: int):
    course = _course(course_id)
    body = exports.to_xlsx(course, _listed(course, exports.XLSX), STATE_LABELS, utcnow())
    return _download(body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"deltakere-{course.id}.xlsx")


@bp.get(f"{BASE}/sign-in-sheet")
def sign_in_sheet(course_id: int):
    course = _course(course_id)
    page = render_template("registrations/sign_in_sheet.html", course=course,
                           registrations=_listed(course, exports.SIGN_IN_SHEET))
    db.session.commit()  # the audit event; after rendering, which reads the loaded rows
    return page


def _listed(course, fmt: str) -> list:
    """The participants for a download; the audit event is committed with the answer."""
    return exports.participants_for_download(db.session, current_user, course, fmt)


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    db.session.commit()  # the audit event of the download
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route(f"{BASE}/email", methods=["GET", "POST"])
def email_all(course_id: int):
    course = _course(course_id)
    form = EmailParticipantsForm()
    if form.validate_on_submit() and (sent := run_service(form, lambda: (
            services.email_participants(db.session, current_user, course,
                                        subject=form.subject.data, body=form.body.data,
                                        include_waitlisted=form.include_waitlisted.data)))):
        flash(_("The message is sent to %(n)d people.", n=sent.value), "success")
        return redirect(url_for(".participant_list", course_id=course.id))
    return render_form("registrations/email.html", form, organisation=g.organisation,
                       course=course)
