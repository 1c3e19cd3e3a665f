"""Demo competence: the region's catalogue and two municipalities' own competences, what
the courses grant, units with their people, leaders and requirements.

The catalogue, the units and their leaders, and the upcoming courses' grants go through
the real services (a few dozen calls, audited as if the site admin, the admins and the
organisers had set them up). The history's courses get their grants, the staff their
units and the units their requirements as rows: a statement each instead of hundreds of
calls (that kept ``flask demo seed`` fast).
Idempotent: what exists is left as it is.
"""

from __future__ import annotations

from itertools import cycle

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.competence import catalogue
from frikomport.competence.catalogue import CompetenceData
from frikomport.competence.models import Competence, CourseCompetence, Requirement
from frikomport.courses.models import Course, CourseState
from frikomport.demo.bulk import add_rows
from frikomport.tenancy.models import Membership, Organisation, Role
from frikomport.units import services as units
from frikomport.units.models import Unit

HLR, FIRE, SECRECY, MEDICINES = ("HLR og førstehjelp", "Brannvern", "Taushetsplikt",
                                 "Legemiddelhåndtering")
TRANSFER, REPORTING, PRIVACY, HYGIENE = ("Forflytning", "Meldeplikt til barnevernet",
                                         "Personvern (GDPR)", "Hygiene og smittevern")
ROADWORK, SECURITY = "Arbeidsvarsling (N301)", "Informasjonssikkerhet"
EPJ, WELFARE_TECH = "Elektronisk pasientjournal (EPJ)", "Velferdsteknologi"

# (name, validity in months or None for no expiry, description)
REGION_CATALOGUE = [
    (HLR, 12, "Hjerte-lunge-redning og livreddende førstehjelp. Friskes opp hvert år."),
    (FIRE, 12, "Branninstruks, slokkeutstyr og rømning. Øves hvert år."),
    (SECRECY, None, "Signert taushetserklæring og opplæring i taushetsplikten."),
    (MEDICINES, 24, "Kompetanse i legemiddelhåndtering etter forskriften."),
    (TRANSFER, 36, "Forflytningsteknikk og bruk av hjelpemidler."),
    (REPORTING, None, "Opplysningsplikten til barnevernet: når og hvordan du melder."),
    (PRIVACY, 24, "Grunnopplæring i personvern og behandling av personopplysninger."),
    (HYGIENE, 24, "Basale smittevernrutiner og bruk av smittevernutstyr."),
    (ROADWORK, 60, "Arbeidsvarsling og sikring av arbeid på vei, nivå 1."),
    (SECURITY, 24, "Phishing, passord og trygg bruk av kommunens systemer."),
]
OWN_CATALOGUE = {
    "kongsberg": [(EPJ, None, "Opplæring i Kongsberg kommunes journalsystem.")],
    "notodden": [(WELFARE_TECH, 36, "Digitalt tilsyn og medisindispensere i Notodden.")],
}

# Course title (past templates and upcoming courses) → the competences attending grants.
# An organisation's own competence is granted only by that organisation's courses.
GRANTS = {
    "Grunnleggende førstehjelp": [HLR], "HLR med hjertestarter": [HLR],
    "Førstehjelp i skole og SFO": [HLR], "Brannvern og rømningsøvelse": [FIRE],
    "Arbeid på vei – varsling og sikring": [ROADWORK],
    "Digital sikkerhet – phishing og passord": [SECURITY],
    "Digital dømmekraft i skolen": [PRIVACY],
    "Elektronisk pasientjournal – grunnkurs": [EPJ],
    "Legemiddelhåndtering – oppfriskning": [MEDICINES],
    "Hygiene og smittevern i hjemmetjenesten": [HYGIENE],
    "Velferdsteknologi – grunnkurs": [WELFARE_TECH],
    "Tidlig innsats i barnehagen": [REPORTING],
    "Førstehjelp for ansatte i barnehage": [HLR],
    "Hjerte-lunge-redning (HLR) – oppfriskning": [HLR],
    "Personvern og GDPR i kommunen": [PRIVACY],
    "Brannvernopplæring for ansatte": [FIRE],
    "Legemiddelhåndtering for helsefagarbeidere": [MEDICINES],
    "Saksbehandling etter forvaltningsloven": [SECRECY],
}

