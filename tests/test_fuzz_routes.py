"""Property-based fuzzing of every route: hostile input is answered with a 4xx, never a 5xx.

For each (endpoint, method) in the app's ``url_map`` Hypothesis draws a role (anonymous,
employee, organiser, admin, site admin), a path built from real ids of a seeded world
(or hostile values), and the route's form fields and query parameters — discovered from
the pages' own forms and links and from what the views read. Starting from the values
the page itself shows (so that deep code is reached), a few of them are replaced by
hostile values chosen by the kind of field: NUL and other control characters, CR/LF,
100,000-character strings, invalid UTF-8, huge and negative numbers, impossible dates,
arrays where a scalar is expected, unknown parameters, and missing fields.

The app runs with exceptions propagated, so a server error fails the example with its
traceback. Every e-mail queued by an accepted change is built, and the feeds and exports
are read again after the route's examples, so stored text that breaks them later is
caught too.

FUZZ_EXAMPLES (default 15) bounds the examples per route; set it higher (e.g. 200) for a
deeper run before a release.
"""

from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ElementTree
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from openpyxl import load_workbook
from sqlalchemy import select

from frikomport import create_app
from frikomport.extensions import db
from frikomport.notifications.models import OutboxMessage, OutboxStatus
from frikomport.notifications.transports import build_mime
from frikomport.sso import metadata
from tests.conftest import _wipe, make_app
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import write_deferred
from tests.routewalk import build_path, discover, fills_for, routes, rule_for
from tests.seeded_world import ROLES, newcomer_client, role_clients, seed_world
from tests.snapshot import SeededSnapshot

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
LONG = "x" * 100_000
TEXT = {
    "nul": ["\x00", "a\x00b", "Førstehjelp\x00"],
    "newline": ["Kurs\r\nBcc: x@evil.example", "\r\n", "a\rb", "a\nb", "\u2028x\u2029", "\x85"],
    "control": ["\x01\x02\x1b[31m\x7f", "a\x0bb\x0c", "\x9f", "\x08"],
    "size": [LONG, "", " ", "ø" * 5000],
    "other": ["<img src=x onerror=alert(1)>", "' OR '1'='1", "%_\\", "\u202eevil", "🎓",
              "../../etc/passwd", "a@b", "javascript:alert(1)"],
}
NUMBERS = ["0", "-1", "-2147483649", "2147483648", "9223372036854775808",
           "99999999999999999999999999999999", "1e309", "NaN", "1.5", "0x10", "٣", "²", ""]
DAYS = ["0000-00-00", "0001-01-01", "9999-12-31", "10000-01-01", "2026-02-30", "2026-13-01",
        "-2026-01-01", ""]
MONTHS = ["0001-01", "9999-12", "0000-01", "2026-00", "2026-13", "10000-01", "1-1", ""]
TIMES = ["24:00", "23:59:60", "00:00", "99:99", "-1:00", ""]
DATETIMES = ["0001-01-01T00:00", "9999-12-31T23:59", "2026-03-29T02:30", "2026-10-25T02:30",
             "2026-02-30T10:00", "0000-00-00T00:00", ""]
INVALID_UTF8 = [b"\xff\xfe", b"caf\xe9", b"\xc3\x28", b"\xed\xa0\x80"]
UNKNOWN_KEYS = ["_method", "_external", "_anchor", "_scheme", "__proto__", "x\x00y", "q[]"]
BY_KIND = {"date": DAYS, "datetime-local": DATETIMES, "time": TIMES, "number": NUMBERS,
           "month": MONTHS, "page": NUMBERS}

any_text = st.one_of(*(st.sampled_from(values) for values in TEXT.values()))
anything = st.one_of(
    any_text, st.sampled_from(NUMBERS + DAYS + MONTHS + TIMES + DATETIMES),
    st.sampled_from(INVALID_UTF8),
    st.text(alphabet=st.characters(max_codepoint=0x9f), max_size=8),
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70).map(str),
)
hostile_path = st.one_of(st.sampled_from(["0", "2147483648", "99999999999999999999", "-1",
                                          "\x00", "a\x00", "%00", "\x01", "ø", "x" * 3000]),
                         st.text(max_size=5))


def hostile_for(kind: str):
    """Mostly values that attack this kind of field, sometimes anything at all."""
    own = st.sampled_from(BY_KIND[kind]) if kind in BY_KIND else any_text
    return st.one_of(own, own, own, anything)


def _provider_document(issuer: str, fresh: bool = False) -> dict:
    """The discovery document of the seeded world's login service, which cannot be
    reached from here: without it the way to the provider (and saving its settings) would
    end at the "cannot be reached" page (502) before any of the input is used."""
    return {"issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks",
            "end_session_endpoint": f"{issuer}/logout"}


