"""Bokmål, Nynorsk and English: complete catalogues, who sees which language, and e-mails
in the recipient's language (språklova)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from frikomport.courses.models import Visibility
from frikomport.registrations.models import RegistrationState
from frikomport.tenancy.models import Role
from tests.factories import CourseFactory, OrganisationFactory, UserFactory, member, register
from tests.helpers import outbox

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = ROOT / "frikomport" / "translations"
LANGUAGES = ("nb", "nn", "en")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _catalogue(locale: str):
    with open(CATALOGUES / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def _strings(message) -> list[str]:
    return list(message.string) if message.pluralizable else [message.string]


@pytest.fixture(scope="module")
def template_ids(tmp_path_factory) -> set:
    """The msgids the code and templates use now (a fresh extraction)."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run([Path(sys.executable).parent / "pybabel", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2",
                    "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with open(pot, "rb") as f:
        return {(m.id, m.context) for m in read_po(f) if m.id}


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_text_is_translated(template_ids, locale):
    """Every text the code uses is in the catalogue, translated, not fuzzy, with the same
    placeholders (run `make messages` and translate what is new)."""
    catalogue = _catalogue(locale)
    have = {(m.id, m.context): m for m in catalogue if m.id}
    assert template_ids <= have.keys(), \
        f"not in {locale}: {sorted(template_ids - have.keys(), key=str)}"
    problems = []
    for key in sorted(template_ids, key=str):
        message = have[key]
        wanted = set(PLACEHOLDER.findall(message.id if isinstance(message.id, str)
                                         else message.id[0]))
        for string in _strings(message):
            if not string or message.fuzzy:
                problems.append(f"untranslated: {key[0]!r}")
            elif set(PLACEHOLDER.findall(string)) - wanted:
                problems.append(f"placeholders differ: {key[0]!r} → {string!r}")
    assert not problems, f"{locale}: " + "\n".join(problems)


# Who sees which language ---------------------------------------------------------------

def _lang(response) -> str:
    return re.search(r'<html lang="([a-z]+)"', response.text).group(1)


def test_a_visitor_gets_the_browsers_language_then_bokmal(client):
    assert _lang(client.get("/")) == "nb"
    assert _lang(client.get("/", headers={"Accept-Language": "nn-NO,nn;q=0.9"})) == "nn"
    assert _lang(client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})) == "en"
    assert _lang(client.get("/", headers={"Accept-Language": "no"})) == "nb"
    assert _lang(client.get("/", headers={"Accept-Language": "de-DE,nn;q=0.5"})) == "nn"
    assert _lang(client.get("/", headers={"Accept-Language": "de-DE,fr;q=0.5"})) == "nb"


def test_an_organisations_pages_are_in_its_written_form(client):
    OrganisationFactory(slug="hjartdal", name="Hjartdal kommune", language="nn")
    english_browser = {"Accept-Language": "en"}
    assert _lang(client.get("/o/hjartdal/", headers=english_browser)) == "nn"
    assert _lang(client.get("/", headers=english_browser)) == "en"


def test_a_visitors_switch_sticks_over_the_organisations_language(client):
    OrganisationFactory(slug="hjartdal", language="nn")
    client.post("/language", data={"language": "en", "next": "/o/hjartdal/"})
    assert _lang(client.get("/o/hjartdal/")) == "en"
    assert _lang(client.get("/", headers={"Accept-Language": "nn"})) == "en"


def test_a_person_follows_their_organisation_until_they_choose(client, login):
    hjartdal = OrganisationFactory(slug="hjartdal", language="nn")
    person = member(hjartdal, Role.EMPLOYEE)
    login(person)
    assert person.locale is None
    assert _lang(client.get("/", headers={"Accept-Language": "en"})) == "nn"
    client.post("/language", data={"language": "en"})
    assert person.locale == "en"
    client.post("/logout")
    fresh = client.application.test_client()
    login(person, test_client=fresh)
    assert _lang(fresh.get("/o/hjartdal/")) == "en"


def test_a_person_can_go_back_to_following_the_organisation(client, login):
    hjartdal = OrganisationFactory(slug="hjartdal", language="nn")
    person = member(hjartdal, Role.EMPLOYEE, locale="en")
    login(person)
    client.post("/profile", data={"name": person.name, "locale": ""})
    assert person.locale is None
    assert _lang(client.get("/")) == "nn"


