"""No text escapes translation: every page and every e-mail rendered in a pseudo-language.

The pseudo catalogue wraps each translation in ⟦…⟧. Pages are walked as every role (routes
and path values from ``tests/routewalk.py``) and every e-mail template is rendered; what is
left after removing the wrapped texts, the data people stored and Babel's own formatting
(dates, numbers in the pseudo-language's locale) must hold no word of the portal's own
vocabulary — the words of its English msgids and of their Bokmål and Nynorsk translations.
Such a word is a hard-coded text, or a translatable one that was never marked.
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import String, Text, select, update

from frikomport.accounts.models import User
from frikomport.extensions import db
from frikomport.notifications.services import render_email
from frikomport.tenancy.models import Organisation
from tests.conftest import _wipe, make_app
from tests.routewalk import get_paths
from tests.seeded_world import ROLES, role_clients, seed_world

PSEUDO = "se"  # a locale Babel knows and the portal does not offer: formats stay its own
CATALOGUES = Path(__file__).resolve().parents[1] / "frikomport" / "translations"
WRAPPED = re.compile(r"⟦[^⟦⟧]*⟧")
WORD = re.compile(r"[^\W\d_]{3,}")
ADDRESS = re.compile(r"(?:https?://|mailto:|/)\S+|\S+@\S+|\b[\w-]+\.(?:no|org|com)\b")
# Names that are the same in every language.
PROPER_NAMES = {"FriKomPort", "CSV", "Excel", "Designsystemet", "Digdir", "WCAG", "Lovdata",
                "uustatus", "uutilsynet", "diskrimineringsnemnda", "Bokmål", "Nynorsk",
                "English", "PDF", "HTTPS"}
WRITTEN_IN_E_MAILS = {"sjukdom", "emne", "tekst"}  # the organiser's words in _e_mail_context
VISIBLE_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
EMAILS = sorted(p.stem for p in (CATALOGUES.parents[1] / "templates" / "email").glob("*.txt")
                if not p.stem.startswith("_"))


def _pseudo_catalogue(directory: Path) -> None:
    with open(CATALOGUES / "messages.pot", "rb") as f:
        template = read_po(f)
    catalogue = Catalog(locale=PSEUDO)
    for message in template:
        if not message.id:
            continue
        if message.pluralizable:  # as many forms as the locale has: the rest are plural
            one, other = message.id
            strings = (f"⟦{one}⟧", *[f"⟦{other}⟧"] * (catalogue.num_plurals - 1))
            catalogue.add(message.id, strings, context=message.context)
        else:
            catalogue.add(message.id, f"⟦{message.id}⟧", context=message.context)
    target = directory / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.mo", "wb") as f:
        write_mo(f, catalogue)


def _vocabulary() -> set[str]:
    """The words of the portal's own texts, in every language (longer than two letters)."""
    words = set()
    for locale in ("nb", "nn"):
        with open(CATALOGUES / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
            for message in read_po(f):
                for text in [message.id, message.string]:
                    for part in (text if isinstance(text, (tuple, list)) else [text]):
                        words.update(w.lower() for w in WORD.findall(part or ""))
    return words - {w.lower() for w in PROPER_NAMES}


def _stored_words() -> set[str]:
    """Every word in the database: what people wrote is shown as they wrote it."""
    words = set()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
        for row in db.session.execute(select(*columns)) if columns else []:
            for value in row:
                words.update(w.lower() for w in WORD.findall(str(value or "")))
    return words


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        attrs = dict(attrs)
        self.parts += [attrs[a] for a in VISIBLE_ATTRIBUTES if attrs.get(a)]
        if tag == "input" and attrs.get("type") in ("submit", "button"):
            self.parts.append(attrs.get("value") or "")  # a <button> shows its content

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def leftovers(text: str, vocabulary: set[str], stored: set[str]) -> list[str]:
    """Words of the portal's vocabulary outside the wrapped (translated) texts, each with
    the text around it (to find where it comes from)."""
    while WRAPPED.search(text):
        text = WRAPPED.sub(" ", text)
    text = re.sub(r"\s+", " ", ADDRESS.sub(" ", text))
    return [f"{m.group()!r} in …{text[max(0, m.start() - 40):m.end() + 40]}…"
            for m in WORD.finditer(text) if m.group().lower() in vocabulary
            and m.group().lower() not in stored and m.group() not in PROPER_NAMES]


@pytest.fixture(scope="module")
def pseudo(database_url, tmp_path_factory):
    """An app that offers the pseudo-language, on a seeded world; the vocabulary."""
    directory = tmp_path_factory.mktemp("pseudo")
    _pseudo_catalogue(directory / "translations")
    app = make_app(database_url, directory, BABEL_TRANSLATION_DIRECTORIES=str(
        directory / "translations"), LANGUAGES={PSEUDO: "Pseudo", "nb": "Bokmål"})
    with app.app_context():
        _wipe(db.engine)
        world = seed_world()
        db.session.execute(update(User).values(locale=PSEUDO))  # their messages too
        db.session.execute(update(Organisation).values(language=PSEUDO))
        db.session.commit()
        yield app, world, _vocabulary(), _stored_words() | WRITTEN_IN_E_MAILS
        db.session.remove()
        _wipe(db.engine)
        db.engine.dispose()


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_translated(pseudo, role):
    app, world, vocabulary, stored = pseudo
    client = role_clients(app, world)[role]
    client.post("/language", data={"language": PSEUDO})  # for the visitor
    found, pages = {}, 0
    for _endpoint, path in get_paths(app, world):
        response = client.get(path)
        if "html" not in response.content_type or 300 <= response.status_code < 400:
            continue  # a redirect's body is Werkzeug's, and nobody sees it
        pages += 1
        parser = _VisibleText()
        parser.feed(response.get_data(as_text=True))
        words = leftovers(" ".join(parser.parts), vocabulary, stored)
        if words:
            found[path] = " ".join(parser.parts)
    assert pages, "no page was rendered"
    # The walk itself stores words (an audit entry's action code, shown in My data).
    stored = stored | _stored_words()
    found = {path: words for path, text in found.items()
             if (words := leftovers(text, vocabulary, stored))}
    assert not found, f"untranslated words on {len(found)} of {pages} pages: {found}"


@pytest.mark.parametrize("promoted", [False, True])  # the two versions of a confirmation
@pytest.mark.parametrize("template", EMAILS)
def test_every_e_mail_is_translated(pseudo, template, promoted):
    app, world, vocabulary, stored = pseudo
    context = _e_mail_context(world) | {"promoted": promoted}
    with app.test_request_context():
        subject, body = render_email(template, PSEUDO, **context)
    words = leftovers(f"{subject}\n{body}", vocabulary, stored)
    assert not words, f"{template}: untranslated {words}"


def _e_mail_context(world) -> dict:
    """One context that every e-mail template can be rendered with (the seeded world)."""
    from frikomport.competence.models import Certificate, Competence, CompetenceRecord
    from frikomport.registrations.models import Registration
    from frikomport.tenancy.models import Role

    registration = db.session.scalars(select(Registration).where(
        Registration.user_id == world.users["employee"].id)).first()
    return {"registration": registration, "course": registration.course,
            "user": world.users["employee"], "organisation": registration.course.organisation,
            "role": Role.ORGANISER, "inviter": "Anne Admin", "name": "Nina Ny",
            "link": "https://kurs.example.org/x", "login": "https://kurs.example.org/login",
            "reset": "https://kurs.example.org/reset", "cancel_url": "https://kurs.example.org/c",
            "course_url": "https://kurs.example.org/k", "guest_data_url": "https://kurs.example.org/g",
            "days": 3, "hours": 24, "position": 2, "reason": "Sjukdom", "subject": "Emne",
            "body": "Tekst", "promoted": False,
            # certificate_issued: a certificate as issued for this registration
            "certificate": Certificate(
                name=registration.name, course_title=registration.course.title,
                host_name=registration.course.organisation.name, code="ABCD-EFGH-JKMN"),
            "verify_url": "https://kurs.example.org/v", "mine_url": "https://kurs.example.org/m",
            # competence_record_decided: an external certificate, approved with a note
            "record": CompetenceRecord(
                title="Emne", decision_note="Sjukdom", valid_until=date(2030, 1, 1),
                competence=Competence(name=registration.course.title),
                user=world.users["employee"], decided_by=world.users["employee"]),
            "approved": True, "url": "https://kurs.example.org/me/competence",
            # competence_expiry(_leader), competence_invitation
            "competence": Competence(name=registration.course.title),
            "valid_until": date(2030, 1, 1), "leader": world.users["admin"],
            "offers": [(registration.course, "https://kurs.example.org/k")],
            "renewals": [(Competence(name=registration.course.title),
                          [(registration.course, "https://kurs.example.org/k")])],
            "lines": [(world.users["employee"], Competence(name=registration.course.title),
                       date(2030, 1, 1))],
            "competences": [Competence(name=registration.course.title)]}
