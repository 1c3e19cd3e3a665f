"""Realistic demo data: the Kongsberg region municipalities with people in every role,
a staff of employees, upcoming courses, and a year of past courses with registrations,
attendance and invoices (:mod:`frikomport.demo.history`); a competence catalogue, units
with leaders and requirements (:mod:`frikomport.demo.competence`), and the records and
course certificates the attendance gave (:mod:`frikomport.demo.competence_history`).

Idempotent: running it again adds only what is missing. Every demo account uses the
same password (printed by ``flask demo seed``); never load this into production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from frikomport.accounts.models import User
from frikomport.accounts.passwords import hash_password
from frikomport.db import utcnow
from frikomport.demo.catalogue import HISTORY_DAYS
from frikomport.demo.competence import seed_competence
from frikomport.demo.competence_history import seed_competence_history
from frikomport.demo.courses import seed_courses, seed_registrations
from frikomport.demo.history import seed_history
from frikomport.demo.people import email_for, ensure_staff
from frikomport.tenancy.models import Membership, Organisation, Role
from frikomport.timeutil import to_local

DEMO_PASSWORD = "kurs-demo-2026"
DEMO_DOMAIN = "demo.frikomport.example.org"

MUNICIPALITIES = [
    ("kongsberg", "Kongsberg kommune", "Kirkegata 1, 3616 Kongsberg", "32 86 60 00"),
    ("notodden", "Notodden kommune", "Teatergata 3, 3674 Notodden", "35 01 50 00"),
    ("ovre-eiker", "Øvre Eiker kommune", "Rådhusgata 14, 3300 Hokksund", "32 25 10 00"),
    ("flesberg", "Flesberg kommune", "Lampeland, 3620 Flesberg", "32 29 50 00"),
    ("rollag", "Rollag kommune", "Rollag sentrum, 3626 Rollag", "32 20 85 00"),
    ("nore-og-uvdal", "Nore og Uvdal kommune", "Sentrum 10, 3630 Rødberg", "32 74 10 00"),
    ("hjartdal", "Hjartdal kommune", "Sauland, 3692 Sauland", "35 02 36 00"),
    ("tinn", "Tinn kommune", "Storstulgata 1, 3660 Rjukan", "35 08 00 00"),
]

# Made-up organisation numbers (valid check digits, not the municipalities' real ones),
# so the invoice basis can produce EHF between demo municipalities.
ORG_NUMBERS = dict(zip((slug for slug, *_ in MUNICIPALITIES),
                       ("990001375", "990002746", "990004110", "990005486", "990006857",
                        "990008221", "990009597", "990012334"), strict=True))

# Municipalities whose written form is Nynorsk (their pages and staff e-mails are in it).
NYNORSK = frozenset({"hjartdal", "nore-og-uvdal"})

# (first name, last name, role): an admin, an organiser and two employees per municipality.
PEOPLE = [
    [("Kari", "Nordmann", Role.ADMIN), ("Ola", "Haugen", Role.ORGANISER),
     ("Ingrid", "Lie", Role.EMPLOYEE), ("Per", "Bakke", Role.EMPLOYEE)],
    [("Siri", "Berg", Role.ADMIN), ("Lars", "Dahl", Role.ORGANISER),
     ("Marte", "Moen", Role.EMPLOYEE), ("Jonas", "Strand", Role.EMPLOYEE)],
    [("Hilde", "Solberg", Role.ADMIN), ("Knut", "Eriksen", Role.ORGANISER),
     ("Nora", "Lund", Role.EMPLOYEE), ("Emil", "Hagen", Role.EMPLOYEE)],
    [("Turid", "Flaten", Role.ADMIN), ("Geir", "Rustad", Role.ORGANISER),
     ("Sofie", "Myhre", Role.EMPLOYEE), ("Anders", "Tveit", Role.EMPLOYEE)],
    [("Randi", "Kjos", Role.ADMIN), ("Olav", "Bråten", Role.ORGANISER),
     ("Ida", "Sønsteby", Role.EMPLOYEE), ("Henrik", "Lia", Role.EMPLOYEE)],
    [("Gro", "Fekjær", Role.ADMIN), ("Tor", "Hovde", Role.ORGANISER),
     ("Maja", "Nerol", Role.EMPLOYEE), ("Sindre", "Uvdal", Role.EMPLOYEE)],
    [("Åse", "Tufte", Role.ADMIN), ("Bjørn", "Sauland", Role.ORGANISER),
     ("Live", "Heddal", Role.EMPLOYEE), ("Even", "Tuddal", Role.EMPLOYEE)],
    [("Marit", "Rjukan", Role.ADMIN), ("Stein", "Mæl", Role.ORGANISER),
     ("Oda", "Atrå", Role.EMPLOYEE), ("Vegard", "Austbygde", Role.EMPLOYEE)],
]

DESCRIPTIONS = {
    "kongsberg": "Kongsberg kommune deler kurs i helse og omsorg, oppvekst og digitalisering "
                 "med nabokommunene i regionen.",
}


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    organisation: str
    role: str


def _email(first: str, last: str, slug: str) -> str:
    return email_for(first, last, slug, DEMO_DOMAIN)


def seed(session: Session, now: datetime | None = None) -> list[DemoAccount]:
    """Load the demo tenants, accounts, upcoming courses and a year of history; return
    the named accounts for printing (the other employees are not printed)."""
    now = now or utcnow()
    password_hash = hash_password(DEMO_PASSWORD)  # once: hashing is slow on purpose
    accounts = [_site_admin(session, password_hash)]
    organisations = []
    for index, (slug, name, address, phone) in enumerate(MUNICIPALITIES):
        organisation = _organisation(session, slug, name, address, phone)
        organisations.append(organisation)
        for first, last, role in PEOPLE[index]:
            email = _email(first, last, slug)
            _person(session, organisation, email, f"{first} {last}", role, password_hash)
            accounts.append(DemoAccount(email, f"{first} {last}", name, role.value))
    session.flush()
    ensure_staff(session, organisations, password_hash, DEMO_DOMAIN,
                 since=now - timedelta(days=HISTORY_DAYS + 90),
                 named={account.email for account in accounts})
    addresses = {slug: address for slug, _name, address, _phone in MUNICIPALITIES}
    seed_courses(session, to_local(now).date(), addresses)
    seed_registrations(session, [a.email for a in accounts if a.role == Role.EMPLOYEE])
    seed_history(session, now)
    seed_competence(session, organisations)
    seed_competence_history(session, now)
    return accounts


def _site_admin(session: Session, password_hash: str) -> DemoAccount:
    email = f"driftsansvarlig@{DEMO_DOMAIN}"
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        session.add(User(email=email, name="Driftsansvarlig", password_hash=password_hash,
                         is_site_admin=True, email_confirmed_at=utcnow()))
    return DemoAccount(email, "Driftsansvarlig", "—", "site admin")


def _organisation(session: Session, slug: str, name: str, address: str,
                  phone: str) -> Organisation:
    organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        organisation = Organisation(
            slug=slug, name=name, region="Kongsbergregionen",
            description=DESCRIPTIONS.get(
                slug, f"{name} er med i kurssamarbeidet i Kongsbergregionen. Besøksadresse: "
                      f"{address}."),
            contact_email=f"kurs@{slug}.{DEMO_DOMAIN}", contact_phone=phone,
            language="nn" if slug in NYNORSK else "nb",
            org_number=ORG_NUMBERS[slug], invoice_email=f"faktura@{slug}.{DEMO_DOMAIN}",
            buyer_reference="Opplæring", invoice_street=address.split(",")[0],
            invoice_postcode=address.rsplit(",", 1)[1].split()[0],
            invoice_city=address.rsplit(",", 1)[1].split(maxsplit=1)[1],
        )
        session.add(organisation)
        session.flush()
    return organisation


def _person(session: Session, organisation: Organisation, email: str, name: str, role: Role,
            password_hash: str) -> None:
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, password_hash=password_hash,
                    home_organisation=organisation, email_confirmed_at=utcnow())
        session.add(user)
    if user.role_in(organisation.id) is None:
        user.memberships.append(Membership(organisation=organisation, role=role))
