"""The region's demand: counts equal a brute-force count over generated data, records count
from their first day and job titles compare as in the matrix, readers see only what they
may, and the page lists the courses that grant each competence."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import select

from frikomport.competence import demand as demand_module
from frikomport.competence import requirements
from frikomport.competence.matrix import unit_matrix
from frikomport.competence.models import CompetenceRecord, RecordStatus, Requirement
from frikomport.competence.records import FOREVER, Standing, add_months, today
from frikomport.courses.models import CourseState, Visibility
from frikomport.errors import PermissionDeniedError
from frikomport.extensions import db
from frikomport.tenancy.models import Membership, Role
from tests.competence.builders import (
    competence,
    granting,
    hold,
    make_unit,
    membership_of,
    place,
)
from tests.factories import MembershipFactory, UserFactory, in_days, member
from tests.test_query_counts import counted_queries

TITLES = ["Sykepleier", " sykepleier ", "ØKONOMIRÅDGIVER", "økonomirådgiver", "Lærer", ""]
REQUIRED_TITLES = ["", "", "Sykepleier", "Økonomirådgiver ", "lærer"]
VALID_FROM = [-900, -900, -900, -30, 0, 1, 60]  # days from today; a future one is not held


def _world(seed: int, organisations):
    """Random units, requirements, people (some in two organisations, some disabled)
    and records (approved, pending, rejected; without expiry, expired, running out)."""
    rng = random.Random(seed)
    first, second = organisations
    regional = [competence(f"Regional {seed}-{n}") for n in range(4)]
    own = competence(f"Egen {seed}", organisation=first)
    units = {}
    for organisation in organisations:
        available = regional + ([own] if organisation is first else [])
        units[organisation.id] = [
            make_unit(organisation, f"Enhet {organisation.slug} {n}",
                      requires={(rng.choice(available), rng.choice(REQUIRED_TITLES))
                                for _ in range(rng.randint(1, 5))})
            for n in range(3)]
    # Another organisation's requirement naming the first's own competence counts nowhere.
    make_unit(second, f"Lånt {seed}", requires=[own])
    on = today()
    offsets = [None, -30, 0, 10, 40, 100, 200, 400, 800]
    for _ in range(40):
        home = rng.choice(organisations)
        person = member(home, job_title=rng.choice(TITLES), is_enabled=rng.random() > 0.1)
        if rng.random() < 0.2:
            other = second if home is first else first
            MembershipFactory(organisation=other, user=person)
        for membership in db.session.scalars(select(Membership).where(
                Membership.user_id == person.id)):
            if rng.random() < 0.85:
                place(person, rng.choice(units[membership.organisation_id]))
        for item in [*regional, own]:
            for _ in range(rng.choice([0, 0, 1, 2])):
                offset = rng.choice(offsets)
                until = None if offset is None else on + timedelta(days=offset)
                status = rng.choice([RecordStatus.APPROVED] * 3
                                    + [RecordStatus.PENDING, RecordStatus.REJECTED])
                hold(person, item, until, status,
                     valid_from=on + timedelta(days=rng.choice(VALID_FROM)))
    return own


def _brute_force(months: int) -> dict[tuple[int, int], tuple[int, int]]:
    """The definition, person by person, in Python."""
    on = today()
    horizon = add_months(on, months)
    latest = {}
    for record in db.session.scalars(select(CompetenceRecord)):
        if record.status == RecordStatus.APPROVED and record.valid_from <= on:
            key = (record.user_id, record.competence_id)
            latest[key] = max(latest.get(key, date_min()), record.valid_until or FOREVER)
    people = defaultdict(lambda: [set(), set()])
    for membership in db.session.scalars(select(Membership)):
        user = membership.user
        if not user.is_enabled or membership.unit_id is None:
            continue
        for requirement in db.session.scalars(select(Requirement).where(
                Requirement.unit_id == membership.unit_id)):
            title_ok = (requirement.job_title == "" or requirement.job_title.strip().lower()
                        == user.job_title.strip().lower())
            owner = requirement.competence.organisation_id
            if not title_ok or owner not in (None, membership.organisation_id):
                continue
            until = latest.get((user.id, requirement.competence_id))
            if until is None or until < horizon:
                counted = people[(requirement.competence_id, membership.organisation_id)]
                counted[0].add(user.id)
                if until is None or until < on:
                    counted[1].add(user.id)
    return {key: (len(needing), len(missing)) for key, (needing, missing) in people.items()}


def date_min():
    return today().replace(year=1)


def _as_counts(found) -> dict[tuple[int, int], tuple[int, int]]:
    return {(item.competence.id, need.organisation.id): (need.needing, need.missing)
            for item in found for need in item.needs}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_demand_equals_a_brute_force_count(kongsberg, notodden, flesberg, seed):
    own = _world(seed, (kongsberg, notodden))
    admin = UserFactory(is_site_admin=True)
    for months in (1, 2, 6, 13, 24):
        expected = _brute_force(months)
        assert expected, "the generated world should need something"
        assert _as_counts(demand_module.demand(db.session, admin, months)) == expected
    # The first organisation's own competence is needed by its own people only, and only
    # its readers see it.
    assert all(organisation_id == kongsberg.id
               for competence_id, organisation_id in _brute_force(24)
               if competence_id == own.id)
    seen_by_second = _as_counts(demand_module.demand(
        db.session, member(notodden, Role.ORGANISER), 24))
    seen_by_first = _as_counts(demand_module.demand(
        db.session, member(kongsberg, Role.ADMIN), 24))
    assert {c for c, _ in seen_by_second} == {c for c, _ in _brute_force(24)} - {own.id}
    assert seen_by_first == _brute_force(24)


def test_expiring_and_missing_split_at_today_and_the_horizon(kongsberg):
    first_aid = competence("HLR")
    ward = make_unit(kongsberg, "Avdeling 1", requires=[first_aid])
    on = today()
    people = {}
    for label, until in [("never", "none"), ("expired", on - timedelta(days=1)),
                         ("today", on), ("inside", add_months(on, 6) - timedelta(days=1)),
                         ("horizon", add_months(on, 6)), ("forever", None)]:
        person = member(kongsberg, name=label)
        place(person, ward)
        if until != "none":
            hold(person, first_aid, until)
        people[label] = person
    hold(people["never"], first_aid, None, RecordStatus.PENDING)  # not approved: no count
    [item] = demand_module.demand(db.session, UserFactory(is_site_admin=True), 6)
    [need] = item.needs
    # never + expired do not hold it now; today + inside run out within six months.
    assert (need.needing, need.missing, need.expiring) == (4, 2, 2)


def test_a_record_counts_from_its_first_day_as_in_the_matrix(kongsberg):
    """Attendance marked on a course's first day gives records valid from its last day:
    until then the person still needs what they held before, or have not got."""
    first_aid = competence("HLR")
    ward = make_unit(kongsberg, "Avdeling 1", requires=[first_aid])
    on = today()
    starting, renewing = member(kongsberg, name="Starter"), member(kongsberg, name="Fornyer")
    for person in (starting, renewing):
        place(person, ward)
    hold(starting, first_aid, add_months(on, 12), valid_from=on + timedelta(days=2))
    hold(renewing, first_aid, on + timedelta(days=30))
    hold(renewing, first_aid, add_months(on, 12), valid_from=on + timedelta(days=1))
    [item] = demand_module.demand(db.session, UserFactory(is_site_admin=True), 6)
    [need] = item.needs
    assert (need.needing, need.missing, need.expiring) == (2, 1, 1)
    matrix = unit_matrix(db.session, member(kongsberg, Role.ADMIN), ward)
    assert {row.name: row.cells[0].standing for row in matrix.rows} == {
        "Starter": Standing.MISSING, "Fornyer": Standing.EXPIRING}


def test_the_matrix_the_demand_and_my_competence_agree_on_job_titles(kongsberg):
    """Job titles are compared in SQL only, by one definition, whoever asks."""
    nurse, drill, street = competence("Sykepleie"), competence("Øving"), competence("Gate")
    ward = make_unit(kongsberg, "Avdeling", requires=[
        (nurse, "Sykepleier"), (drill, "ærlig øvingsleder"), (street, "Straße")])
    expected = {"  Sykepleier ": {nurse}, "SYKEPLEIER": {nurse}, "sykepleier": {nurse},
                "Sykepleier assistent": set(), "Ærlig Øvingsleder": {drill},
                "ÆRLIG ØVINGSLEDER ": {drill}, "Straße": {street}, " straße": {street},
                "STRASSE": set(), "Strasse": set(), "": set()}
    people = {}
    for title in expected:
        people[title] = member(kongsberg, name=f"«{title}»", job_title=title)
        place(people[title], ward)
    matrix = unit_matrix(db.session, member(kongsberg, Role.ADMIN), ward)
    by_matrix = {(row.user_id, competence_.id) for row in matrix.rows
                 for competence_, cell in zip(matrix.competences, row.cells, strict=True)
                 if cell.required}
    by_demand = {(user_id, competence_id) for user_id, _, _, competence_id
                 in db.session.execute(demand_module.required())}
    by_mine = {(person.id, r.competence_id) for person in people.values()
               for r in requirements.applying_to(db.session, membership_of(person, kongsberg))}
    assert by_matrix == by_demand == by_mine == {
        (people[title].id, required.id) for title, wanted in expected.items()
        for required in wanted}


def test_only_organisers_admins_and_the_site_admin_read_the_demand(kongsberg):
    with pytest.raises(PermissionDeniedError):
        demand_module.demand(db.session, member(kongsberg), 6)
    assert demand_module.demand(db.session, member(kongsberg, Role.ORGANISER), 6) == []


def test_the_page_counts_and_lists_the_courses_the_reader_may_see(
        client, login, kongsberg, notodden):
    first_aid = competence("Førstehjelp")
    ward = make_unit(notodden, "Hjemmetjenesten", requires=[first_aid])
    for _ in range(3):
        place(member(notodden), ward)
    granting(kongsberg, first_aid, title="Førstehjelp for alle", capacity=12)
    granting(notodden, first_aid, title="Internt kurs i Notodden",
             visibility=Visibility.INTERNAL)
    granting(kongsberg, first_aid, title="Utkast", state=CourseState.DRAFT)
    granting(kongsberg, first_aid, title="Allerede holdt", sessions=[in_days(-3)])
    login(member(kongsberg, Role.ORGANISER))
    page = client.get("/region/competence-demand")
    assert page.status_code == 200
    text = page.text
    assert "Kompetansebehov i regionen" in text
    assert "Notodden kommune" in text and "Førstehjelp for alle" in text
    assert "12 plasser igjen" in text
    assert "Inviter dem som trenger det" in text  # the reader organises the host
    assert "Internt kurs i Notodden" not in text  # another organisation's internal course
    assert "Utkast" not in text and "Allerede holdt" not in text


@pytest.mark.parametrize(("months", "shown", "warned"), [
    ("", 6, False), ("24", 24, False), ("99", 24, True), ("0", 1, True), ("tolv", 6, True)])
def test_the_number_of_months_is_checked(client, login, kongsberg, months, shown, warned):
    login(member(kongsberg, Role.ADMIN))
    page = client.get(f"/region/competence-demand?months={months}")
    assert page.status_code == 200
    assert f'value="{shown}"' in page.text
    assert ("Velg fra 1 til 24 måneder" in page.text) is warned


def test_employees_are_refused_the_page_and_visitors_asked_to_log_in(client, login, kongsberg):
    assert client.get("/region/competence-demand").status_code == 302
    login(member(kongsberg))
    assert client.get("/region/competence-demand").status_code == 403


def test_the_number_of_queries_does_not_grow_with_the_people(kongsberg, notodden):
    first_aid, fire = competence("HLR"), competence("Brannvern")
    wards = [make_unit(kongsberg, "A", requires=[first_aid, fire]),
             make_unit(notodden, "B", requires=[first_aid])]
    granting(kongsberg, first_aid)
    reader = member(kongsberg, Role.ORGANISER)

    def queries() -> int:
        db.session.expire_all()
        assert [m.organisation for m in reader.memberships]  # the reader, loaded
        with counted_queries() as statements:
            demand_module.demand(db.session, reader, 6)
        return len(statements)

    place(member(kongsberg), wards[0])
    few = queries()
    for n in range(20):
        organisation = (kongsberg, notodden)[n % 2]
        place(member(organisation), wards[n % 2])
    assert queries() == few == 4  # counts, competences, organisations, courses
