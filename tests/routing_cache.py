"""Build each URL rule's builder function once per test session, not once per app.

Most tests create an app of their own (``tests/conftest.py``), and most of the time
``create_app`` takes goes to Werkzeug compiling a builder function for each of the
portal's ~600 rules, twice (generating an AST, then ``compile``): about 0.2 s an app, some
minutes over the suite. The function Werkzeug generates depends only on the rule's parsed
parts, its defaults and whether unknown arguments are appended — not on the app or the
Rule object (it takes the rule as its first argument) — so the same rule in the next app
can reuse it. Nothing the portal does changes: ``url_for`` and routing work as without
the cache. If Werkzeug's internals change (no ``_compile_builder``), nothing is patched.
"""

from __future__ import annotations

from werkzeug.routing import rules

_original = getattr(rules.Rule, "_compile_builder", None)
_builders: dict[tuple, object] = {}


def _key(rule: rules.Rule, append_unknown: bool) -> tuple:
    defaults = rule.defaults or {}
    return (rule.rule, tuple(rule._trace), append_unknown,
            tuple(sorted((name, repr(value)) for name, value in defaults.items())),
            tuple(sorted((name, type(converter).__qualname__, repr(vars(converter)))
                         for name, converter in rule._converters.items() if name in defaults)))


def _cached_compile_builder(self, append_unknown: bool = True):
    try:
        key = _key(self, append_unknown)
        hash(key)
    except (AttributeError, TypeError):
        return _original(self, append_unknown)
    if key not in _builders:
        _builders[key] = _original(self, append_unknown)
    return _builders[key]


def install() -> None:
    """Patch Werkzeug's Rule (once); a no-op if its internals are not what we expect."""
    if _original is not None and not hasattr(rules.Rule, "_frikomport_cached"):
        rules.Rule._compile_builder = _cached_compile_builder
        rules.Rule._frikomport_cached = True
