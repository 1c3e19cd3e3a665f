"""Wiring of extensions, blueprints, CLI commands, error pages and request hooks."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from frikomport import (
    ROOT,
    housekeeping,
    models,  # noqa: F401  (registers every table on the metadata)
)
from frikomport.errors import DomainError, NotFoundError, PermissionDeniedError
from frikomport.extensions import babel, csrf, db, limiter, login_manager, migrate
from frikomport.forms import page_has_errors
from frikomport.i18n import app_languages, select_locale
from frikomport.notifications import worker
from frikomport.permissions import Permission, administered_organisations, can
from frikomport.search import service as search_service
from frikomport.templating import register_filters


def connect_receivers() -> None:
    """Registrations react to course events, competence to attendance, single sign-on
    to new passwords (idempotent: blinker keeps one connection)."""
    from frikomport.accounts.signals import password_set
    from frikomport.competence.attendance import on_attendance_changed
    from frikomport.courses.signals import course_cancelled, course_changed, seats_changed
    from frikomport.registrations.services import on_course_cancelled, on_course_changed
    from frikomport.registrations.signals import attendance_changed
    from frikomport.search import indexer as search_indexer
    from frikomport.sso.identities import forget_password_links

    course_cancelled.connect(on_course_cancelled)
    course_changed.connect(on_course_changed)
    course_changed.connect(search_indexer.enqueue)
    seats_changed.connect(search_indexer.enqueue)
    attendance_changed.connect(on_attendance_changed)
    password_set.connect(forget_password_links)


def init_extensions(app: Flask) -> None:
    from frikomport.ratelimit import storage  # noqa: F401  (registers frikomport-db://)

    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None  # the login page explains itself
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)


def load_user(login_token: str):
    from frikomport.accounts import sessions

    return sessions.load(db.session, login_token)


def register_blueprints(app: Flask) -> None:
    from frikomport.accessibility.views import bp as accessibility_bp
    from frikomport.accounts.views import bp as accounts_bp
    from frikomport.admin.views import bp as admin_bp
    from frikomport.billing.views import bp as billing_bp
    from frikomport.competence.catalogue_views import bp as competence_catalogue_bp
    from frikomport.competence.certificate_views import bp as certificates_bp
    from frikomport.competence.demand_views import bp as competence_demand_bp
    from frikomport.competence.me_views import bp as my_competence_bp
    from frikomport.competence.unit_views import bp as units_bp
    from frikomport.core.views import bp as core_bp
    from frikomport.courses.admin_views import bp as course_admin_bp
    from frikomport.courses.views import bp as courses_bp
    from frikomport.courses.views import feeds_bp
    from frikomport.privacy.deletion_views import bp as account_deletion_bp
    from frikomport.privacy.guest_views import bp as guest_data_bp
    from frikomport.privacy.my_data_views import bp as my_data_bp
    from frikomport.privacy.notice_views import bp as privacy_notice_bp
    from frikomport.registrations.admin_views import bp as participants_bp
    from frikomport.registrations.views import bp as registrations_bp
    from frikomport.search.views import bp as search_bp
    from frikomport.sso.admin_views import bp as sso_admin_bp
    from frikomport.sso.views import bp as sso_bp
    from frikomport.statistics.views import bp as statistics_bp
    from frikomport.statistics.views import region_bp as region_statistics_bp
    from frikomport.tenancy.invitation_views import bp as invitations_bp
    from frikomport.tenancy.views import bp as tenancy_bp

    for blueprint in (core_bp, accounts_bp, tenancy_bp, invitations_bp, admin_bp, courses_bp,
                      feeds_bp, course_admin_bp, registrations_bp, participants_bp, search_bp,
                      privacy_notice_bp, accessibility_bp, my_data_bp, account_deletion_bp,
                      guest_data_bp, billing_bp, statistics_bp, region_statistics_bp,
                      competence_catalogue_bp, certificates_bp, competence_demand_bp,
                      my_competence_bp, units_bp, sso_bp, sso_admin_bp):
        app.register_blueprint(blueprint)
    register_filters(app)

    @app.context_processor
    def template_helpers():
        return {
            "can": lambda permission, organisation=None: can(current_user, permission,
                                                             organisation),
            "Permission": Permission,
            "back_office_organisations": lambda: administered_organisations(current_user),
            "languages": app_languages(),
            "current_locale": str(get_locale()),  # chosen once per request by Flask-Babel
            "page_has_errors": page_has_errors,
        }


def register_cli(app: Flask) -> None:
    from frikomport.accounts.cli import users_cli
    from frikomport.competence.cli import competence_cli
    from frikomport.courses.cli import courses_cli
    from frikomport.demo.cli import demo_cli
    from frikomport.housekeeping import housekeeping_cli
    from frikomport.notifications.cli import outbox_cli
    from frikomport.privacy.cli import privacy_cli
    from frikomport.registrations.cli import registrations_cli, reminders_cli
    from frikomport.search.cli import search_cli
    from frikomport.sso.cli import sso_cli

    for group in (users_cli, demo_cli, outbox_cli, courses_cli, reminders_cli,
                  registrations_cli, search_cli, housekeeping_cli, privacy_cli,
                  competence_cli, sso_cli):
        app.cli.add_command(group)


def _error_page(status: int, title: str, message: str):
    return render_template("error.html", status=status, title=title, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(NotFoundError)
    @app.errorhandler(404)
    def not_found(_error):
        return _error_page(404, _("Page not found"),
                           _("We could not find the page you asked for. "
                             "It may have been moved, or you may not have access to it."))

    @app.errorhandler(PermissionDeniedError)
    @app.errorhandler(403)
    def forbidden(_error):
        return _error_page(403, _("No access"), _("You do not have permission to do this."))

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return _error_page(400, _("Could not complete the request"), error.message)

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return _error_page(400, _("The form has expired"),
                           _("Go back, reload the page and try again."))

    @app.errorhandler(429)
    def too_many(_error):
        return _error_page(429, _("Too many attempts"),
                           _("Wait a little while before you try again."))

    @app.errorhandler(414)
    def too_long(_error):
        return _error_page(414, _("The address is too long"),
                           _("Shorten the search or go back and try again."))

    @app.errorhandler(413)
    def too_large(_error):
        return _error_page(413, _("The file is too large"),
                           _("The upload exceeds the size limit."))

    @app.errorhandler(HTTPException)
    def other_http(error: HTTPException):
        return _error_page(error.code or 500, error.name, error.description or "")

    @app.errorhandler(500)
    def server_error(_error):
        db.session.rollback()
        return _error_page(500, _("Something went wrong"),
                           _("An error occurred on our side. It has been logged; "
                             "please try again later."))


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    ),
}


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def start_background_workers():
        if app.testing:
            return
        if app.config["OUTBOX_IN_PROCESS"]:
            worker.ensure_started(app)
        if app.config["SEARCH_IN_PROCESS"]:
            search_service.ensure_indexer_started(app)
        if app.config["HOUSEKEEPING_IN_PROCESS"]:
            housekeeping.ensure_started(app)

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config["HSTS_SECONDS"]:
            response.headers.setdefault(
                "Strict-Transport-Security",
                f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains")
        # Personal pages must not linger in shared caches or the back/forward cache.
        # (/healthz is skipped: while the database is down it must answer 503, and
        # looking up the logged-in person would fail.)
        if request.endpoint not in ("static", "core.healthz") and current_user.is_authenticated:
            response.headers["Cache-Control"] = "private, no-store"
        return response