# Kinds of unit: the job titles placed in them, and what they require of whom
# (competence, job title; "" for everyone).
HEALTH = ("Sykepleier", "Helsefagarbeider", "Vernepleier", "Fysioterapeut",
          "Miljøterapeut", "Avdelingsleder")
KINDS = {
    "home": (HEALTH, [(HLR, ""), (SECRECY, ""), (HYGIENE, ""), (TRANSFER, ""),
                      (MEDICINES, "Sykepleier"), (MEDICINES, "Helsefagarbeider"),
                      (MEDICINES, "Vernepleier"), (EPJ, ""), (WELFARE_TECH, "")]),
    "care": (HEALTH, [(HLR, ""), (FIRE, ""), (SECRECY, ""), (MEDICINES, "Sykepleier"),
                      (MEDICINES, "Helsefagarbeider"), (TRANSFER, "Helsefagarbeider"),
                      (TRANSFER, "Fysioterapeut"), (EPJ, "")]),
    "children": (("Barnehagelærer", "Lærer", "Assistent"),
                 [(HLR, ""), (REPORTING, ""), (SECRECY, ""), (FIRE, "")]),
    "office": (("Rådgiver", "Saksbehandler", "Konsulent", "Merkantil medarbeider",
                "Bibliotekar", "Ingeniør", "Driftsoperatør", "Fagarbeider", "Renholder"),
               [(PRIVACY, ""), (SECRECY, ""), (SECURITY, ""), (ROADWORK, "Driftsoperatør"),
                (ROADWORK, "Fagarbeider")]),
}
UNITS = {
    "kongsberg": [("Hjemmetjenesten", "home"), ("Sykehjemmet", "care"),
                  ("Solsiden barnehage", "children"), ("Servicetorget", "office")],
    "notodden": [("Hjemmebaserte tjenester", "home"), ("Helsehuset", "care"),
                 ("Heddal barnehage", "children"), ("Rådhuset", "office")],
}
SMALL_MUNICIPALITY = [("Helse og omsorg", "home"), ("Oppvekst", "children"),
                      ("Rådhuset", "office")]
# Named demo people: their job titles, and the units they work in and lead (the README
# documents Per Bakke as the leader to log in as).
NAMED = {"Ingrid Lie": ("Helsefagarbeider", "Hjemmetjenesten", False),
         "Per Bakke": ("Avdelingsleder", "Hjemmetjenesten", True),
         "Marte Moen": ("Sykepleier", "Hjemmebaserte tjenester", False),
         "Jonas Strand": ("Avdelingsleder", "Hjemmebaserte tjenester", True)}


def seed_competence(session: Session, organisations: list[Organisation]) -> None:
    """The catalogue, the courses' grants and every organisation's units (run after the
    history, whose courses it grants to)."""
    site_admin = session.scalar(select(User).where(User.is_site_admin).order_by(User.id))
    by_name = _catalogue(session, site_admin, organisations)
    _grant_upcoming(session, by_name)
    _grant_history(session, by_name)
    for organisation in organisations:
        _units(session, organisation, by_name)


def _catalogue(session: Session, site_admin: User,
               organisations: list[Organisation]) -> dict[tuple[int | None, str], int]:
    """``(organisation id or None, name) → competence id``, creating what is missing."""
    existing = {(organisation_id, name): competence_id for organisation_id, name, competence_id
                in session.execute(select(Competence.organisation_id, Competence.name,
                                          Competence.id))}
    wanted = [(None, entry) for entry in REGION_CATALOGUE] + [
        (organisation, entry) for organisation in organisations
        for entry in OWN_CATALOGUE.get(organisation.slug, [])]
    for organisation, (name, months, description) in wanted:
        key = (organisation.id if organisation else None, name)
        if key not in existing:
            actor = _member(session, organisation, Role.ADMIN) if organisation else site_admin
            existing[key] = catalogue.create(session, actor, organisation, CompetenceData(
                name, description, months)).id
    return existing


def _competence_id(by_name, organisation_id: int, name: str) -> int | None:
    """The region's competence of that name, else the organisation's own (else None)."""
    return by_name.get((None, name)) or by_name.get((organisation_id, name))


def _granted_ids(organisation_id: int, title: str, by_name) -> list[int]:
    found = (_competence_id(by_name, organisation_id, name) for name in GRANTS.get(title, []))
    return [competence_id for competence_id in found if competence_id]


