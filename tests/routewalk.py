"""Walk the app's own routes with a seeded world: the fuzz test and the XSS test use it.

The world is seeded by :mod:`tests.seeded_world`. Nothing here lists pages by hand.
Routes come from ``app.url_map``; path arguments are filled from consistent "fills" of
real ids in the world (one fill per tenant and kind of object); form fields and query
parameters are discovered by parsing the forms and links of every page, and by recording
which parameters the views read.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from tests.seeded_world import ROLES, World, log_in, role_clients

ARGUMENT = re.compile(r"<(?:[^<>]*:)?(\w+)>")
SKIPPED_ENDPOINTS = frozenset({"static"})


# Routes -----------------------------------------------------------------------------------

def routes(app) -> list[tuple[str, str]]:
    """Every (endpoint, method) the app serves, in a stable order."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.add((rule.endpoint, method))
    return sorted(found)


def rule_for(app, endpoint: str) -> Rule:
    [rule] = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    return rule


def build_path(rule: Rule, values: dict[str, str]) -> str:
    """The rule's path with each argument replaced by ``values[name]`` (percent-encoded)."""
    return ARGUMENT.sub(lambda m: quote(values[m.group(1)], safe=""), rule.rule)


def fills_for(rule: Rule, world: World) -> list[dict[str, str]]:
    """The world's fills that provide every argument of the rule (distinct paths only)."""
    seen, result = set(), []
    for fill in world.fills:
        if rule.arguments <= fill.keys():
            values = {name: fill[name] for name in rule.arguments}
            key = tuple(sorted(values.items()))
            if key not in seen:
                seen.add(key)
                result.append(values)
    assert result, f"no fill in the seeded world provides {sorted(rule.arguments)} " \
                   f"for {rule.rule}: add it to seed_world()"
    return result


def get_paths(app, world: World):
    """(endpoint, path) of every GET route, once for each distinct fill of its arguments."""
    for endpoint, method in routes(app):
        if method == "GET":
            rule = rule_for(app, endpoint)
            for values in fills_for(rule, world):
                yield endpoint, build_path(rule, values)


# Discovering parameters -------------------------------------------------------------------

@dataclass
class FormSpec:
    """What a page offers for one endpoint: the fields of a form, with their values."""

    method: str
    fields: list[tuple[str, str, str]]  # name, value shown, kind (input type)
    multipart: bool = False
    files: list[str] = field(default_factory=list)
    role: str = "anonymous"  # who was shown the form
    page: str = ""  # the path of the form's action

    @property
    def size(self) -> int:
        return len(self.fields) + len(self.files)


