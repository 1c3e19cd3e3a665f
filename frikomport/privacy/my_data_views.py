"""My data: everything the portal holds about the logged-in person, to read on the page
or download (GDPR art. 15 and 20)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_login import current_user, login_required

from frikomport.extensions import db
from frikomport.privacy import export
from frikomport.viewhelpers import no_store

bp = Blueprint("my_data", __name__)


def _download(body, filename: str, mimetype: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/me/data")
@login_required
@no_store
def page():
    return render_template("privacy/my_data.html", labels=export.LABELS,
                           sections=export.collect(db.session, current_user))


@bp.get("/me/data.json")
@login_required
@no_store
def as_json():
    sections = export.collect(db.session, current_user)
    return _download(export.as_json(current_user, sections), "frikomport-mine-data.json",
                     "application/json")


@bp.get("/me/data.zip")
@login_required
@no_store
def as_zip():
    sections = export.collect(db.session, current_user)
    return _download(export.as_zip(current_user, sections), "frikomport-mine-data.zip",
                     "application/zip")
