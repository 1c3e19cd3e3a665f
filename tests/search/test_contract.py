"""One contract, every backend: what users may expect from search."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from frikomport.search.interface import CourseDocument, SearchQuery, Viewer
from tests.search.conftest import BACKENDS

pytestmark = BACKENDS

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ANONYMOUS = Viewer()
KONGSBERG, NOTODDEN = 1, 2
KONGSBERG_EMPLOYEE = Viewer(True, False, frozenset({KONGSBERG}))
NOTODDEN_EMPLOYEE = Viewer(True, False, frozenset({NOTODDEN}))
SITE_ADMIN = Viewer(True, True, frozenset())


def doc(course_id, title, summary="", body="", *, visibility="public", org=KONGSBERG,
        category="Helse", area="Helse og omsorg", days=10, free=True):
    starts = NOW + timedelta(days=days)
    return CourseDocument(
        course_id=course_id, organisation_id=org,
        organisation_slug="kongsberg" if org == KONGSBERG else "notodden",
        organisation_name="Kongsberg kommune" if org == KONGSBERG else "Notodden kommune",
        visibility=visibility, title=title, summary=summary, body=body, category=category,
        service_area=area, starts_at=starts, ends_at=starts + timedelta(hours=3),
        month=f"{starts.year}-{starts.month:02d}", free_seats=free)


CATALOGUE = [
    doc(1, "Førstehjelp for barnehageansatte", "Praktisk kurs i HLR og skader.",
        "Vi øver på hjerte-lunge-redning.", category="Sikkerhet", days=5),
    doc(2, "Kurset i demensomsorg", "For sykepleiere og helsefagarbeidere.",
        "Demensomsorgens ABC.", visibility="region", org=NOTODDEN, days=40),
    doc(3, "Lederutvikling", "Ledelse og arbeidsmiljø for mellomledere.",
        visibility="internal", org=KONGSBERG, category="Ledelse", area="Administrasjon",
        days=20),
    doc(4, "Excel for saksbehandlere", "Pivot tables and formulas – taught in English.",
        "Bring your own laptop. <script>alert('x')</script>", category="Digitalt",
        area="Administrasjon", days=15, free=False),
    doc(5, "Hemmelig budsjettkurs", "Internt i Notodden.", visibility="internal",
        org=NOTODDEN, category="Økonomi", area="Administrasjon", days=12),
    doc(6, "Gammelt førstehjelpskurs", "Allerede holdt.", days=-30),
]


@pytest.fixture
def index(backend):
    backend.rebuild(CATALOGUE)
    return backend


def ids(index, text="", viewer=ANONYMOUS, **filters):
    results = index.search(SearchQuery(text=text, viewer=viewer, now=NOW, **filters))
    return [hit.course_id for hit in results.hits]


# Language -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["førstehjelp", "forstehjelp", "FØRSTEHJELP", "Forstehjelpen"])
def test_folding_and_case(index, text):
    assert ids(index, text) == [1]


@pytest.mark.parametrize("text", ["kurs", "kurset", "kursene"])
def test_kurs_and_kurset_match_each_other(index, text):
    assert sorted(ids(index, text, SITE_ADMIN)) == [1, 2]


@pytest.mark.parametrize("text", ["sykepleier", "sykepleiere", "sykepleieren"])
def test_inflections_meet(index, text):
    assert ids(index, text, KONGSBERG_EMPLOYEE) == [2]


def test_english_content_is_searchable(index):
    assert ids(index, "formulas", KONGSBERG_EMPLOYEE) == [4]
    assert ids(index, "laptop", KONGSBERG_EMPLOYEE) == [4]


def test_compound_words_are_found_from_their_first_part(index):
    assert ids(index, "barnehage") == [1]
    assert ids(index, "demens", SITE_ADMIN) == [2]


def test_all_words_must_match_and_stop_words_are_ignored(index):
    assert ids(index, "førstehjelp barnehage") == [1]
    assert ids(index, "førstehjelp excel", SITE_ADMIN) == []
    assert ids(index, "kurs i førstehjelp for barnehagen") == [1]


def test_phrase(index):
    assert ids(index, '"praktisk kurs"') == [1]
    assert ids(index, '"kurs praktisk"') == []


def test_typo_in_a_long_word_still_finds(index):
    assert ids(index, "førstehjlp") == [1]
    assert ids(index, "forstehjelpp") == [1]


def test_swapped_letters_count_as_one_typo(index):
    assert ids(index, "demesnomsorg", SITE_ADMIN) == [2]
    assert ids(index, "fosrtehjelp") == [1]


def test_did_you_mean(index):
    results = index.search(SearchQuery(text="demensomsrg", viewer=KONGSBERG_EMPLOYEE, now=NOW))
    if results.total == 0:  # typo tolerance may already have found it
        assert results.suggestion == "demensomsorg"
    assert index.search(SearchQuery(text="sakbehandlerre", viewer=KONGSBERG_EMPLOYEE,
                                    now=NOW)).suggestion in (None, "saksbehandlere")


# Visibility -------------------------------------------------------------------------------

@pytest.mark.parametrize(("viewer", "expected"), [
    (ANONYMOUS, {1, 4}),
    (KONGSBERG_EMPLOYEE, {1, 2, 3, 4}),
    (NOTODDEN_EMPLOYEE, {1, 2, 4, 5}),
    (SITE_ADMIN, {1, 2, 3, 4, 5}),
])
def test_visibility_like_the_catalogue(index, viewer, expected):
    assert set(ids(index, "", viewer)) == expected
    results = index.search(SearchQuery(text="", viewer=viewer, now=NOW))
    assert results.total == len(expected)
    assert sum(results.facets["organisation"].values()) == len(expected)


def test_hidden_courses_leak_nowhere(index):
    assert ids(index, "budsjettkurs", KONGSBERG_EMPLOYEE) == []
    assert ids(index, "lederutvikling", ANONYMOUS) == []
    suggestions = index.suggest("hemm", KONGSBERG_EMPLOYEE, now=NOW)
    assert suggestions == []
    # The spelling dictionary knows every course, but may not reveal hidden words.
    leaked = index.search(SearchQuery(text="budsjettkkurs", viewer=KONGSBERG_EMPLOYEE, now=NOW))
    assert leaked.total == 0 and leaked.suggestion is None
    assert index.search(SearchQuery(text="demensomsrg", viewer=ANONYMOUS,
                                    now=NOW)).suggestion is None


def test_a_viewer_who_may_see_nothing_sees_nothing(backend):
    """Regression: Whoosh ignores an empty filter, which once showed everything."""
    backend.rebuild([doc(1, "Intern førstehjelp", visibility="internal"),
                     doc(2, "Regional førstehjelp", visibility="region")])
    results = backend.search(SearchQuery(text="førstehjelp", viewer=ANONYMOUS, now=NOW))
    assert (results.total, results.hits) == (0, [])
    assert backend.search(SearchQuery(text="", viewer=ANONYMOUS, now=NOW)).hits == []
    assert backend.suggest("før", ANONYMOUS, now=NOW) == []
    typo = backend.search(SearchQuery(text="forstehjelpp", viewer=ANONYMOUS, now=NOW))
    assert (typo.hits, typo.suggestion) == ([], None)


def test_past_courses_are_not_found(index):
    assert 6 not in ids(index, "førstehjelp", SITE_ADMIN)


def test_earlier_courses_are_searched_only_when_asked(index):
    assert set(ids(index, "førstehjelp", SITE_ADMIN, include_past=True)) == {1, 6}
    assert set(ids(index, "", ANONYMOUS, include_past=True)) == {1, 4, 6}  # still visibility
    everything = index.search(SearchQuery(text="", viewer=SITE_ADMIN, now=NOW,
                                          include_past=True))
    assert everything.total == 6
    assert everything.facets["organisation"] == {"kongsberg": 4, "notodden": 2}
    assert ids(index, "", SITE_ADMIN, sort="date", include_past=True) == [6, 1, 5, 4, 3, 2]
    assert ids(index, "gammelt", SITE_ADMIN) == []
    assert ids(index, "gammelt", SITE_ADMIN, include_past=True, organisation="kongsberg") == [6]


# Facets, filters, sorting, paging ------------------------------------------------------------

def test_facet_counts_and_filters(index):
    results = index.search(SearchQuery(text="", viewer=SITE_ADMIN, now=NOW))
    assert results.facets["organisation"] == {"kongsberg": 3, "notodden": 2}
    assert results.facets["service_area"] == {"Helse og omsorg": 2, "Administrasjon": 3}
    assert results.facets["free_seats"] == {"1": 4, "0": 1}
    assert set(ids(index, "", SITE_ADMIN, organisation="notodden")) == {2, 5}
    assert set(ids(index, "", SITE_ADMIN, service_area="Administrasjon",
                   organisation="kongsberg")) == {3, 4}
    assert 4 not in ids(index, "", SITE_ADMIN, free_seats=True)
    month = CATALOGUE[0].month
    assert 1 in ids(index, "", SITE_ADMIN, month=month)


def test_totals_and_facets_count_every_match_not_just_the_top(backend):
    """Regression: Whoosh's top-N collector skipped weaker matches (title matches outrank
    description-only ones), so totals and facet counts came out far too low."""
    in_title = [doc(n, f"Kurs nummer {n}", days=3 + n) for n in range(1, 11)]
    in_text = [doc(n, f"Samling {n}", "Et kurs om noe annet.", days=3 + n)
               for n in range(11, 31)]
    backend.rebuild(in_title + in_text)
    results = backend.search(SearchQuery(text="kurs", viewer=ANONYMOUS, now=NOW, per_page=2))
    assert results.total == 30
    assert sum(results.facets["organisation"].values()) == 30
    assert results.hits[0].course_id <= 10  # title matches rank first


def test_sort_by_date_and_paging(index):
    by_date = ids(index, "", SITE_ADMIN, sort="date")
    assert by_date == [1, 5, 4, 3, 2]
    first = index.search(SearchQuery(text="", viewer=SITE_ADMIN, now=NOW, sort="date",
                                     per_page=2, page=1))
    third = index.search(SearchQuery(text="", viewer=SITE_ADMIN, now=NOW, sort="date",
                                     per_page=2, page=3))
    assert (first.total, first.pages) == (5, 3)
    assert [h.course_id for h in first.hits] == [1, 5]
    assert [h.course_id for h in third.hits] == [2]


def test_relevance_prefers_title_matches(index):
    index.update([doc(7, "Arbeidsmiljø i praksis", "Om trivsel.", days=8)], [])
    ranked = ids(index, "arbeidsmiljø", KONGSBERG_EMPLOYEE)
    assert ranked[0] == 7 and set(ranked) == {3, 7}


def test_snippets_highlight_and_escape(index):
    [hit] = index.search(SearchQuery(text="praktisk", viewer=ANONYMOUS, now=NOW)).hits
    assert "<mark>Praktisk</mark>" in hit.snippet
    [hit] = index.search(SearchQuery(text="laptop", viewer=KONGSBERG_EMPLOYEE, now=NOW)).hits
    assert "<script>" not in hit.snippet


# Keeping the index in step ---------------------------------------------------------------

def test_update_and_delete(index):
    index.update([replace(CATALOGUE[0], title="Livredning for barnehageansatte")], [4])
    assert ids(index, "livredning") == [1]
    assert ids(index, "førstehjelp") == []
    assert ids(index, "excel", SITE_ADMIN) == []


def test_rebuild_replaces_everything(index):
    assert index.rebuild([doc(9, "Nytt kurs")]) == 1
    assert ids(index, "", SITE_ADMIN) == [9]
    assert index.health()["documents"] == 1


# Typeahead -----------------------------------------------------------------------------

def test_typeahead_uses_word_beginnings(index):
    titles = [s.title for s in index.suggest("førs", ANONYMOUS, now=NOW)]
    assert titles == ["Førstehjelp for barnehageansatte"]
    assert [s.course_id for s in index.suggest("exc sak", KONGSBERG_EMPLOYEE, now=NOW)] == [4]
    assert [s.course_id for s in index.suggest("barneh", ANONYMOUS, now=NOW)] == [1]
    assert index.suggest("f", ANONYMOUS, now=NOW) == []
    # Folded, "før" is "for", but stop words are not word beginnings worth suggesting.
    assert [s.course_id for s in index.suggest("før", KONGSBERG_EMPLOYEE, now=NOW)] == [1]
    assert index.suggest("lederutv", ANONYMOUS, now=NOW) == []  # internal course
    assert [s.course_id for s in index.suggest("lederutv", KONGSBERG_EMPLOYEE,
                                               now=NOW)] == [3]
