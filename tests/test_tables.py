"""Back-office list tables: every cell is labelled with its column (for the stacked phone
layout) and the table semantics are stated; row actions name the row they act on."""

from __future__ import annotations

from html.parser import HTMLParser

from frikomport.registrations.models import RegistrationState as S
from frikomport.tenancy.models import Role
from tests.factories import CourseFactory, member
from tests.factories import register as add_registration


class ListTables(HTMLParser):
    """The list tables of a page: their column headers and each body cell's attributes."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self._section = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and "list-table" in attributes.get("class", ""):
            self.tables.append({"role": attributes.get("role"), "headers": [], "cells": []})
        elif not self.tables:
            return
        elif tag in ("thead", "tbody"):
            self._section = tag
        elif tag in ("th", "td") and self._section == "thead":
            self.tables[-1]["headers"].append(attributes)
        elif tag in ("th", "td") and self._section == "tbody":
            self.tables[-1]["cells"].append(attributes)

    def handle_endtag(self, tag):
        if tag == "table":
            self._section = None


def list_tables(html: str) -> list[dict]:
    parser = ListTables()
    parser.feed(html)
    return parser.tables


def test_participant_cells_carry_their_column_and_roles(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, requires_approval=True)
    add_registration(course, member(kongsberg, name="Petra Pending"), S.PENDING)
    login(member(kongsberg, Role.ORGANISER))
    [participants, _history] = list_tables(
        client.get(f"/o/kongsberg/admin/courses/{course.id}/participants").text)
    assert participants["role"] == "table"
    assert {header["role"] for header in participants["headers"]} == {"columnheader"}
    labels = [cell["data-label"] for cell in participants["cells"]]
    assert len(labels) == len(participants["headers"]) == 5
    assert participants["cells"][0]["role"] == "rowheader"
    assert {cell["role"] for cell in participants["cells"][1:]} == {"cell"}


def test_a_row_menu_names_the_participant_on_every_control(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg, requires_approval=True)
    add_registration(course, member(kongsberg, name="Petra Pending"), S.PENDING)
    login(member(kongsberg, Role.ORGANISER))
    page = client.get(f"/o/kongsberg/admin/courses/{course.id}/participants").text
    start = page.index('<details class="row-menu">')
    menu = page[start:page.index("</details>", start)]
    assert menu.count('<span class="ds-sr-only"> – Petra Pending</span>') == 3  # menu + 2
    assert 'data-color="warning"' in page  # the status tag of a registration awaiting approval


def test_an_empty_list_says_so_in_one_cell(client, login, kongsberg):
    course = CourseFactory(organisation=kongsberg)
    login(member(kongsberg, Role.ORGANISER))
    [participants, _history] = list_tables(
        client.get(f"/o/kongsberg/admin/courses/{course.id}/participants").text)
    [cell] = participants["cells"]
    assert cell["colspan"] == "5" and "data-label" not in cell
