"""Signals other packages subscribe to, so accounts need not import them.

Receivers run inside the sender's transaction and only change rows in the session.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the User whose password was just set (changed, reset or chosen); kwargs:
# session. Single sign-on forgets the links that were proved by the old password.
password_set = _signals.signal("password-set")
