"""Front page, language switch and health check."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from frikomport.courses import queries
from frikomport.extensions import db
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


@bp.get("/healthz")
def healthz():
    """For load balancers and monitoring: the database must answer; the search index may
    be rebuilding (the site keeps working, so that is reported, not failed)."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok", "search": search_service.backend().health()}
