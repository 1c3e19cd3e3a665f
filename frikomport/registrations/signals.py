"""Signals other packages subscribe to, so registrations need not import them.

Receivers run inside the sender's transaction and must only add, change or delete rows
in the session (never commit), and must not read row by row: bulk attendance sends one
signal per participant.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Registration (state already changed); kwargs: session, actor, previous —
# a participant was marked as attended, or an attendance was taken back.
attendance_changed = _signals.signal("attendance-changed")
