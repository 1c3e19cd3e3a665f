"""Signals other packages subscribe to, so courses need not import them.

Receivers run inside the sender's transaction and must only add rows to the session
(e.g. outbox e-mails, search-index jobs), never commit.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Course; kwargs: session, actor, reason
course_cancelled = _signals.signal("course-cancelled")
# sender: the Course; kwargs: session — created, edited, published, cancelled or deleted
course_changed = _signals.signal("course-changed")
# sender: the Course; kwargs: session — whether it has free seats may have changed
seats_changed = _signals.signal("seats-changed")
