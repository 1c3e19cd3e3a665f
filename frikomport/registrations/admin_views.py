"""Participants of a course, for its organisers."""

from __future__ import annotations

from flask import (
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext, ngettext
from flask_login import current_user, login_required

from frikomport.competence import certificates
from frikomport.courses.services import get_course_for_management
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.inputs import MAX_DB_INTEGER, int_arg, single_line
from frikomport.permissions import Permission, ensure
from frikomport.registrations import exports, notes, participants, services
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
    "attended": (participants.mark_attended, _l("Marked as attended.")),
    "no-show": (participants.mark_no_show, _l("Marked as not attended.")),
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
    """One page of the list; the labels are translated once, not per row, and the page
    carries one CSRF token for all its buttons (they submit one form)."""
    course = _course(course_id)
    query = _query(request.args)
    events, event_total = participants.recent_history(db.session, current_user, course)
    listing = participants.participant_page(db.session, current_user, course, query)
    return render_template(
        "registrations/participants.html", organisation=g.organisation, course=course,
        query=query, listing=listing,
        certificates=certificates.issued_for(db.session, listing.rows),
        events=events, event_total=event_total, labels=_translated(STATE_LABELS),
        state_colors=STATE_COLORS, row_actions=_translated_actions(), now=utcnow(),
        filters=participants.ParticipantQuery.filter_names(), note_label=notes.note_label,
        State=RegistrationState)


def _query(values) -> participants.ParticipantQuery:
    """The search, filter and page asked for (in the query string, or sent back by the
    page's form); anything unknown gives the default."""
    state = values.get("state", participants.ALL)
    return participants.ParticipantQuery(
        text=single_line(values.get("q", ""))[:participants.MAX_SEARCH],
        state=state if state in participants.ParticipantQuery.filter_names()
        else participants.ALL,
        page=int_arg(values, "page", 1, 1, participants.MAX_PAGE))


def _translated(labels: dict) -> dict:
    return {key: str(label) for key, label in labels.items()}


def _translated_actions() -> dict:
    return {state: [(action, str(label), color) for action, label, color in actions]
            for state, actions in ROW_ACTIONS.items()}


def _back(course_id: int):
    """Back to the list as the organiser left it (search, filter, page)."""
    query = _query(request.form)
    args = {"q": query.text or None, "page": query.page if query.page > 1 else None,
            "state": query.state if query.state != participants.ALL else None}
    return redirect(url_for(".participant_list", course_id=course_id, **args))


@bp.post(f"{BASE}/<int:registration_id>/<{ACTION_NAMES}:action>")
def participant_action(course_id: int, registration_id: int, action: str):
    service, success = ACTIONS[action]
    form = Form()
    if form.validate_on_submit() and run_service(form, lambda: service(
            db.session, current_user, g.organisation, course_id, registration_id)):
        flash(str(success), "success")
    else:
        flash_form_errors(form)
    return _back(course_id)


@bp.post(f'{BASE}/bulk/<any("attended", "no-show", "promote"):action>')
def bulk_action(course_id: int, action: str):
    """The selected rows (checkboxes) and the pressed button's action, in one transaction."""
    _course(course_id)
    selected = _selected_ids()
    if not selected:
        flash(_("Select at least one participant first."), "danger")
        return _back(course_id)
    _run_bulk(lambda: participants.bulk_action(db.session, current_user, g.organisation,
                                               course_id, selected, action))
    return _back(course_id)


@bp.post(f"{BASE}/all-attended")
def all_attended(course_id: int):
    """After the course: everyone with a seat who is not marked yet has attended."""
    _course(course_id)
    _run_bulk(lambda: participants.mark_all_attended(db.session, current_user,
                                                     g.organisation, course_id))
    return _back(course_id)


def _selected_ids() -> list[int]:
    """The ticked rows: ids a column can hold, at most a page's worth (junk is ignored)."""
    ids = {value for value in request.form.getlist("registration", type=int)
           if 0 < value <= MAX_DB_INTEGER}
    return sorted(ids)[:participants.MAX_SELECTED]


def _run_bulk(action) -> None:
    form = Form()
    if not (form.validate_on_submit() and (outcome := run_service(form, action))):
        flash_form_errors(form)
        return
    changed, refused = outcome.value.changed, outcome.value.refused
    flash(ngettext("%(num)d registration changed.", "%(num)d registrations changed.",
                   changed), "success" if changed or not refused else "warning")
    for name, reason in refused:
        flash(_("Not changed for %(name)s: %(reason)s", name=name, reason=reason), "danger")


@bp.get(f"{BASE}.csv")
def export_csv(course_id: int):
    """Streamed: the audit event is committed first, then the rows are read in batches
    while the answer is sent, so a big course is never held in memory whole. Columns and
    labels are decided here, in the request's language; the rows need no request."""
    course = _course(course_id)
    statement = exports.download_statement(db.session, current_user, course, exports.CSV)
    lines = exports.csv_lines(course, exports.streamed(db.engine, statement),
                              _translated(STATE_LABELS), utcnow())
    filename = f"deltakere-{course.id}.csv"
    db.session.commit()  # the audit event of the download
    return _attachment(Response(lines, mimetype="text/csv; charset=utf-8"), filename)


@bp.get(f"{BASE}.xlsx")
def export_xlsx(course_id: int):
    course = _course(course_id)
    statement = exports.download_statement(db.session, current_user, course, exports.XLSX)
    body = exports.to_xlsx(course, exports.in_batches(db.session, statement),
                           _translated(STATE_LABELS), utcnow())
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
    return _attachment(Response(body, mimetype=mimetype), filename)


def _attachment(response: Response, filename: str) -> Response:
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
