"""More demo employees: a realistic staff per municipality who take the courses.

Names are drawn with a seeded ``random.Random``, so every run (and every database) gets
the same people; everyone shares the demo password hash the seed computed once.
Rows are written in bulk (hundreds of accounts through the ORM would slow the seed).
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from frikomport.accounts.models import User, new_session_nonce
from frikomport.demo.bulk import insert_rows
from frikomport.tenancy.models import Membership, Organisation, Role

# Extra employees per municipality, roughly by size (Kongsberg ≈ 28,000 inhabitants,
# Rollag ≈ 1,400).
STAFF = {"kongsberg": 40, "ovre-eiker": 34, "notodden": 30, "tinn": 22, "flesberg": 17,
         "nore-og-uvdal": 16, "hjartdal": 15, "rollag": 15}

FIRST_NAMES = [
    "Anne", "Inger", "Marit", "Liv", "Eva", "Berit", "Astrid", "Hilde", "Solveig", "Randi",
    "Nina", "Maria", "Elisabeth", "Kristin", "Silje", "Camilla", "Hanne", "Tone", "Heidi",
    "Guro", "Ragnhild", "Sigrid", "Thea", "Emma", "Julie", "Ingvild", "Linn", "Mari",
    "Tuva", "Vilde", "Synnøve", "Gunhild", "Aisha", "Fatima", "Agnieszka", "Linh",
    "Jan", "Bjørn", "Kjell", "Arne", "Svein", "Thomas", "Hans", "Morten", "Terje", "Odd",
    "Erik", "Martin", "Andreas", "Rune", "Trond", "Tore", "Espen", "Magnus", "Håkon",
    "Kristian", "Eirik", "Øyvind", "Steinar", "Audun", "Halvor", "Gunnar", "Sigurd",
    "Torbjørn", "Vidar", "Aslak", "Mohammed", "Tomasz",
]
LAST_NAMES = [
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Karlsen",
    "Pettersen", "Eriksen", "Johannessen", "Jacobsen", "Halvorsen", "Henriksen",
    "Sørensen", "Gundersen", "Iversen", "Svendsen", "Eide", "Knutsen", "Martinsen",
    "Bakken", "Kristoffersen", "Amundsen", "Rasmussen", "Lunde", "Solheim", "Nygård",
    "Holm", "Lien", "Hauge", "Evensen", "Sæther", "Aas", "Haugland", "Thorsen", "Ruud",
    "Aasen", "Tangen", "Ødegård", "Brekke", "Gulbrandsen", "Kittilsen", "Nordbø",
    "Tveiten", "Flatland", "Haugan", "Sandnes", "Bergan", "Fossum", "Stordahl", "Kvisle",
    "Nguyen", "Ali", "Kowalski", "Ahmed",
]
JOB_TITLES = [
    "Sykepleier", "Helsefagarbeider", "Vernepleier", "Assistent", "Lærer",
    "Barnehagelærer", "Fagarbeider", "Rådgiver", "Saksbehandler", "Konsulent",
    "Ingeniør", "Driftsoperatør", "Bibliotekar", "Miljøterapeut", "Avdelingsleder",
    "Fysioterapeut", "Merkantil medarbeider", "Renholder",
]
SEED = 1604  # any constant: the same people every run


def email_for(first: str, last: str, slug: str, domain: str) -> str:
    local = f"{first}.{last}".lower().translate(str.maketrans({"æ": "ae", "ø": "o", "å": "a"}))
    return f"{local}@{slug}.{domain}"


def staff_of(slug: str, rng: random.Random, taken: set[str],
             domain: str) -> list[tuple[str, str, str]]:
    """(name, e-mail, job title) for the municipality's extra employees; ``taken`` holds
    the addresses already given out (and is extended with these)."""
    people = []
    while len(people) < STAFF[slug]:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = email_for(first, last, slug, domain)
        if email not in taken:
            taken.add(email)
            people.append((f"{first} {last}", email, rng.choice(JOB_TITLES)))
    return people


def ensure_staff(session: Session, organisations: list[Organisation], password_hash: str,
                 domain: str, since: datetime, named: set[str]) -> int:
    """Create the extra employees that are missing (home organisation and employee
    membership); return how many were added. ``named``: the named demo accounts'
    addresses (never reused); ``since``: when the accounts were made."""
    rng, taken = random.Random(SEED), set(named)
    wanted = [(organisation.id, *person) for organisation in organisations
              for person in staff_of(organisation.slug, rng, taken, domain)]
    existing = set(session.scalars(select(User.email).where(
        User.email.in_([email for _org, _name, email, _title in wanted]))))
    rows = [_user_row(org_id, name, email, title, password_hash, since)
            for org_id, name, email, title in wanted if email not in existing]
    if not rows:
        return 0
    ids = insert_rows(session, User, rows)
    insert_rows(session, Membership, [
        {"organisation_id": row["home_organisation_id"], "user_id": user_id,
         "role": Role.EMPLOYEE, "created_at": since} for row, user_id in zip(rows, ids,
                                                                            strict=True)])
    return len(rows)


def _user_row(org_id: int, name: str, email: str, title: str, password_hash: str,
              since: datetime) -> dict:
    return {"email": email, "name": name, "phone": "", "job_title": title,
            "password_hash": password_hash, "locale": None, "is_site_admin": False,
            "is_enabled": True, "disabled_at": None, "email_confirmed_at": since,
            "session_nonce": new_session_nonce(), "home_organisation_id": org_id,
            "calendar_token": None, "created_at": since, "last_login_at": None}