@pytest.fixture(scope="module")
def fuzz_setup(database_url, tmp_path_factory):
    """One app per backend, the parameters discovered on a seeded world, and a snapshot
    of a freshly seeded world that each test starts from (written back, not seeded again:
    see :mod:`tests.snapshot`)."""
    app = make_app(database_url, tmp_path_factory.mktemp("fuzz"))
    with pytest.MonkeyPatch.context() as patch, app.app_context():
        patch.setattr(metadata, "discover", _provider_document)
        _wipe(db.engine)
        discovery = discover(app, seed_world())
        db.session.remove()
        _wipe(db.engine)
        yield app, discovery, SeededSnapshot()
        db.session.remove()
        _wipe(db.engine)
        db.engine.dispose()


def _route_ids():
    return routes(create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True}))


@st.composite
def requests(draw, rule, fills, spec, extra_names):
    """One request: role, path, parameters and files; a few values are made hostile."""
    values = dict(draw(st.sampled_from(fills)))
    for name in values:
        if draw(st.integers(0, 5)) == 0:
            values[name] = draw(hostile_path)
    fields = [*spec.fields, *((name, "", name) for name in sorted(extra_names))]
    params = [(name, value) for name, value, _kind in fields]
    for _ in range(draw(st.integers(0, min(3, len(fields))))):
        index = draw(st.integers(0, len(fields) - 1))
        name, _default, kind = fields[index]
        mode = draw(st.integers(0, 9))
        if mode <= 6:
            params[index] = (name, draw(hostile_for(kind)))
        elif mode <= 8:
            params.append((name, draw(hostile_for(kind))))  # an array where one is expected
        else:
            params[index] = None  # missing
    params = [p for p in params if p is not None]
    if draw(st.integers(0, 2)) == 0:
        params.append((draw(st.sampled_from(UNKNOWN_KEYS)), draw(anything)))
    files = {name: (io.BytesIO(draw(st.sampled_from([b"", b"%PDF-1.4", b"\x89PNG\r\n",
                                                      b"\x00" * 64]))),
                    draw(st.sampled_from(["a.pdf", "x\x00.pdf", "..\\..\\a.png", "", "a" * 300,
                                          "logo.png", "k\r\nurs.pdf", "\x01.pdf"])))
             for name in spec.files}
    return draw(st.sampled_from(ROLES)), build_path(rule, values), params, files


def _send(client, method, path, params, files):
    query = urlencode(params)
    if method == "GET":
        return client.get(path, query_string=query)
    if files:
        data: dict[str, list] = {}
        for key, value in params:
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            data.setdefault(key, []).append(text)
        return client.post(path, data=data | files, content_type="multipart/form-data")
    # Views also read the query string on POSTs (e.g. ?next=), so it gets the values too.
    return client.post(path, query_string=query, data=query,
                       content_type="application/x-www-form-urlencoded")


CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_document(content_type: str, body: bytes, where: str) -> None:
    """A feed or export must stay well-formed whatever text was stored."""
    if "calendar" in content_type:
        assert not CONTROL_BYTES.search(body), where
        Calendar.from_ical(body)
    elif "spreadsheetml" in content_type:
        load_workbook(io.BytesIO(body))
    elif "xml" in content_type:
        ElementTree.fromstring(body)
    elif "csv" in content_type:
        assert not CONTROL_BYTES.search(body.replace(b"\r\n", b"\n")), where


def _problem(action, where) -> list[str]:
    try:
        action()
    except Exception as error:  # collected and raised by the caller, never swallowed
        return [f"{where}: {type(error).__name__}: {str(error)[:150]}"]
    return []


def _raise_any(problems: list[str]) -> None:
    assert not problems, "\n".join(problems)


def reader_problems(clients, readers) -> list[str]:
    """Read every feed and export; report every one that breaks (not only the first, so
    a broken CSV cannot hide a broken XLSX of the same data)."""
    problems = []
    for path, role in sorted(readers.items()):
        problems += _problem(lambda c=clients[role], p=path: _check_reader(c, p),
                             f"{path} as {role}")
    return problems


def _check_reader(client, path) -> None:
    response = client.get(path)  # a server error propagates (the app runs in testing mode)
    assert response.status_code < 500, response.status_code
    if response.status_code == 200:
        check_document(response.content_type, response.get_data(), path)


def outbox_problems(sender: str) -> list[str]:
    """Every queued e-mail can be turned into a message (no header injection). Checked
    messages are marked sent, broken ones too, so a later example is not blamed for them."""
    problems = []
    write_deferred()
    for message in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.PENDING)):
        where = f"e-mail {message.subject[:40]!r}"
        problems += _problem(lambda m=message: build_mime(m, sender), where)
        for attachment in message.attachments:
            problems += _problem(lambda a=attachment: check_document(
                a.content_type, a.data, a.filename), f"{where}, {attachment.filename}")
        message.status = OutboxStatus.SENT
    db.session.commit()
    return problems


def after_change_problems(app, clients, discovery) -> list[str]:
    """What was stored must not break any feed, export or e-mail built from it later."""
    return [*reader_problems(clients, discovery.readers),
            *outbox_problems(app.config["MAIL_FROM"])]