class _PageParser(HTMLParser):
    """Collects forms (fields with their default values) and link targets of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self._form = {"action": attrs.get("action", ""),
                          "method": attrs.get("method", "get").upper(),
                          "multipart": "multipart" in attrs.get("enctype", ""),
                          "fields": [], "files": []}
            self.forms.append(self._form)
        elif self._form is not None and tag == "button" and attrs.get("formaction"):
            self._button_form(attrs)
        elif self._form is not None and tag in ("input", "button") and attrs.get("name"):
            self._input(attrs)
        elif self._form is not None and tag == "select":
            self._select, self._select_value = attrs.get("name"), None
        elif self._select and tag == "option":
            if self._select_value is None or "selected" in attrs:
                self._select_value = attrs.get("value", "")
        elif self._form is not None and tag == "textarea":
            self._textarea, self._text = attrs.get("name"), []

    def _button_form(self, attrs):
        """A button with its own ``formaction`` posts the enclosing form elsewhere: a form
        of its own for discovery, with the fields seen so far (e.g. per-row actions)."""
        self.forms.append(dict(self._form, action=attrs["formaction"],
                               fields=list(self._form["fields"]),
                               files=list(self._form["files"])))

    def _input(self, attrs):
        kind = attrs.get("type", "text")
        if kind == "file":
            self._form["files"].append(attrs["name"])
        elif kind in ("checkbox", "radio"):
            if "checked" in attrs:
                self._form["fields"].append((attrs["name"], attrs.get("value", "y"), kind))
        elif kind not in ("submit", "button") or attrs.get("value"):
            self._form["fields"].append((attrs["name"], attrs.get("value", ""), kind))

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self._form["fields"].append((self._select, self._select_value or "", "select"))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self._form["fields"].append((self._textarea, "".join(self._text).lstrip("\n"),
                                         "textarea"))
            self._textarea = None
        elif tag == "form":
            self._form = None


def parse_page(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    return parser


class Discovery:
    """Per (endpoint, method): the richest form seen for it, and every query parameter
    and form field name that pages link to or that the views read."""

    def __init__(self, app):
        self.app = app
        self.adapter = app.url_map.bind("localhost")
        self.forms: dict[tuple[str, str], FormSpec] = {}
        self.names: dict[tuple[str, str], set[str]] = defaultdict(set)
        # Feeds and exports (non-HTML GET answers): path → a role that may read it.
        self.readers: dict[str, str] = {}

    def endpoint_of(self, url: str, method: str) -> str | None:
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != "localhost":
            return None
        try:
            endpoint, _values = self.adapter.match(parts.path, method)
        except HTTPException:
            return None
        return endpoint

    def read_page(self, page_url: str, html: str, role: str) -> None:
        page = parse_page(html)
        for form in page.forms:
            action = form["action"] or page_url
            endpoint = self.endpoint_of(action, form["method"])
            if endpoint is None:
                continue
            key = (endpoint, form["method"])
            spec = FormSpec(form["method"], form["fields"], form["multipart"], form["files"],
                            role, urlsplit(action).path)
            # The richest form wins; among equals the first seen, which belongs to the
            # first (most complete) fill and the most privileged role.
            if key not in self.forms or spec.size > self.forms[key].size:
                self.forms[key] = spec
        for link in page.links:
            endpoint = self.endpoint_of(link, "GET")
            if endpoint:
                self.names[(endpoint, "GET")].update(
                    name for name, _v in parse_qsl(urlsplit(link).query))

    def record(self, endpoint: str, method: str, names: set[str]) -> None:
        self.names[(endpoint, method)].update(names)

    def fields(self, endpoint: str, method: str) -> tuple[FormSpec, set[str]]:
        key = (endpoint, method)
        spec = self.forms.get(key, FormSpec(method, [], page=""))
        extra = self.names[key] - {name for name, _v, _k in spec.fields} - set(spec.files)
        return spec, extra


def recording_request_class(base):
    """A request class whose args/form/files remember every key a view asks for."""
    read: set[str] = set()
    storage = base.parameter_storage_class

    class RecordingDict(storage):
        def __getitem__(self, key):
            read.add(key)
            return super().__getitem__(key)

        def getlist(self, key, *args, **kwargs):
            read.add(key)
            return super().getlist(key, *args, **kwargs)

        def __contains__(self, key):
            read.add(key)
            return super().__contains__(key)

        def get(self, key, default=None, type=None):
            read.add(key)
            return super().get(key, default=default, type=type)

    class RecordingRequest(base):
        parameter_storage_class = RecordingDict

    return RecordingRequest, read


def discover(app, world: World) -> Discovery:
    """Visit every GET route as every role, then POST an empty form to every POST route as
    the most privileged roles, collecting forms, links and the parameters views read.
    (The POSTs may change the world: callers seed a fresh one afterwards.)"""
    discovery = Discovery(app)
    original = app.request_class
    recording, read = recording_request_class(original)
    app.request_class = recording
    clients = role_clients(app, world)
    try:
        for endpoint, path in get_paths(app, world):
            for role in reversed(ROLES):  # readers: the most privileged role first
                read.clear()
                response = clients[role].get(path)
                discovery.record(endpoint, "GET", set(read))
                if "html" in response.content_type:
                    discovery.read_page(path, response.get_data(as_text=True), role)
                elif response.status_code == 200 and endpoint != "core.healthz":
                    discovery.readers.setdefault(path, role)
        for endpoint, method in routes(app):
            if method != "POST":
                continue
            path = build_path(rule_for(app, endpoint), fills_for(rule_for(app, endpoint),
                                                                  world)[0])
            for role in ("site_admin", "admin"):
                client = app.test_client()
                log_in(client, world.users[role])
                read.clear()
                client.post(path)
                discovery.record(endpoint, method, set(read))
    finally:
        app.request_class = original
    return discovery
