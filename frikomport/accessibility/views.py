"""The accessibility statement (tilgjengelighetserklæring) of this install.

Norwegian public bodies publish their formal statement in Digdir's uustatus; this page
says what the portal itself does and how to report a problem, and links to the formal
statement when the operator has set ``ACCESSIBILITY_STATEMENT_URL``.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template

bp = Blueprint("accessibility", __name__)

# When the statement was last checked against the portal: update it with the statement.
REVIEWED = date(2026, 11, 30)


@bp.get("/accessibility")
def statement():
    config = current_app.config
    return render_template("accessibility/statement.html",
                           contact_email=config["ACCESSIBILITY_CONTACT_EMAIL"],
                           uustatus_url=config["ACCESSIBILITY_STATEMENT_URL"],
                           reviewed=REVIEWED)