@pytest.mark.parametrize(("endpoint", "method"), _route_ids(),
                         ids=[f"{m} {e}" for e, m in _route_ids()])
def test_no_route_answers_hostile_input_with_a_server_error(fuzz_setup, endpoint, method):
    app, discovery, seeded = fuzz_setup
    rule = rule_for(app, endpoint)
    spec, extra = discovery.fields(endpoint, method)
    with app.app_context():
        world = seeded.restore()
        clients = role_clients(app, world)
        fills = fills_for(rule, world)

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(request=requests(rule, fills, spec, extra))
        def fuzz(request):
            role, path, params, files = request
            response = _send(clients[role], method, path, params, files)
            assert response.status_code < 500, (role, method, path, params)
            if method == "POST" and response.status_code < 400:
                _raise_any(outbox_problems(app.config["MAIL_FROM"]))
                changed.append(params)

        changed: list = []
        try:
            fuzz()
            # Reading every feed and export after each example would dominate the run;
            # once after all of them still catches stored text that breaks one (and the
            # sweep below names the field).
            if changed:
                _raise_any(reader_problems(clients, discovery.readers))
        finally:
            db.session.remove()
            _wipe(db.engine)


SWEEP = {"missing": None, "empty": "", "nul": "a\x00b", "newline": "Kurs\r\nBcc: x@evil.example",
         "control": "a\x01\x1b[31mb", "long": LONG}
SWEEP_BY_KIND = {"date": ["0001-01-01", "9999-12-31"], "datetime-local": ["0001-01-01T00:00"],
                 "number": ["2147483648", "-99999999999"], "time": ["24:00"]}


def _form_routes():
    return [(e, m) for e, m in _route_ids() if m == "POST"]


@pytest.mark.parametrize(("endpoint", "method"), _form_routes(),
                         ids=[f"{m} {e}" for e, m in _form_routes()])
def test_every_form_field_alone_survives_hostile_values(fuzz_setup, endpoint, method):
    """The systematic half: each field of each form, one at a time, missing or replaced by
    each hostile value while the rest of the form stays valid — so a bug that needs
    every other field to be right (as a course session with only its end time empty)
    is found without luck. Hypothesis, above, tries the combinations.

    Each post comes from someone new in the role the form was shown to (a person who
    registered with the first value could not register again with the next one), and
    empty text fields get plausible values, so the form is otherwise valid. Whenever a
    value with control characters was accepted, every feed, export and queued e-mail is
    read again at once (a later value would overwrite it)."""
    app, discovery, seeded = fuzz_setup
    spec, extra = discovery.fields(endpoint, method)
    fields = [*spec.fields, *((name, "", name) for name in sorted(extra))]
    if not fields or not spec.page:
        pytest.skip("no page shows a form for this route")
    failures, seen = [], set()
    with app.app_context():
        world = seeded.restore()
        clients = role_clients(app, world)
        try:
            for index, (name, _value, kind) in enumerate(fields):
                for value in [*SWEEP.values(), *SWEEP_BY_KIND.get(kind, [])]:
                    params = _plausible(fields)
                    if value is None:
                        del params[index]
                    else:
                        params[index] = (name, value)
                    client = newcomer_client(app, world, spec.role)
                    failures += _failure(name, value, lambda c=client, p=params: _answer(
                        _send(c, method, spec.page, p, {})))
                    if value and CONTROL_TEXT.search(value):
                        # A value that broke a feed stays stored: report each problem
                        # once, with the value that caused it, not with every later one.
                        new = [problem for problem in after_change_problems(
                            app, clients, discovery) if problem not in seen]
                        seen.update(new)
                        failures += [(name, value[:40], f"stored, then read: {problem}")
                                     for problem in new]
        finally:
            db.session.remove()
            _wipe(db.engine)
    report = "\n".join(f"  {name} = {value!r}: {error}" for name, value, error in failures)
    assert not failures, f"{spec.role} posting to {spec.page}:\n{report}"


CONTROL_TEXT = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_COUNTER = iter(range(10**9))


def _plausible(fields) -> list[tuple[str, str]]:
    """The form's own values, with empty text fields filled as a person would."""
    params = []
    for name, value, kind in fields:
        if not value and kind == "email":
            value = f"fuzz{next(_COUNTER)}@example.org"
        elif not value and kind in ("text", "textarea", "tel", "search"):
            value = "Fuzz 12345678"
        elif not value and kind == "password":
            value = DEFAULT_PASSWORD
        params.append((name, value))
    return params


def _answer(response) -> None:
    assert response.status_code < 500, response.status_code


def _failure(name, value, action) -> list:
    """Run one check; a failure is collected (with what caused it) rather than raised,
    so that one run lists every field and value that breaks the route."""
    try:
        action()
    except Exception as error:  # reported below, never swallowed
        db.session.rollback()
        shown = value if value is None or len(value) < 40 else value[:20] + "…"
        return [(name, shown, f"{type(error).__name__}: {str(error)[:150]}")]
    return []
