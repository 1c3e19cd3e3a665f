"""In-process outbox sender for the embedded (single-server) default.

Started lazily by the first request a serving process handles, so CLI commands and
tests never start it. Larger installs run ``flask outbox send --loop`` instead.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from frikomport.db import db
from frikomport.notifications.delivery import deliver_all_due
from frikomport.notifications.transports import transport_from_config

log = logging.getLogger(__name__)

_lock = threading.Lock()
_started: set[int] = set()


def send_due_messages(app: Flask):
    config = app.config
    return deliver_all_due(db.session, transport_from_config(config), config["MAIL_FROM"],
                           config["OUTBOX_MAX_ATTEMPTS"])


def _run(app: Flask, stop: threading.Event) -> None:
    while not stop.wait(app.config["OUTBOX_POLL_SECONDS"]):
        with app.app_context():
            try:
                send_due_messages(app)
            except Exception:  # keep the thread alive; the next round retries
                log.exception("Outbox worker round failed")
                db.session.rollback()
            finally:
                db.session.remove()


def ensure_started(app: Flask) -> threading.Event | None:
    """Start the sender thread once per app object; return its stop event."""
    with _lock:
        if id(app) in _started:
            return None
        _started.add(id(app))
    stop = threading.Event()
    thread = threading.Thread(target=_run, args=(app, stop), name="outbox-sender", daemon=True)
    thread.start()
    return stop
