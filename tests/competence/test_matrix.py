"""A unit's competence matrix: who may see it, each cell's state around the boundaries
(Oslo dates), job-title requirements, the summary, the spreadsheet, and a constant number
of statements however many people the unit has."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from frikomport.audit.models import AuditEvent
from frikomport.competence.matrix import unit_matrix
from frikomport.competence.models import RecordStatus
from frikomport.competence.records import Standing
from frikomport.extensions import db
from frikomport.tenancy.models import Role
from tests.competence.builders import competence, hold, lead, make_unit, place, require
from tests.factories import member
from tests.test_query_counts import counted_queries

# 22:30 UTC on 31 March 2027 is 00:30 on 1 April in Oslo (summer time, UTC+2).
NOW = datetime(2027, 3, 31, 22, 30, tzinfo=UTC)
TODAY = date(2027, 4, 1)


def _standings(matrix) -> dict[str, list[Standing | None]]:
    return {row.name: [cell.standing for cell in row.cells] for row in matrix.rows}


def test_the_state_of_each_holding_around_the_boundaries(app, kongsberg):
    admin = member(kongsberg, Role.ADMIN)
    unit = make_unit(kongsberg, "Sykehjemmet")
    hlr = competence("HLR")
    require(unit, hlr)
    holdings = {
        "A last day today": TODAY,
        "B last day yesterday": TODAY - timedelta(days=1),
        "C 90 days more": TODAY + timedelta(days=90),
        "D 91 days more": TODAY + timedelta(days=91),
        "E no expiry": None,
    }
    for name, valid_until in holdings.items():
        person = member(kongsberg, name=name)
        place(person, unit)
        hold(person, hlr, valid_until)
    for name, status in (("F never held", None), ("G pending", RecordStatus.PENDING),
                         ("H rejected", RecordStatus.REJECTED)):
        person = member(kongsberg, name=name)
        place(person, unit)
        if status:
            hold(person, hlr, TODAY + timedelta(days=300), status)

    matrix = unit_matrix(db.session, admin, unit, now=NOW)
    assert matrix.on == TODAY
    assert _standings(matrix) == {
        "A last day today": [Standing.EXPIRING], "B last day yesterday": [Standing.EXPIRED],
        "C 90 days more": [Standing.EXPIRING], "D 91 days more": [Standing.VALID],
        "E no expiry": [Standing.VALID], "F never held": [Standing.MISSING],
        "G pending": [Standing.MISSING], "H rejected": [Standing.MISSING]}
    assert matrix.rows[1].cells[0].valid_until == date(2027, 3, 31)
    [tally] = matrix.summary
    assert tally.counts == {Standing.VALID: 2, Standing.EXPIRING: 2, Standing.EXPIRED: 1,
                            Standing.MISSING: 3}
    # A minute before Oslo midnight it is still 31 March: yesterday's last day is today's.
    late_evening = datetime(2027, 3, 31, 21, 59, tzinfo=UTC)
    assert _standings(unit_matrix(db.session, admin, unit, now=late_evening))[
        "B last day yesterday"] == [Standing.EXPIRING]


def test_the_latest_approved_record_decides(app, kongsberg):
    admin = member(kongsberg, Role.ADMIN)
    unit = make_unit(kongsberg, "Skolen")
    hlr = competence("HLR")
    require(unit, hlr)
    renewed = member(kongsberg)
    place(renewed, unit)
    hold(renewed, hlr, date(2026, 1, 1))
    hold(renewed, hlr, date(2028, 1, 1))
    [row] = unit_matrix(db.session, admin, unit, now=NOW).rows
    assert row.cells[0].standing == Standing.VALID
    assert row.cells[0].valid_until == date(2028, 1, 1)


def test_a_job_title_requirement_applies_only_to_that_title(app, kongsberg):
    """(A disabled account is left out.)"""
    admin = member(kongsberg, Role.ADMIN)
    unit = make_unit(kongsberg, "Sykehjemmet")
    hlr, medicine = competence("HLR"), competence("Legemiddelhåndtering")
    require(unit, hlr)
    require(unit, medicine, "Sykepleier")
    nurse = member(kongsberg, name="Nina", job_title=" sykepleier")
    assistant = member(kongsberg, name="Per", job_title="Helsefagarbeider")
    gone = member(kongsberg, name="Borte", job_title="Sykepleier", is_enabled=False)
    for person in (nurse, assistant, gone):
        place(person, unit)
        hold(person, medicine, TODAY + timedelta(days=200))
    matrix = unit_matrix(db.session, admin, unit, now=NOW)
    assert [c.name for c in matrix.competences] == ["HLR", "Legemiddelhåndtering"]
    assert _standings(matrix) == {"Nina": [Standing.MISSING, Standing.VALID],
                                  "Per": [Standing.MISSING, None]}
    assert [tally.required for tally in matrix.summary] == [2, 1]


def _unit_with_people(organisation, count: int):
    unit = make_unit(organisation, f"Enhet med {count}")
    required = [competence(f"Kompetanse {count}-{n}") for n in range(3)]
    for competence_ in required:
        require(unit, competence_)
    require(unit, required[0], "Sykepleier")
    for number in range(count):
        person = member(organisation, job_title="Sykepleier" if number % 2 else "")
        place(person, unit)
        hold(person, required[number % 3], TODAY + timedelta(days=number))
    return unit


def test_the_matrix_reads_what_people_hold_in_one_grouped_query(client, login, kongsberg):
    admin = member(kongsberg, Role.ADMIN)
    login(admin)
    small, large = _unit_with_people(kongsberg, 3), _unit_with_people(kongsberg, 40)
    counts = []
    for unit in (small, large):
        with counted_queries() as statements:
            matrix = unit_matrix(db.session, admin, unit, now=NOW)
        assert len(matrix.rows) in (3, 40)
        grouped = [s for s in statements if "GROUP BY" in s and "competence_record" in s]
        assert len(grouped) == 1
        # the requirements, the people and what they hold (the rest checks permissions)
        assert len([s for s in statements if "competence_re" in s or "JOIN membership" in s
                    ]) == 3
        counts.append(len(statements))
        with counted_queries() as statements:
            assert client.get(f"/o/kongsberg/units/{unit.id}/matrix").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[2] and counts[1] == counts[3]


def test_who_may_see_a_units_matrix(client, login, kongsberg, notodden):
    unit_a, unit_b = make_unit(kongsberg, "Enhet A"), make_unit(kongsberg, "Enhet B")
    theirs = make_unit(notodden, "Notoddens enhet")
    leader = member(kongsberg, Role.EMPLOYEE)  # leading a unit needs no role above employee
    lead(leader, unit_a)
    login(leader)
    assert client.get(f"/o/kongsberg/units/{unit_a.id}/matrix").status_code == 200
    assert client.get(f"/o/kongsberg/units/{unit_a.id}/matrix.xlsx").status_code == 200
    assert client.get(f"/o/kongsberg/units/{unit_b.id}/matrix").status_code == 403
    assert client.get(f"/o/kongsberg/units/{unit_b.id}/matrix.xlsx").status_code == 403
    assert client.get(f"/o/notodden/units/{theirs.id}/matrix").status_code == 404
    assert client.get(f"/o/kongsberg/units/{theirs.id}/matrix").status_code == 404
    listing = client.get("/o/kongsberg/units").text
    assert "Enhet A" in listing and "Enhet B" not in listing
    assert 'href="/o/kongsberg/units"' in client.get("/o/kongsberg/").text
    assert client.get("/o/notodden/units").status_code == 404


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.ORGANISER])
def test_a_member_who_leads_nothing_sees_no_matrix(client, login, kongsberg, role):
    unit = make_unit(kongsberg, "Enhet A")
    person = member(kongsberg, role)
    place(person, unit)  # being in the unit is not leading it
    login(person)
    assert client.get(f"/o/kongsberg/units/{unit.id}/matrix").status_code == 403
    assert client.get(f"/o/kongsberg/units/{unit.id}/matrix.xlsx").status_code == 403
    assert client.get("/o/kongsberg/units").status_code == 403
    assert 'href="/o/kongsberg/units"' not in client.get("/o/kongsberg/").text


def test_an_admin_sees_every_unit(client, login, kongsberg):
    units = [make_unit(kongsberg, "Enhet A"), make_unit(kongsberg, "Enhet B")]
    login(member(kongsberg, Role.ADMIN))
    listing = client.get("/o/kongsberg/units").text
    assert "Enhet A" in listing and "Enhet B" in listing
    for unit in units:
        assert client.get(f"/o/kongsberg/units/{unit.id}/matrix").status_code == 200


# The page and the spreadsheet -----------------------------------------------------------

def _matrix_world(organisation):
    unit = make_unit(organisation, "Sykehjemmet")
    hlr, medicine = competence("HLR"), competence("=Legemidler")  # a formula is made text
    require(unit, hlr)
    require(unit, medicine, "Sykepleier")
    ola = member(organisation, name="Ola Nordmann", job_title="Sykepleier")
    kari = member(organisation, name="Kari Nordmann", job_title="Assistent")
    lise = member(organisation, name="Lise Lund", job_title="")
    for person in (ola, kari, lise):
        place(person, unit)
    today = unit_matrix(db.session, member(organisation, Role.ADMIN), unit).on
    hold(ola, hlr, today + timedelta(days=400))
    hold(ola, medicine, today + timedelta(days=10))
    hold(kari, hlr, today - timedelta(days=1))
    return unit, today


def _page_rows(html: str) -> list[list[str]]:
    """Each body row of the matrix: the name, then per cell its words and date."""
    table = html.split('id="matrix"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S):
        name = re.search(r'<th scope="row">(.*?)(?:<span|</th>)', row, re.S).group(1)
        cells = []
        for cell in re.findall(r"<td>(.*?)</td>", row, re.S):
            words = re.sub(r'<span aria-hidden="true">.*?</span>|<[^>]+>', " ", cell)
            when = re.search(r'datetime="([0-9-]+)"', cell)
            cells.append((" ".join(unescape(words).split()), when.group(1) if when else None))
        rows.append([unescape(name).strip(), *cells])
    return rows


def test_the_page_shows_each_state_in_words_in_an_accessible_table(client, login, kongsberg):
    unit, today = _matrix_world(kongsberg)
    login(member(kongsberg, Role.ADMIN))
    html = client.get(f"/o/kongsberg/units/{unit.id}/matrix").text
    assert ('<div class="table-scroll" role="region" tabindex="0" '
            'aria-labelledby="matrix-caption">') in html
    assert '<caption id="matrix-caption"' in html and '<th scope="col">' in html
    later = (today + timedelta(days=400)).isoformat()
    soon = (today + timedelta(days=10)).isoformat()
    yesterday = (today - timedelta(days=1)).isoformat()
    last_day = "siste gyldige dag"
    assert _page_rows(html) == [  # the columns by name: "=Legemidler", "HLR"
        ["Kari Nordmann", ("Ikke påkrevd", None),
         (f"Utløpt {last_day} {_short(today - timedelta(days=1))}", yesterday)],
        ["Lise Lund", ("Ikke påkrevd", None), ("Mangler", None)],
        ["Ola Nordmann", (f"Utløper snart {last_day} {_short(today + timedelta(days=10))}", soon),
         (f"Gyldig {last_day} {_short(today + timedelta(days=400))}", later)]]
    assert 'data-color="danger"><span aria-hidden="true">✕ </span>Utløpt' in html


def _short(day: date) -> str:
    from frikomport.templating import date_short

    return date_short(day)


def test_the_spreadsheet_equals_the_page(client, login, kongsberg):
    unit, today = _matrix_world(kongsberg)
    login(member(kongsberg, Role.ADMIN))
    page = _page_rows(client.get(f"/o/kongsberg/units/{unit.id}/matrix").text)
    response = client.get(f"/o/kongsberg/units/{unit.id}/matrix.xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert f"kompetanse-enhet-{unit.id}-{today.isoformat()}.xlsx" in response.headers[
        "Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    sheet, summary = workbook.worksheets
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0].startswith("Kompetanse i Sykehjemmet")
    assert rows[1] == ("Navn", "Stillingstittel", "'=Legemidler",
                       "'=Legemidler: siste gyldige dag", "HLR", "HLR: siste gyldige dag")
    for page_row, sheet_row in zip(page, rows[2:], strict=True):
        assert sheet_row[0] == page_row[0]
        for (words, when), state, until in zip(page_row[1:], sheet_row[2::2], sheet_row[3::2],
                                               strict=True):
            assert words.startswith(state)
            assert (until.date().isoformat() if until else None) == when
    assert list(summary.iter_rows(min_row=2, values_only=True)) == [
        ("Kompetanse", "Gyldig", "Utløper snart", "Utløpt", "Mangler"),
        ("'=Legemidler", 0, 1, 0, 0), ("HLR", 1, 0, 1, 1)]
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.object_id == unit.id)) == "unit.matrix_downloaded"


def test_an_empty_unit_says_so(client, login, kongsberg):
    unit = make_unit(kongsberg, "Tom")
    login(member(kongsberg, Role.ADMIN))
    assert "Enheten krever ingen kompetanser ennå." in client.get(
        f"/o/kongsberg/units/{unit.id}/matrix").text
    require(unit, competence("HLR"))
    assert "Ingen er plassert i denne enheten ennå." in client.get(
        f"/o/kongsberg/units/{unit.id}/matrix").text
    rows = list(load_workbook(io.BytesIO(client.get(
        f"/o/kongsberg/units/{unit.id}/matrix.xlsx").data)).worksheets[0].values)
    assert len(rows) == 2  # the title and the headers
