"""What can go wrong on the way to a provider and back, each with its HTTP status.

Every failure of single sign-on ends as a page that says what happened and what to do,
never a server error: the provider cannot be reached or answers nonsense (502), the
login came back wrong or too late (400), or the provider or the portal refused the
person (403).
"""

from __future__ import annotations

from frikomport.errors import DomainError


class SsoError(DomainError):
    status = 400


class ProviderUnavailable(SsoError):
    """The provider did not answer, or answered something we cannot use."""

    status = 502


class LoginRefused(SsoError):
    """The provider said no, or the portal will not let this identity in."""

    status = 403
