"""Demo courses for the Kongsberg region, created through the real course services."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.courses import services, vocabulary
from frikomport.courses.models import Category, Course, Location, ServiceArea, Visibility
from frikomport.registrations.services import register_member, registration_of
from frikomport.tenancy.models import Membership, Organisation, Role
from frikomport.timeutil import local_to_utc

CATEGORIES = ["Førstehjelp og sikkerhet", "Digitale ferdigheter", "Ledelse",
              "Fag og kvalitet", "Språk og kommunikasjon"]
SERVICE_AREAS = ["Helse og omsorg", "Oppvekst og utdanning", "Administrasjon",
                 "Teknisk drift", "Kultur"]

# (org slug, title, category, service area, visibility, days from today, hours, seats, price,
#  summary, description)
COURSES = [
    ("kongsberg", "Førstehjelp for ansatte i barnehage", 0, 1, "public", 6, (9, 15), 20, 0,
     "Praktisk førstehjelp tilpasset små barn: fremmedlegeme, HLR og skader.",
     "## Innhold\n\n- Hjerte-lunge-redning på barn og voksne\n- Fremmedlegeme i luftveiene\n"
     "- Brannskader, kutt og bruddskader\n\nKurset er praktisk: ta med klær du kan bevege "
     "deg i. Alle får kursbevis."),
    ("notodden", "Hjerte-lunge-redning (HLR) – oppfriskning", 0, 0, "region", 9, (13, 16), 12,
     0, "Tre timer med trening på HLR og bruk av hjertestarter.",
     "Oppfriskningskurs for alle som har tatt **førstehjelpskurs** de siste tre årene."),
    ("ovre-eiker", "Demensomsorgens ABC – oppstartssamling", 3, 0, "region", 14, (9, 15), 30,
     0, "Studiepakke om personsentrert demensomsorg, med samlinger gjennom året.",
     "Demensomsorgens ABC er et studieopplegg for ansatte i helse- og omsorgstjenesten.\n\n"
     "1. Samlinger i gruppe\n2. Refleksjon over egen praksis\n3. Kursbevis etter fullført "
     "perm"),
    ("kongsberg", "Excel for saksbehandlere", 1, 2, "region", 20, (9, 12), 16, 500,
     "Tabeller, filtre og pivot – for deg som jobber med tall i hverdagen.",
     "Ta med egen PC med Excel installert. Vi jobber med eksempler fra kommunal drift."),
    ("flesberg", "Microsoft Teams i praksis", 1, 2, "public", 11, (10, 12), 25, 0,
     "Møter, kanaler og deling av filer uten å miste oversikten.",
     "Et praktisk kurs i Teams for alle ansatte. Kurset holdes på rådhuset."),
    ("tinn", "Personvern og GDPR i kommunen", 3, 2, "public", 27, (9, 14), 40, 0,
     "Hva betyr personvernforordningen for din arbeidshverdag?",
     "Vi går gjennom behandlingsgrunnlag, innsyn og avvikshåndtering med eksempler fra "
     "skole, helse og saksbehandling."),
    ("rollag", "Brannvernopplæring for ansatte", 0, 3, "internal", 8, (12, 15), 15, 0,
     "Slokkeøvelse og gjennomgang av branninstruks for Rollag kommune.",
     "Obligatorisk for nyansatte. Øvelsen foregår utendørs – kle deg etter været."),
    ("kongsberg", "Lederutvikling for mellomledere", 2, 2, "internal", 35, (9, 16), 18, 0,
     "Program i fire samlinger om ledelse, arbeidsmiljø og endring.",
     "For ledere med personalansvar i Kongsberg kommune."),
    ("hjartdal", "Klarspråk – skriv så folk forstår", 4, 2, "public", 17, (9, 13), 24, 0,
     "Skriv brev og vedtak som innbyggerne forstår første gang.",
     "Kurset bygger på Språkrådets råd om klarspråk, med øvelser på egne tekster."),
    ("nore-og-uvdal", "Velferdsteknologi i hjemmetjenesten", 3, 0, "region", 23, (10, 15), 20,
     0, "Digitale tilsyn, medisindispensere og trygghetsalarmer i praksis.",
     "Erfaringer fra Numedal og demonstrasjon av utstyr."),
    ("notodden", "Legemiddelhåndtering for helsefagarbeidere", 3, 0, "region", 41, (9, 15),
     25, 300, "Forskriften, dokumentasjon og trygg utdeling.",
     "Kurset gir oppdatert kunnskap om legemiddelhåndtering etter gjeldende forskrift."),
    ("ovre-eiker", "Forebygging av vold og trusler på arbeidsplassen", 0, 1, "region", 48,
     (9, 15), 30, 0, "Risikovurdering, deeskalering og oppfølging etter hendelser.",
     "For ansatte i skole, barnehage og helse."),
    ("kongsberg", "Norsk for helsearbeidere – nivå B1", 4, 0, "region", 16, (16, 18), 14, 0,
     "Språkopplæring med vekt på muntlig kommunikasjon med pasienter.",
     "Kurset går over åtte kvelder."),
    ("tinn", "Saksbehandling etter forvaltningsloven", 3, 2, "region", 55, (9, 15), 30, 0,
     "Grunnkurs i forvaltningsrett for nye saksbehandlere.",
     "Vedtak, begrunnelse, klage og taushetsplikt."),
]
DRAFT_TITLE = "Trafikksikkerhet for barnehager (utkast)"


def seed_courses(session: Session, today: date, addresses: dict[str, str]) -> int:
    """Create vocabulary, locations and demo courses where missing; return courses added.

    ``addresses`` maps each organisation's slug to its town hall's address.
    """
    added = 0
    for slug in {course[0] for course in COURSES}:
        organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
        admin = _member(session, organisation, Role.ADMIN)
        _ensure_vocabulary(session, admin, organisation, addresses[slug])
    for entry in COURSES:
        added += _ensure_course(session, today, *entry)
    added += _ensure_course(session, today, "kongsberg", DRAFT_TITLE, 0, 1, "public", 60,
                            (9, 12), 20, 0, "Refleksvest, busstur og rutiner.", "",
                            publish=False)
    return added


def _member(session: Session, organisation: Organisation, role: Role):
    return session.scalar(select(Membership).where(
        Membership.organisation_id == organisation.id, Membership.role == role)).user


def _ensure_vocabulary(session: Session, actor, organisation: Organisation,
                       address: str) -> None:
    for model, names in ((Category, CATEGORIES), (ServiceArea, SERVICE_AREAS)):
        existing = {item.name for item in vocabulary.list_items(session, organisation, model)}
        for name in names:
            if name not in existing:
                vocabulary.save_item(session, actor, organisation, model, name=name)
    if not vocabulary.list_items(session, organisation, Location):
        vocabulary.save_item(session, actor, organisation, Location,
                             name=f"{organisation.name.removesuffix(' kommune')} rådhus",
                             room="Kommunestyresalen", address=address, capacity=60)


def _ensure_course(session: Session, today: date, slug, title, category, service_area,
                   visibility, days, hours, seats, price, summary, description,
                   publish: bool = True) -> int:
    organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if session.scalar(select(Course.id).where(Course.organisation_id == organisation.id,
                                              Course.title == title)):
        return 0
    actor = _member(session, organisation, Role.ORGANISER)
    day = today + timedelta(days=days)
    data = services.CourseData(
        title=title, summary=summary, description=description, capacity=seats,
        # Other municipalities pay a quarter more, guests half again (the host's own
        # employees pay the listed price); the free cancellation ends a week before.
        fee_host_ore=price * 100, fee_region_ore=price * 125, fee_guest_ore=price * 150,
        free_cancellation_until=(local_to_utc(day - timedelta(days=7), time(12))
                                 if price else None),
        visibility=Visibility(visibility),
        category_id=_id(session, organisation, Category, CATEGORIES[category]),
        service_area_id=_id(session, organisation, ServiceArea, SERVICE_AREAS[service_area]),
        location_id=vocabulary.list_items(session, organisation, Location)[0].id,
        contact_name=actor.name, contact_email=actor.email, target_group="Alle ansatte",
        sessions=[(local_to_utc(day, time(hours[0])), local_to_utc(day, time(hours[1])))],
        content_language="nb",  # the demo texts are Bokmål, whatever the host's written form
    )
    course = services.create_course(session, actor, organisation, data)
    if publish:
        services.publish_course(session, actor, course)
    return 1


def _id(session: Session, organisation: Organisation, model, name: str) -> int:
    return session.scalar(select(model.id).where(model.organisation_id == organisation.id,
                                                 model.name == name))


FULL_COURSE = "Hjerte-lunge-redning (HLR) – oppfriskning"


def seed_registrations(session: Session, emails: list[str]) -> int:
    """Register the named demo employees (``emails``, in this order) for the HLR course
    (12 seats), so it fills up and gets a waiting list; registrations go through the real
    engine and queue real e-mails."""
    course = session.scalar(select(Course).where(Course.title == FULL_COURSE))
    added = 0
    for email in emails:
        user = session.scalar(select(User).where(User.email == email))
        if registration_of(session, user, course) is None:
            register_member(session, user, course.id, comment="")
            added += 1
    return added
