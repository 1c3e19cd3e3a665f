"""Registering, cancelling, "Mine påmeldinger" and the personal calendar feed."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from frikomport.competence import certificates
from frikomport.courses import feed_window as feeds
from frikomport.courses.feeds import calendar_bytes
from frikomport.courses.queries import get_visible_course
from frikomport.db import utcnow
from frikomport.errors import DomainError, NotFoundError
from frikomport.extensions import db, limiter
from frikomport.forms import Form
from frikomport.registrations import services
from frikomport.registrations.forms import GuestRegisterForm, RegisterForm
from frikomport.registrations.models import Registration, RegistrationState
from frikomport.viewhelpers import (
    NoForm,
    flash_form_errors,
    no_store,
    render_form,
    run_service,
    safe_next_url,
)

bp = Blueprint("registrations", __name__)

STATE_MESSAGES = {
    RegistrationState.CONFIRMED: _l("You are registered. A confirmation is on its way by "
                                    "e-mail."),
    RegistrationState.WAITLISTED: _l("The course is full: you are on the waiting list and "
                                     "will get an e-mail if a seat becomes free."),
    RegistrationState.PENDING: _l("Your registration is received and awaits the organiser's "
                                  "approval."),
}


def _flash_state(state: RegistrationState) -> None:
    flash(str(STATE_MESSAGES[state]),
          "success" if state == RegistrationState.CONFIRMED else "info")


@bp.post("/courses/<int:course_id>/register")
@login_required
def register(course_id: int):
    form = RegisterForm()
    if form.validate_on_submit() and (done := run_service(form, lambda: services.register_member(
            db.session, current_user, course_id, form.comment.data or "",
            form.own_reference.data or ""))):
        _flash_state(done.value.state)
    else:
        flash_form_errors(form)
    return redirect(url_for("courses.detail", course_id=course_id))


@bp.route("/courses/<int:course_id>/register/guest", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register_guest(course_id: int):
    course = get_visible_course(db.session, current_user, course_id)
    if not course.allow_guests:
        raise NotFoundError()
    form = GuestRegisterForm()
    if form.validate_on_submit() and run_service(form, lambda: services.register_guest(
            db.session, course_id, name=form.name.data, email=form.email.data,
            phone=form.phone.data, employer_name=form.employer.data,
            comment=form.comment.data or "", own_reference=form.own_reference.data or "")):
        flash(_("Almost done: we have sent an e-mail to %(email)s. Open the link in it to "
                "confirm your registration.", email=form.email.data), "info")
        return redirect(url_for("courses.detail", course_id=course_id))
    return render_form("registrations/guest.html", form, course=course,
                       closed=services.registration_closed_reason(course, utcnow()))


@bp.get("/registrations/confirm/<token>")
@no_store
def confirm_guest(token: str):
    errors = NoForm()
    if done := run_service(errors, lambda: services.confirm_guest(db.session, token)):
        _flash_state(done.value.state)
        return redirect(url_for("courses.detail", course_id=done.value.course_id))
    flash_form_errors(errors)
    return redirect(url_for("core.index"))


@bp.route("/registrations/cancel/<token>", methods=["GET", "POST"])
@no_store
def cancel_by_link(token: str):
    """GET shows what will be cancelled; only the POST cancels (mail scanners follow GETs)."""
    try:
        registration = services.registration_for_cancel_link(db.session, token)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("core.index"))
    course_page = url_for("courses.detail", course_id=registration.course_id)
    return _ask_then_cancel(registration, course_page,
                            lambda: services.cancel_by_link(db.session, token))


def _ask_then_cancel(registration, back: str, cancel: Callable[[], object]):
    """The two steps of cancelling: a GET shows what is cancelled and what follows (the
    seat goes to the next on the waiting list) and asks; the POST cancels and goes
    ``back``, where the status message says it is done."""
    form = Form()
    if form.validate_on_submit() and run_service(form, cancel):
        flash(_("Your registration is cancelled."), "success")
        return redirect(back)
    return render_form("registrations/cancel.html", form, registration=registration,
                       back=back,
                       too_late=services.cancellation_closed(registration.course, utcnow()))


@bp.get("/me/registrations")
@login_required
def my_registrations():
    registrations = services.my_registrations(db.session, current_user)
    now = utcnow()
    upcoming = [r for r in registrations if r.course.ends_at and r.course.ends_at >= now]
    past = [r for r in registrations if r not in upcoming]
    return render_template("registrations/mine.html", upcoming=upcoming, past=past, now=now,
                           form=Form(), cancellation_closed=services.cancellation_closed,
                           certificates=certificates.by_registration(db.session, current_user))


@bp.route("/me/registrations/<int:registration_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_mine(registration_id: int):
    """Cancel one's own registration, after a confirmation page; ``next`` is the page the
    person came from (the course or "My registrations"), where they return."""
    registration = services.own_registration(db.session, current_user, registration_id)
    back = safe_next_url(request.args.get("next"), url_for(".my_registrations"))
    return _ask_then_cancel(registration, back, lambda: services.cancel_own(
        db.session, current_user, registration_id))


@bp.post("/me/calendar")
@login_required
def new_calendar_link():
    """Create (or replace, which disables the old one) the secret personal feed address."""
    form = Form()
    if form.validate_on_submit():
        current_user.calendar_token = secrets.token_urlsafe(32)
        db.session.commit()
        flash(_("Your personal calendar address is ready. Any earlier address no longer "
                "works."), "success")
    return redirect(url_for(".my_registrations"))


@bp.get("/me/calendar/<token>.ics")
@no_store
def personal_calendar(token: str):
    """The feed at a secret address, for calendar apps (no login): the window's courses
    with a seat or waiting-list place, 304 when the app has them. Marked private and
    no-store: it shows what someone registered for, so no cache may keep it."""
    user = services.user_for_calendar_token(db.session, token)
    window = feeds.current_window()
    query = feeds.personal_query(user, window)
    name = _("My courses")
    return feeds.conditional_response(
        feeds.feed_version(db.session, query, Registration.updated_at), window,
        ("personal", user.id, name),
        lambda: calendar_bytes(feeds.load_for_calendar(db.session, query), name, window),
        "text/calendar; charset=utf-8", public=False)
