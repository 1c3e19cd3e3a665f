"""The login pages' Content Security Policy lets their forms lead to the providers.

``form-action 'self'`` also covers the redirects that follow a form's submission, so a
browser would stop the 303 from "Continue" (or an organisation's button) to the
provider's authorization endpoint. Pages with those forms name the enabled providers'
origins in ``form-action`` as well; every other page keeps ``'self'`` alone.
"""

from __future__ import annotations

import functools
import re

from flask import make_response

from frikomport.extensions import db
from frikomport.sso.lookup import login_providers
from frikomport.web import SECURITY_HEADERS

ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-:\[\]]+$")


def provider_forms(view):
    """Decorate a view whose page holds a form that may send people to a provider."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        origins = sorted({p.authorization_origin for p in login_providers(db.session)
                          if ORIGIN.match(p.authorization_origin)})
        if origins:
            policy = SECURITY_HEADERS["Content-Security-Policy"]
            response.headers["Content-Security-Policy"] = policy.replace(
                "form-action 'self'", "form-action 'self' " + " ".join(origins))
        return response

    return wrapper