def test_an_admin_sets_the_written_form(client, login):
    hjartdal = OrganisationFactory(slug="hjartdal")
    login(member(hjartdal, Role.ADMIN))
    response = client.post("/o/hjartdal/admin/settings",
                           data={"name": hjartdal.name, "language": "nn"})
    assert response.status_code == 302
    assert hjartdal.language == "nn"
    refused = client.post("/o/hjartdal/admin/settings",
                          data={"name": hjartdal.name, "language": "de"})
    assert refused.status_code == 400 and hjartdal.language == "nn"


# E-mails -------------------------------------------------------------------------------

def test_a_nynorsk_employee_approved_by_a_bokmal_organiser_gets_nynorsk(client, login):
    """The e-mail is written while the organiser looks at a Bokmål page, in Nynorsk."""
    kongsberg = OrganisationFactory(slug="kongsberg", language="nb")
    hjartdal = OrganisationFactory(slug="hjartdal", language="nn")
    course = CourseFactory(organisation=kongsberg, title="Førstehjelp", requires_approval=True,
                           visibility=Visibility.REGION)
    pending = register(course, member(hjartdal, Role.EMPLOYEE), RegistrationState.PENDING)
    login(member(kongsberg, Role.ORGANISER))
    page = client.post(f"/o/kongsberg/admin/courses/{course.id}/participants/"
                       f"{pending.id}/approve", follow_redirects=True)
    assert _lang(page) == "nb"
    [message] = outbox(pending.email)
    assert message.subject == "Påmelding stadfesta: Førstehjelp"
    assert "Hei" in message.body_text and "ikkje" in message.body_text
    [calendar] = message.attachments
    assert b"SUMMARY;LANGUAGE=nb:F" in calendar.data.replace(b"\r\n ", b"")


def test_an_e_mail_follows_the_persons_own_choice(app):
    from frikomport.i18n import recipient_locale

    hjartdal = OrganisationFactory(language="nn")
    kongsberg = OrganisationFactory(language="nb")
    assert recipient_locale(member(hjartdal, Role.EMPLOYEE), host=kongsberg) == "nn"
    assert recipient_locale(member(hjartdal, Role.EMPLOYEE, locale="en"), host=kongsberg) == "en"
    assert recipient_locale(UserFactory(), host=hjartdal) == "nn"  # no organisation
    assert recipient_locale(None, host=hjartdal) == "nn"  # a guest
    assert recipient_locale(None) == "nb"


# The course's own language ----------------------------------------------------------------

def test_a_course_is_marked_with_the_language_it_is_written_in(client):
    hjartdal = OrganisationFactory(slug="hjartdal", language="nn")
    course = CourseFactory(organisation=hjartdal, title="Fyrstehjelp for tilsette",
                           content_language="nn")
    page = client.get(f"/courses/{course.id}").text
    assert _lang(client.get(f"/courses/{course.id}")) == "nb"
    assert '<h1 class="ds-heading" data-size="lg"><span lang="nn">Fyrstehjelp' in page
    nynorsk_page = client.get(f"/courses/{course.id}", headers={"Accept-Language": "nn"}).text
    assert 'lang="nn">Fyrstehjelp' not in nynorsk_page  # the page's own language


def test_a_new_course_is_written_in_the_organisations_language(client, login):
    hjartdal = OrganisationFactory(slug="hjartdal", language="nn")
    login(member(hjartdal, Role.ORGANISER))
    form = client.get("/o/hjartdal/admin/courses/new").text
    assert '<option selected value="nn">Nynorsk</option>' in form


def test_prices_follow_the_locale(app):
    from flask_babel import force_locale

    from frikomport.templating import price

    with app.test_request_context():
        with force_locale("nb"):
            assert price(150000) == "1\xa0500\xa0kr"
            assert price(150050) == "1\xa0500,50\xa0kr"
        with force_locale("nn"):
            assert price(0) == "Gratis"
        with force_locale("en"):
            assert price(150000) == "NOK1,500"
            assert price(5) == "NOK0.05"
