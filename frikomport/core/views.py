"""Front page, language switch and health check."""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from frikomport.courses import queries
from frikomport.extensions import db
from frikomport.notifications.services import status_counts
from frikomport.permissions import Permission, can
from frikomport.search import service as search_service
from frikomport.tenancy.services import list_organisations
from frikomport.viewhelpers import safe_next_url

bp = Blueprint("core", __name__)


@bp.get("/")
def index():
    return render_template("index.html", organisations=list_organisations(db.session),
                           courses=queries.upcoming(db.session, current_user))


@bp.post("/language")
def set_language():
    """Remember the chosen language for this session (and on the profile, if logged in)."""
    code = request.form.get("language", "")
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
        if current_user.is_authenticated and current_user.locale != code:
            current_user.locale = code
            db.session.commit()
    return redirect(safe_next_url(request.form.get("next"), url_for("core.index")))


def _is_operator() -> bool:
    """A site admin, or monitoring with ``Authorization: Bearer <HEALTH_TOKEN>``."""
    token = current_app.config["HEALTH_TOKEN"]
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and hmac.compare_digest(given.encode(), token.encode()):
        return True
    return can(current_user, Permission.MANAGE_TENANTS)


@bp.get("/healthz")
def healthz():
    """For load balancers and monitoring: 200 while the database answers (503 if not).

    Anyone sees the status; the operator also sees the search index (which may be
    rebuilding: the site keeps working, so that is reported, not failed) and the e-mail
    queue, with the number of messages given up on. Nothing about the server (paths,
    versions) is shown to anonymous visitors.
    """
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "error"}, 503
    if not _is_operator():
        return {"status": "ok"}
    return {"status": "ok", "search": search_service.backend().health(),
            "outbox": status_counts(db.session)}
