"""What stands in for a person once their data is removed (shared by the retention
rules and account deletion)."""

from collections.abc import Callable

REMOVED = "[removed]"  # stands in for an address, name or phone removed from a text

# What an anonymised registration holds instead of the person (columns are NOT NULL).
# Without an account and a confirmed address a row is outside the "one active
# registration per address" index, so any number of them can share the empty address.
ANONYMOUS = {"user_id": None, "name": "", "email": "", "phone": "", "comment": "",
             "employer_name": "", "email_confirmed_at": None}


def replace_in_strings(value, replace: Callable[[str], str]):
    """``value`` (JSON: audit details) with ``replace`` applied to every string in it,
    at any depth."""
    if isinstance(value, dict):
        return {key: replace_in_strings(item, replace) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_in_strings(item, replace) for item in value]
    if isinstance(value, str):
        return replace(value)
    return value
