"""The privacy notice (personvernerklæring) of this install."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("privacy_notice", __name__)

RETENTION_SETTINGS = ("GUEST_CONFIRM_HOURS", "RETENTION_COMMENT_MONTHS",
                      "RETENTION_PARTICIPANT_YEARS", "RETENTION_OUTBOX_DAYS",
                      "RETENTION_AUDIT_MONTHS", "RETENTION_INVOICE_YEARS")
CONTACT_SETTINGS = ("PRIVACY_CONTROLLER_NAME", "PRIVACY_CONTROLLER_ADDRESS",
                    "PRIVACY_CONTACT_EMAIL", "PRIVACY_DPO_EMAIL")


@bp.get("/privacy")
def notice():
    config = current_app.config
    return render_template(
        "privacy/notice.html", retention={name: config[name] for name in RETENTION_SETTINGS},
        contact={name: config[name] for name in CONTACT_SETTINGS},
        operator_role=config["PRIVACY_OPERATOR_ROLE"])