def _grant_upcoming(session: Session, by_name) -> None:
    """The upcoming courses' grants, set by their organisers."""
    for course in session.scalars(select(Course).where(
            Course.state != CourseState.FINISHED, Course.title.in_(list(GRANTS)))):
        if not course.competence_grants:
            organiser = _member(session, course.organisation, Role.ORGANISER)
            catalogue.set_granted(session, organiser, course,
                                  _granted_ids(course.organisation_id, course.title, by_name))


def _grant_history(session: Session, by_name) -> None:
    """The finished courses' grants, as rows (about a hundred courses)."""
    granted = set(session.scalars(select(CourseCompetence.course_id)))
    rows = [{"organisation_id": organisation_id, "course_id": course_id,
             "competence_id": competence_id}
            for course_id, organisation_id, title in session.execute(
                select(Course.id, Course.organisation_id, Course.title).where(
                    Course.state == CourseState.FINISHED, Course.title.in_(list(GRANTS))))
            if course_id not in granted
            for competence_id in _granted_ids(organisation_id, title, by_name)]
    add_rows(session, CourseCompetence, rows)


def _member(session: Session, organisation: Organisation, role: Role) -> User:
    return session.scalar(select(User).join(Membership).where(
        Membership.organisation_id == organisation.id, Membership.role == role)
        .order_by(Membership.id))


# Units ---------------------------------------------------------------------------------

def _units(session: Session, organisation: Organisation, by_name) -> None:
    """The organisation's units, created by its admin if it has none yet: the staff
    placed by job title, a leader each, and the requirements of the unit's kind."""
    if session.scalar(select(Unit.id).where(Unit.organisation_id == organisation.id)):
        return
    admin = _member(session, organisation, Role.ADMIN)
    _name_the_named(session, organisation)
    planned = UNITS.get(organisation.slug, SMALL_MUNICIPALITY)
    made = [(units.create_unit(session, admin, organisation, name), kind)
            for name, kind in planned]
    _place_staff(session, organisation, made)
    for unit, _kind in made:
        units.add_leader(session, admin, unit, _leader(session, unit, admin))
    add_rows(session, Requirement, [
        {"organisation_id": organisation.id, "unit_id": unit.id,
         "competence_id": competence_id, "job_title": job_title}
        for unit, kind in made for name, job_title in KINDS[kind][1]
        if (competence_id := _competence_id(by_name, organisation.id, name))])


def _name_the_named(session: Session, organisation: Organisation) -> None:
    for person in session.scalars(select(User).where(
            User.home_organisation_id == organisation.id, User.name.in_(list(NAMED)))):
        person.job_title = NAMED[person.name][0]


def _place_staff(session: Session, organisation: Organisation,
                 made: list[tuple[Unit, str]]) -> None:
    """Each member whose job title fits a kind of unit goes into one of those units (in
    turn, by e-mail address); named demo people go where :data:`NAMED` says."""
    units_by_name = {unit.name: unit for unit, _kind in made}
    turns = {title: cycle([unit for unit, kind in made if title in KINDS[kind][0]])
             for title in {title for _unit, kind in made for title in KINDS[kind][0]}}
    placements: dict[int, list[int]] = {}
    for membership_id, name, job_title in session.execute(
            select(Membership.id, User.name, User.job_title).join(User)
            .where(Membership.organisation_id == organisation.id).order_by(User.email)):
        if name in NAMED and NAMED[name][1] in units_by_name:
            unit = units_by_name[NAMED[name][1]]
        elif job_title in turns:
            unit = next(turns[job_title])
        else:
            continue
        placements.setdefault(unit.id, []).append(membership_id)
    for unit_id, membership_ids in placements.items():
        session.execute(update(Membership).where(Membership.id.in_(membership_ids))
                        .values(unit_id=unit_id).execution_options(synchronize_session=False))


def _leader(session: Session, unit: Unit, admin: User) -> int:
    """The named leader of the unit, or its first department head, or its first member
    (the admin leads a unit nobody works in)."""
    members = session.execute(
        select(User.id, User.name, User.job_title).join(Membership)
        .where(Membership.unit_id == unit.id).order_by(User.email)).all()
    named = [user_id for user_id, name, _title in members
             if NAMED.get(name, (None, None, False))[2]]
    heads = [user_id for user_id, _name, title in members if title == "Avdelingsleder"]
    return (named or heads or [user_id for user_id, *_ in members] or [admin.id])[0]
