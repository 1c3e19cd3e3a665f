"""Search benchmark: index N generated courses and time typical queries, per backend.

    .venv/bin/python bench/search_bench.py                      # Whoosh, 50,000 courses
    .venv/bin/python bench/search_bench.py --courses 5000
    .venv/bin/python bench/search_bench.py --database-url postgresql://postgres@127.0.0.1/bench

With a PostgreSQL URL the PostgreSQL backend is measured too (its search_document table
in that database is replaced). Every query runs as an employee of one municipality, so
the visibility/tenant filter is applied as on the site; each search includes the facet
counts that the search page shows. Prints indexing rate and median/p95 latency.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade

from frikomport import create_app
from frikomport.extensions import db
from frikomport.search.interface import CourseDocument, SearchQuery, Viewer
from frikomport.search.postgres_backend import PostgresBackend
from frikomport.search.whoosh_backend import WhooshBackend

TOPICS = [
    ("førstehjelp", "Førstehjelp"), ("hjerte-lunge-redning", "Hjerte-lunge-redning"),
    ("demensomsorg", "Demensomsorg"), ("legemiddelhåndtering", "Legemiddelhåndtering"),
    ("brannvern", "Brannvern"), ("ledelse", "Ledelse"), ("excel", "Excel"),
    ("teams", "Microsoft Teams"), ("personvern", "Personvern og GDPR"),
    ("klarspråk", "Klarspråk"), ("saksbehandling", "Saksbehandling"),
    ("arkivering", "Arkivering i Elements"), ("velferdsteknologi", "Velferdsteknologi"),
    ("språkopplæring", "Norsk språkopplæring"), ("arbeidsmiljø", "Arbeidsmiljø"),
    ("konflikthåndtering", "Konflikthåndtering"), ("forvaltningsloven", "Forvaltningsloven"),
    ("innkjøp", "Offentlige innkjøp"), ("budsjett", "Budsjett og økonomistyring"),
    ("ernæring", "Ernæring for eldre"), ("smittevern", "Smittevern"),
    ("lesing", "Lesing i småskolen"), ("trafikksikkerhet", "Trafikksikkerhet"),
    ("friluftsliv", "Friluftsliv i barnehagen"), ("universell", "Universell utforming"),
    ("diabetes", "Diabetes hos eldre"), ("palliasjon", "Palliasjon og lindrende omsorg"),
    ("rehabilitering", "Hverdagsrehabilitering"), ("psykiatri", "Psykisk helse i kommunen"),
    ("rus", "Rus og avhengighet"), ("autisme", "Autisme i skolen"),
    ("adhd", "ADHD – tiltak i klasserommet"), ("mobbing", "Mobbing og skolemiljø"),
    ("dysleksi", "Dysleksi og lesevansker"), ("matematikk", "Matematikk på mellomtrinnet"),
    ("programmering", "Programmering i skolen"), ("vurdering", "Vurdering for læring"),
    ("foreldresamarbeid", "Foreldresamarbeid i barnehagen"), ("tegnspråk", "Tegn til tale"),
    ("barnevern", "Barnevern og meldeplikt"), ("taushetsplikt", "Taushetsplikt i praksis"),
    ("journalføring", "Journalføring i helsetjenesten"), ("vaksinasjon", "Vaksinasjon"),
    ("sårbehandling", "Sårbehandling"), ("ernæringsscreening", "Ernæringsscreening"),
    ("fallforebygging", "Fallforebygging"), ("forflytning", "Forflytningsteknikk"),
    ("medisinsk", "Medisinsk avfall"), ("hygiene", "Håndhygiene"),
    ("vold", "Vold og trusler"), ("beredskap", "Beredskap og krisehåndtering"),
    ("varsling", "Varsling av kritikkverdige forhold"), ("etikk", "Etikk i offentlig sektor"),
    ("korrupsjon", "Antikorrupsjon"), ("lønn", "Lønn og personal"),
    ("rekruttering", "Rekruttering og intervju"), ("medarbeidersamtale", "Medarbeidersamtalen"),
    ("sykefravær", "Oppfølging av sykefravær"), ("turnus", "Turnusplanlegging"),
    ("offentlighet", "Offentlighetsloven"), ("plan", "Plan- og bygningsloven"),
    ("byggesak", "Byggesaksbehandling"), ("kart", "Kart og oppmåling"),
    ("vann", "Vann og avløp"), ("veg", "Vinterdrift av veg"), ("renhold", "Renhold"),
    ("kjøkken", "Storkjøkken og mattrygghet"), ("bibliotek", "Bibliotek og lesestimulering"),
    ("kulturskole", "Kulturskolen"), ("idrett", "Idrett og frivillighet"),
    ("integrering", "Integrering og introduksjonsprogram"),
    ("bosetting", "Bosetting av flyktninger"),
    ("skriving", "Skriving av saksframlegg"), ("presentasjon", "Presentasjonsteknikk"),
    ("sosiale", "Sosiale medier i kommunen"), ("informasjonssikkerhet", "Informasjonssikkerhet"),
    ("kunstig", "Kunstig intelligens i forvaltningen"), ("sharepoint", "SharePoint"),
    ("prosjektledelse", "Prosjektledelse"), ("lean", "Lean og forbedringsarbeid"),
]
FORMS = ["kurs", "kurset", "opplæring", "samling", "seminar", "fagdag", "workshop", "webinar"]
AUDIENCES = ["for ansatte i barnehage", "for helsefagarbeidere", "for sykepleiere",
             "for lærere", "for ledere", "for saksbehandlere", "for nyansatte",
             "for ansatte i hjemmetjenesten", "for miljøarbeidere", "for alle ansatte"]
SENTENCES = [
    "Kurset er praktisk og bygger på erfaringer fra kommunene i regionen.",
    "Deltakerne får kursbevis etter fullført opplæring.",
    "Vi jobber i grupper og diskuterer eksempler fra egen arbeidsplass.",
    "Ta med egen PC og gjerne en kollega.",
    "Opplæringen gir oppdatert kunnskap om regelverk og god praksis.",
    "Lunsj er inkludert. Gi beskjed om allergier i påmeldingen.",
    "Kurset holdes på rådhuset, i kommunestyresalen.",
    "Samlingen passer for deg som vil friske opp kunnskapen din.",
    "The course is taught in English with examples from Norwegian municipalities.",
    "Kursholder har lang erfaring fra helse- og omsorgstjenesten.",
]
CATEGORIES = ["Førstehjelp og sikkerhet", "Digitale ferdigheter", "Ledelse", "Fag og kvalitet",
              "Språk og kommunikasjon"]
AREAS = ["Helse og omsorg", "Oppvekst og utdanning", "Administrasjon", "Teknisk drift",
         "Kultur"]
TYPOS = ["forstehjlp", "demensomsrog", "persnvern", "brannvren", "legemiddelhandtering",
         "saksbehandlng", "klarsprak", "velferdsteknolgi", "arbeidsmiljo", "forvaltningslovn"]
PHRASES = ['"praktisk opplæring"', '"egen arbeidsplass"', '"god praksis"',
           '"hjerte-lunge-redning"', '"alle ansatte"']
ORGANISATIONS = 50
NOW = datetime.now(UTC)


def generate(count: int, seed: int = 7) -> list[CourseDocument]:
    rng = random.Random(seed)
    documents = []
    for course_id in range(1, count + 1):
        word, topic = rng.choice(TOPICS)
        organisation = rng.randrange(1, ORGANISATIONS + 1)
        starts = NOW + timedelta(days=rng.randrange(1, 365), hours=rng.randrange(8, 15))
        visibility = rng.choices(["public", "region", "internal"], weights=[50, 35, 15])[0]
        documents.append(CourseDocument(
            course_id=course_id, organisation_id=organisation,
            organisation_slug=f"kommune-{organisation}",
            organisation_name=f"Kommune {organisation}", visibility=visibility,
            title=f"{topic} – {rng.choice(FORMS)} {rng.choice(AUDIENCES)}",
            summary=f"{rng.choice(SENTENCES)} Tema: {word}.",
            body=" ".join(rng.sample(SENTENCES, 4)),
            category=rng.choice(CATEGORIES), service_area=rng.choice(AREAS),
            starts_at=starts, ends_at=starts + timedelta(hours=3),
            month=f"{starts.year}-{starts.month:02d}", free_seats=rng.random() < 0.7))
    return documents


def query_sets(rng: random.Random, n: int) -> dict[str, list[str]]:
    topics = [word for word, _ in TOPICS]
    audiences = ["barnehage", "sykepleiere", "ledere", "saksbehandlere", "nyansatte"]
    return {
        "single term": [rng.choice(topics) for _ in range(n)],
        "broad term": [rng.choice(["kurs", "opplæring", "ansatte"]) for _ in range(n)],
        "two terms": [f"{rng.choice(topics)} {rng.choice(audiences)}" for _ in range(n)],
        "phrase": [rng.choice(PHRASES) for _ in range(n)],
        "typo": [rng.choice(TYPOS) for _ in range(n)],
        "typeahead": [rng.choice(topics)[: rng.randrange(2, 6)] for _ in range(n)],
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def measure(name: str, backend, documents: list[CourseDocument], queries: int) -> None:
    started = time.perf_counter()
    count = backend.rebuild(iter(documents))
    seconds = time.perf_counter() - started
    print(f"\n{name}: indexed {count} courses in {seconds:.1f} s = {count / seconds:.0f}/s")
    viewer = Viewer(True, False, frozenset({7}))  # an employee of municipality 7
    sets = query_sets(random.Random(11), queries)
    for text in sets["single term"][:20]:  # warm-up: open searchers, fill caches
        backend.search(SearchQuery(text=text, viewer=viewer, now=NOW))
    print(f"  {'query':<12} {'median':>8} {'p95':>8} {'max':>8}   hits (median)")
    for label, texts in sets.items():
        latencies, totals = [], []
        for text in texts:
            started = time.perf_counter()
            if label == "typeahead":
                backend.suggest(text, viewer, now=NOW)
            else:
                totals.append(backend.search(SearchQuery(text=text, viewer=viewer,
                                                         now=NOW)).total)
            latencies.append((time.perf_counter() - started) * 1000)
        hits = f"{statistics.median(totals):.0f}" if totals else "-"
        print(f"  {label:<12} {statistics.median(latencies):7.1f}ms "
              f"{percentile(latencies, 0.95):7.1f}ms {max(latencies):7.1f}ms   {hits}")
    if hasattr(backend, "close"):  # free the Whoosh searcher before the next backend
        backend.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--courses", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200, help="per query type")
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL URL: also measure the PostgreSQL backend there")
    args = parser.parse_args()

    print(f"generating {args.courses} courses …")
    documents = generate(args.courses)
    with tempfile.TemporaryDirectory() as directory:
        measure("whoosh", WhooshBackend(Path(directory)), documents, args.queries)
    if args.database_url.startswith("postgres"):
        app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url.replace(
            "postgresql://", "postgresql+psycopg://", 1), "DATA_DIR": tempfile.mkdtemp()})
        with app.app_context():
            upgrade()
            measure("postgresql", PostgresBackend(lambda: db.engine), documents, args.queries)
    else:
        print("\n(postgresql: skipped — pass --database-url postgresql://…)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
