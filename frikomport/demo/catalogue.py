"""The courses the demo municipalities held over the last year: templates and dates.

Each municipality draws its past courses from these templates (some held twice), on
weekdays spread over the history window; the registrations are simulated in
:mod:`frikomport.demo.history`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from frikomport.courses.models import Visibility
from frikomport.timeutil import local_to_utc

# Past courses per municipality, roughly by size.
COURSES_PER_MUNICIPALITY = {"kongsberg": 22, "ovre-eiker": 19, "notodden": 18, "tinn": 15,
                            "flesberg": 13, "nore-og-uvdal": 12, "hjartdal": 12, "rollag": 12}
# About 22 months back: this year and the same months of last year both have data, so
# the statistics' year-on-year comparison shows something.
HISTORY_DAYS = 670


@dataclass(frozen=True)
class Template:
    title: str
    category: int      # index in courses.CATEGORIES
    service_area: int  # index in courses.SERVICE_AREAS
    sessions: int      # held weekly
    hours: tuple[int, int]
    seats: int
    price: int         # kroner for the host's own employees; 0: free
    instructor: str
    summary: str


T = Template
TEMPLATES = [
    T("Grunnleggende førstehjelp", 0, 0, 1, (9, 15), 20, 0, "Norsk Folkehjelp",
      "Livreddende førstehjelp, sideleie og HLR for alle ansatte."),
    T("HLR med hjertestarter", 0, 0, 1, (13, 16), 16, 0, "Kommunelegen",
      "Tre timer med trening på hjerte-lunge-redning og bruk av hjertestarter."),
    T("Førstehjelp i skole og SFO", 0, 1, 1, (12, 16), 20, 0, "Norsk Folkehjelp",
      "Skader, allergiske reaksjoner og HLR på barn."),
    T("Brannvern og rømningsøvelse", 0, 3, 1, (12, 15), 15, 0, "Brannvesenet",
      "Slokkeøvelse, branninstruks og rømningsveier."),
    T("Sikker bruk av motorsag", 0, 3, 2, (8, 15), 10, 1200, "Skogkurs",
      "Vedlikehold, felling og kapping – med praktisk prøve."),
    T("Arbeid på vei – varsling og sikring", 0, 3, 2, (8, 16), 15, 2500, "Vegskolen",
      "Kurs i arbeidsvarsling etter håndbok N301, nivå 1."),
    T("Word for viderekomne", 1, 2, 1, (9, 12), 14, 400, "IKT-avdelingen",
      "Maler, stiler og lange dokumenter uten stress."),
    T("Digital sikkerhet – phishing og passord", 1, 2, 1, (13, 15), 40, 0, "IKT-avdelingen",
      "Kjenn igjen svindelforsøk og ta vare på passordene dine."),
    T("Elektronisk pasientjournal – grunnkurs", 1, 0, 1, (9, 15), 12, 0, "Superbrukerne",
      "Dokumentasjon, rapport og meldingsutveksling i journalsystemet."),
    T("Sak- og arkivsystemet for nye brukere", 1, 2, 1, (9, 14), 12, 0, "Arkivtjenesten",
      "Journalføring, saksgang og arkivering i praksis."),
    T("Digital dømmekraft i skolen", 1, 1, 1, (14, 17), 30, 0, "Skolefaglig rådgiver",
      "Personvern, kildekritikk og nettvett i undervisningen."),
    T("Lederprogram for nye ledere", 2, 2, 3, (9, 16), 20, 3500, "KS Læring",
      "Tre samlinger om rollen som leder, arbeidsrett og medarbeiderskap."),
    T("Medarbeidersamtalen i praksis", 2, 2, 1, (9, 13), 20, 0, "HR-avdelingen",
      "Forberedelse, gjennomføring og oppfølging av medarbeidersamtaler."),
    T("Sykefraværsoppfølging for ledere", 2, 2, 1, (9, 14), 25, 500, "NAV Arbeidslivssenter",
      "Tilrettelegging, oppfølgingsplan og dialogmøter."),
    T("Ledelse av endring", 2, 2, 2, (9, 15), 20, 1500, "KS Læring",
      "Hvordan lede medarbeidere gjennom omstilling."),
    T("Konflikthåndtering på arbeidsplassen", 2, 2, 1, (9, 15), 24, 800, "Bedriftshelsetjenesten",
      "Forstå konflikter tidlig og håndter dem før de vokser."),
    T("Legemiddelhåndtering – oppfriskning", 3, 0, 1, (9, 15), 25, 300, "Kommuneoverlegen",
      "Forskriften, dokumentasjon og trygg utdeling."),
    T("Palliasjon i kommunehelsetjenesten", 3, 0, 2, (9, 15), 30, 800, "Palliativt team",
      "Lindrende behandling og omsorg ved livets slutt."),
    T("Velferdsteknologi – grunnkurs", 3, 0, 1, (10, 15), 20, 0, "Velferdsteknologiteamet",
      "Digitalt tilsyn, medisindispensere og trygghetsalarmer."),
    T("Tidlig innsats i barnehagen", 3, 1, 2, (9, 15), 30, 600, "PP-tjenesten",
      "Se barna som trenger noe ekstra, og sett inn tiltak tidlig."),
    T("Anskaffelsesregelverket for saksbehandlere", 3, 2, 1, (9, 15), 30, 1000,
      "Innkjøpskontoret", "Terskelverdier, konkurranse og protokoll."),
    T("Kildesortering og avfallshåndtering", 3, 3, 1, (9, 12), 20, 0, "Renovasjonsselskapet",
      "Riktig sortering i kommunale bygg."),
    T("Hygiene og smittevern i hjemmetjenesten", 3, 0, 1, (9, 13), 25, 0, "Smittevernlegen",
      "Basale smittevernrutiner og bruk av smittevernutstyr."),
    T("Universell utforming av uteområder", 3, 3, 1, (9, 15), 20, 900, "Norges Handikapforbund",
      "Krav og gode løsninger for parker, lekeplasser og gangveier."),
    T("Klarspråk i vedtak og brev", 4, 2, 1, (9, 13), 24, 0, "Språkrådet",
      "Skriv vedtak som innbyggerne forstår første gang."),
    T("Kommunikasjon med pårørende", 4, 0, 1, (9, 15), 25, 600, "Pårørendealliansen",
      "Gode samtaler med pårørende, også når det er vanskelig."),
    T("Flerspråklige foreldre og barnehagen", 4, 1, 1, (17, 20), 30, 0, "Tolketjenesten",
      "Foreldresamtaler med tolk og god informasjon på flere språk."),
    T("Publikumsformidling i bibliotek og kulturhus", 4, 4, 1, (10, 14), 18, 0,
      "Kulturkontoret", "Arrangementer, formidling og nye publikumsgrupper."),
    T("Arrangementsplanlegging og sikkerhet", 0, 4, 1, (9, 14), 20, 500, "Kulturkontoret",
      "Risikovurdering, vakthold og beredskap ved større arrangementer."),
    T("Norsk på arbeidsplassen", 4, 0, 3, (14, 16), 14, 0, "Voksenopplæringen",
      "Muntlig norsk for ansatte med et annet morsmål."),
]

VISIBILITIES = [Visibility.PUBLIC, Visibility.REGION, Visibility.INTERNAL]
VISIBILITY_WEIGHTS = [30, 55, 15]


@dataclass
class PlannedCourse:
    """A past course before it is written; reads like a Course to billing.fees."""

    organisation_id: int
    organiser_id: int
    template: Template
    days: list[date]
    visibility: Visibility
    allow_guests: bool
    capacity: int
    fee_host_ore: int
    fee_region_ore: int
    fee_guest_ore: int
    free_cancellation_until: datetime | None
    charge_no_shows: bool
    published_at: datetime
    id: int | None = None
    registrations: list = field(default_factory=list)

    @property
    def sessions(self) -> list[tuple[datetime, datetime]]:
        start, end = self.template.hours
        return [(local_to_utc(day, time(start)), local_to_utc(day, time(end)))
                for day in self.days]

    @property
    def starts_at(self) -> datetime:
        return self.sessions[0][0]

    @property
    def ends_at(self) -> datetime:
        return self.sessions[-1][1]


def templates_for(rng: random.Random, count: int) -> list[Template]:
    """``count`` courses for one municipality: mostly different ones, two held twice."""
    chosen = rng.sample(TEMPLATES, count - 2)
    return chosen + rng.sample(chosen, 2)


def course_days(rng: random.Random, first: date, last: date, count: int,
                sessions: list[int]) -> list[list[date]]:
    """Session days for ``count`` courses spread evenly over the weekdays in [first,
    last] outside the holidays, a course of several sessions weekly."""
    open_days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    open_days = [day for day in open_days if day.weekday() < 5 and not _holiday(day)]
    slot = len(open_days) / count
    plans = []
    for number, weeks in enumerate(sessions):
        start = open_days[int(slot * number + rng.random() * slot)]
        days = [start + timedelta(days=7 * week) for week in range(weeks)]
        while days[-1] > last or any(map(_holiday, days)):  # a week earlier
            days = [day - timedelta(days=7) for day in days]
        plans.append(days)
    return plans


def _holiday(day: date) -> bool:
    """July (the common holiday) and Christmas till the 3rd of January."""
    return day.month == 7 or (day.month, day.day) >= (12, 20) or (day.month, day.day) <= (1, 3)


def plan_courses(rng: random.Random, organisation_id: int, organiser_id: int, slug: str,
                 today: date) -> list[PlannedCourse]:
    """This municipality's past courses, from HISTORY_DAYS ago until yesterday."""
    templates = templates_for(rng, COURSES_PER_MUNICIPALITY[slug])
    rng.shuffle(templates)
    days = course_days(rng, today - timedelta(days=HISTORY_DAYS), today - timedelta(days=1),
                       len(templates), [t.sessions for t in templates])
    return [_planned(rng, organisation_id, organiser_id, template, course_days_)
            for template, course_days_ in zip(templates, days, strict=True)]


def _planned(rng: random.Random, organisation_id: int, organiser_id: int,
             template: Template, days: list[date]) -> PlannedCourse:
    visibility = rng.choices(VISIBILITIES, VISIBILITY_WEIGHTS)[0]
    price = template.price
    # As the upcoming demo courses: other municipalities pay a quarter more, guests half
    # again; most paid courses are free to cancel until a week before.
    free_until = (local_to_utc(days[0] - timedelta(days=rng.choice([7, 7, 14])), time(12))
                  if price and rng.random() < 0.8 else None)
    return PlannedCourse(
        organisation_id=organisation_id, organiser_id=organiser_id, template=template,
        days=days, visibility=visibility,
        allow_guests=visibility == Visibility.PUBLIC and rng.random() < 0.6,
        capacity=max(8, template.seats + rng.randint(-4, 4)),
        fee_host_ore=price * 100, fee_region_ore=price * 125, fee_guest_ore=price * 150,
        free_cancellation_until=free_until, charge_no_shows=rng.random() < 0.7,
        published_at=local_to_utc(days[0] - timedelta(days=rng.randint(30, 60)), time(10)),
    )
