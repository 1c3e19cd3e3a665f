""""My competence" (/me/competence): every holding with its standing in words and date,
its evidence (courses with their certificate, external certificates with their state),
what the person's unit requires that they miss, and the menu that leads there."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest
from flask_babel import force_locale

from frikomport.competence import records
from frikomport.competence.models import (
    CompetenceRecord,
    CourseCompetence,
    RecordSource,
    RecordStatus,
    Requirement,
)
from frikomport.extensions import db
from frikomport.registrations import services
from frikomport.templating import date_short
from frikomport.tenancy.models import Role
from frikomport.timeutil import local_to_utc
from tests.competence.builders import competence, hold, make_unit
from tests.factories import CourseFactory, MembershipFactory, member, register
from tests.test_query_counts import counted_queries


@pytest.fixture
def pinned(monkeypatch):
    """Today is 15 June 2027 in Oslo."""
    monkeypatch.setattr(records, "utcnow", lambda: datetime(2027, 6, 15, 10, tzinfo=UTC))


@pytest.fixture
def person(kongsberg):
    return member(kongsberg, name="Ingrid Lie", job_title="Sykepleier")


def _short(day: date) -> str:
    with force_locale("nb"):
        return date_short(day)


def _row(html: str, name: str) -> str:
    """The text of the table row whose row header holds ``name`` (tags removed)."""
    for row in re.findall(r"<tr role=\"row\">(.*?)</tr>", html, re.S):
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
        if name in text:
            return text
    raise AssertionError(f"no row with {name!r}")


def test_holdings_show_their_standing_in_words_and_date(client, login, person, pinned):
    valid = competence("HLR", months=24)
    expiring = competence("Brannvern", months=12)
    expired = competence("Hygiene", months=12)
    forever = competence("Taushetsplikt", months=None)
    hold(person, valid, date(2029, 1, 10), valid_from=date(2027, 1, 10))
    hold(person, expiring, date(2027, 8, 1), valid_from=date(2026, 8, 1))  # 47 days left
    hold(person, expired, date(2027, 3, 1), valid_from=date(2026, 3, 1))
    hold(person, forever, None, valid_from=date(2020, 5, 5))
    login(person)
    page = client.get("/me/competence")
    assert page.status_code == 200
    assert f"Gyldig Gyldig til {_short(date(2029, 1, 10))}" in _row(page.text, "HLR")
    assert f"Utløper snart Gyldig til {_short(date(2027, 8, 1))}" in _row(page.text,
                                                                         "Brannvern")
    assert f"Utløpt Var gyldig til {_short(date(2027, 3, 1))}" in _row(page.text, "Hygiene")
    assert "Gyldig Ingen utløpsdato" in _row(page.text, "Taushetsplikt")


def test_a_renewal_shows_the_later_date_and_both_pieces_of_evidence(
        client, login, person, pinned):
    first_aid = competence("HLR", months=12)
    hold(person, first_aid, date(2027, 6, 20), valid_from=date(2026, 6, 20), title="HLR 2026")
    hold(person, first_aid, date(2028, 5, 2), valid_from=date(2027, 5, 2), title="HLR 2027")
    login(person)
    row = _row(client.get("/me/competence").text, "HLR 2027")
    assert f"Gyldig Gyldig til {_short(date(2028, 5, 2))}" in row
    assert _short(date(2027, 6, 20)) not in row
    assert row.index("HLR 2027") < row.index("HLR 2026")  # newest evidence first


def test_a_course_record_links_to_its_certificate(client, login, kongsberg, person):
    first_aid = competence("HLR", months=12)
    day = date(2026, 10, 1)
    course = CourseFactory(organisation=kongsberg, title="Livreddende førstehjelp",
                           sessions=[(local_to_utc(day, time(9)), local_to_utc(day, time(15)))])
    db.session.add(CourseCompetence(organisation_id=kongsberg.id, course_id=course.id,
                                    competence_id=first_aid.id))
    db.session.commit()
    registration = register(course, person)
    services.mark_attendance(db.session, member(kongsberg, Role.ORGANISER), kongsberg,
                             course.id, registration.id, attended=True)
    db.session.commit()
    login(person)
    html = client.get("/me/competence").text
    row = _row(html, "Livreddende førstehjelp")
    assert "Kurs: Livreddende førstehjelp" in row and "Kursbevis (PDF)" in row
    [link] = re.findall(r'href="(/me/certificates/\d+\.pdf)"', html)
    assert client.get(link).status_code == 200


def test_external_certificates_show_their_state_and_only_approved_ones_count(
        client, login, kongsberg, person, pinned):
    for name, status, note in (("Truckførerbevis", RecordStatus.PENDING, ""),
                               ("Varme arbeider", RecordStatus.REJECTED, "Utgått kopi"),
                               ("Kranførerbevis", RecordStatus.APPROVED, "")):
        db.session.add(CompetenceRecord(
            user_id=person.id, competence_id=competence(name, months=60).id,
            source=RecordSource.EXTERNAL, status=status, valid_from=date(2027, 1, 4),
            valid_until=date(2032, 1, 4), title=f"Bevis for {name}", issuer="AKA",
            organisation_id=kongsberg.id, decision_note=note))
    db.session.commit()
    login(person)
    html = client.get("/me/competence").text
    assert "Venter på godkjenning" in _row(html, "Truckførerbevis")
    assert "Gyldig til" not in _row(html, "Truckførerbevis")
    rejected = _row(html, "Varme arbeider")
    assert "Ikke godkjent" in rejected and "Merknad: Utgått kopi" in rejected
    approved = _row(html, "Kranførerbevis")
    assert f"Gyldig til {_short(date(2032, 1, 4))}" in approved and "Godkjent" in approved
    assert f"Utstedt av AKA, oppnådd {_short(date(2027, 1, 4))}" in approved


def test_missing_and_expired_requirements_of_the_unit_are_listed(
        client, login, kongsberg, person, pinned):
    held, expired, missing, elsewhere, other_title = (
        competence("HLR"), competence("Hygiene"), competence("Legemiddelhåndtering"),
        competence("Truck"), competence("Kran"))
    hold(person, held, date(2028, 1, 1), valid_from=date(2027, 1, 1))
    hold(person, expired, date(2027, 1, 1), valid_from=date(2026, 1, 1))
    make_unit(kongsberg, "Hjemmetjenesten", people=[person], requires=[
        held, expired, (missing, " sykepleier "), (other_title, "Kranfører")])
    make_unit(kongsberg, "Skole", requires=[elsewhere])
    login(person)
    html = client.get("/me/competence").text
    gaps = html.split('id="gaps"')[1].split("</table>")[0]
    assert "Krav du ikke oppfyller" in html
    assert "Mangler" in _row(gaps, "Legemiddelhåndtering")
    assert "Hjemmetjenesten" in _row(gaps, "Legemiddelhåndtering")
    assert f"Utløpt Var gyldig til {_short(date(2027, 1, 1))}" in _row(gaps, "Hygiene")
    for not_listed in ("HLR", "Truck", "Kran"):
        assert not_listed not in gaps


def test_nothing_yet(client, login, person):
    login(person)
    html = client.get("/me/competence").text
    assert "Ingenting er registrert ennå" in html
    assert "Krav du ikke oppfyller" not in html
    assert 'enctype="multipart/form-data"' in html


def test_the_menu_leads_there_and_the_page_to_units_and_approvals_for_deciders(
        client, login, kongsberg, notodden, person):
    assert client.get("/me/competence").status_code == 302  # log in first
    login(person)
    html = client.get("/courses/").text
    assert '<a class="ds-link" href="/me/competence">Min kompetanse</a>' in html
    html = client.get("/me/competence").text
    assert "/admin/competence/approvals" not in html and "/units" not in html
    client.post("/logout")
    # An admin in Kongsberg who leads a unit in Notodden: both.
    leader = member(kongsberg, Role.ADMIN)
    MembershipFactory(organisation=notodden, user=leader)
    make_unit(notodden, "Barnehage", leaders=[leader])
    login(leader)
    html = client.get("/me/competence").text
    for name, slug in (("Kongsberg kommune", "kongsberg"), ("Notodden kommune", "notodden")):
        assert f'href="/o/{slug}/admin/competence/approvals">Godkjenninger i {name}' in html
        assert f'href="/o/{slug}/units">Enheter i {name}' in html


def test_the_menu_does_not_look_up_leaderships(client, login, kongsberg, person):
    """The menu on every page names "My competence" without asking who leads what; the
    page itself does."""
    make_unit(kongsberg, "Barnehage", leaders=[person])
    login(person)
    with counted_queries() as statements:
        client.get("/courses/")
    assert not [s for s in statements if "unit_leader" in s]
    with counted_queries() as statements:
        html = client.get("/me/competence").text
    assert [s for s in statements if "unit_leader" in s]
    assert 'href="/o/kongsberg/admin/competence/approvals"' in html


def test_the_page_costs_the_same_however_much_a_person_holds(client, login, kongsberg,
                                                            person):
    make_unit(kongsberg, "Hjemmetjenesten", people=[person])
    login(person)

    def add(count: int) -> int:
        for number in range(count):
            made = competence(f"Kompetanse {count}-{number}")
            hold(person, made, date(2027, 1, 1), valid_from=date(2026, 1, 1))
            db.session.add(CompetenceRecord(
                user_id=person.id, competence_id=made.id, source=RecordSource.EXTERNAL,
                status=RecordStatus.PENDING, valid_from=date(2026, 1, 1),
                organisation_id=kongsberg.id))
            db.session.add(Requirement(organisation_id=kongsberg.id,
                                       unit_id=person.memberships[0].unit_id,
                                       competence_id=competence(f"Krav {count}-{number}").id))
        db.session.commit()
        with counted_queries() as statements:
            assert client.get("/me/competence").status_code == 200
        return len(statements)

    small, large = add(2), add(30)
    assert small == large <= 12, (small, large)
