"""A refused form says what is wrong and where (WCAG 3.3.1, 3.3.2, 1.3.1, 4.1.2).

Checked on the rendered HTML, without relying on the wording of messages: an error summary
at the top that the page focuses, linking each error to its input (also inputs in the
course form's session rows), inputs marked invalid and tied to their message, labels that
name the session row, the title's error prefix, and sign-up without a guessed employer.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired

from frikomport.accounts.models import User
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.tenancy.models import Role
from tests.factories import OrganisationFactory, member

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None = None):
        self.tag, self.attrs, self.parent, self.children, self.texts = tag, attrs, parent, [], []

    @property
    def text(self) -> str:
        parts = self.texts + [child.text for child in self.children]
        return " ".join(" ".join(parts).split())

    def iter(self):
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list[Node]:
        return [node for node in self.iter() if (tag is None or node.tag == tag) and all(
            node.attrs.get(name.replace("_", "-")) == value for name, value in attrs.items())]

    def with_class(self, name: str) -> list[Node]:
        return [node for node in self.iter() if name in node.attrs.get("class", "").split()]


class Page(HTMLParser):
    """Enough of a DOM to ask about ids, labels and the error summary."""

    def __init__(self, html: str):
        super().__init__()
        self.root = self.current = Node("#document", {})
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node.parent is not None and node.tag != tag:
            node = node.parent
        if node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.texts.append(data)

    def by_id(self, element_id: str) -> Node:
        found = self.root.find_all(id=element_id)
        assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
        return found[0]

    def label_of(self, element_id: str) -> str:
        labels = self.root.find_all("label", **{"for": element_id})
        assert len(labels) == 1, f"{len(labels)} labels for {element_id!r}"
        return labels[0].text

    @property
    def title(self) -> str:
        return self.root.find_all("title")[0].text

    def summary(self) -> Node:
        summaries = self.root.with_class("ds-error-summary")
        assert len(summaries) == 1, f"{len(summaries)} error summaries"
        return summaries[0]

    def summary_targets(self) -> list[str]:
        return [a.attrs["href"].removeprefix("#") for a in self.summary().find_all("a")]


def assert_summary_is_focusable_and_named(page: Page) -> None:
    summary = page.summary()
    assert summary.attrs["tabindex"] == "-1"
    assert summary.attrs["data-autofocus"] == "error"
    heading = page.by_id(summary.attrs["aria-labelledby"])
    assert heading.tag == "h2" and heading.text
    assert summary.find_all("ul") and summary.find_all("li")


def assert_linked_to_invalid_input(page: Page, target: str) -> None:
    """The summary links to the input; the input is marked invalid and described by its
    message; the link names the input by its label."""
    field = page.by_id(target)
    assert field.tag in {"input", "select", "textarea"}
    assert field.attrs.get("aria-invalid") == "true"
    message = page.by_id(f"{target}-error")
    assert f"{target}-error" in field.attrs["aria-describedby"].split()
    assert "ds-validation-message" in message.attrs["class"] and message.text
    link = page.summary().find_all("a", href=f"#{target}")[0]
    assert link.text.startswith(page.label_of(target).split(" (")[0])
    assert message.text in link.text


@pytest.fixture
def organiser(kongsberg, login):
    user = member(kongsberg, Role.ORGANISER)
    login(user)
    return user


NEW_COURSE = "/o/kongsberg/admin/courses/new"


def course_form(**overrides) -> dict:
    """A valid new course with one session and an empty second row."""
    return {"title": "Førstehjelp", "category": "", "service_area": "", "location": "",
            "fee_host_ore": "0", "capacity": "20", "reserved_seats": "0", "visibility": "public",
            "summary": "", "sessions-0-day": "2027-06-15", "sessions-0-starts": "09:00",
            "sessions-0-ends": "15:00", "sessions-1-day": "", "sessions-1-starts": "",
            "sessions-1-ends": ""} | overrides


def test_refused_course_form_links_every_error_to_its_input_also_in_session_rows(
        client, organiser):
    sent = course_form(title="", capacity="", **{"sessions-1-day": "2027-06-16"})
    response = client.post(NEW_COURSE, data=sent)
    assert response.status_code == 400
    page = Page(response.text)
    assert_summary_is_focusable_and_named(page)
    # In page order: the sessions table comes before the number of seats.
    assert page.summary_targets() == ["title", "sessions-1-ends", "capacity"]
    for target in page.summary_targets():
        assert_linked_to_invalid_input(page, target)


def test_valid_inputs_are_not_marked_invalid(client, organiser):
    page = Page(client.post(NEW_COURSE, data=course_form(title="")).text)
    for element_id in ("summary", "capacity", "sessions-0-day", "sessions-0-ends"):
        field = page.by_id(element_id)
        assert "aria-invalid" not in field.attrs
        assert "-error" not in field.attrs.get("aria-describedby", "")
    assert page.by_id("summary").attrs["aria-describedby"] == "summary-hint"


def test_page_title_starts_with_the_error_prefix_only_when_refused(client, organiser):
    shown = Page(client.get(NEW_COURSE).text).title
    refused = Page(client.post(NEW_COURSE, data=course_form(title="")).text).title
    assert refused.endswith(shown) and refused != shown
    prefix = refused.removesuffix(shown)
    assert prefix.endswith(": ") and len(prefix) > 2  # "Error: " in the page's language
    assert not Page(client.get(NEW_COURSE).text).root.with_class("ds-error-summary")


def test_each_session_input_is_labelled_with_its_row(client, organiser):
    page = Page(client.get(NEW_COURSE).text)
    rows = [[page.label_of(f"sessions-{row}-{part}") for part in ("day", "starts", "ends")]
            for row in range(2)]
    for number, labels in enumerate(rows, start=1):
        assert len(set(labels)) == 3, labels  # date, start and end differ
        assert all(str(number) in label for label in labels), labels
    assert not set(rows[0]) & set(rows[1])  # "Session 1, …" is not "Session 2, …"
    row_headers = [th.text for th in page.root.find_all("th", scope="row")]
    assert len(row_headers) == len(page.root.find_all("input", type="date"))  # one per row
    assert rows[0][0].startswith(row_headers[0]) and rows[1][0].startswith(row_headers[1])


def test_a_refused_business_rule_is_a_line_of_the_summary_without_a_link(client, kongsberg):
    member(kongsberg, email="kari@kongsberg.example.org")
    response = client.post("/login", data={"email": "kari@kongsberg.example.org",
                                           "password": "not the password"})
    page = Page(response.text)
    assert response.status_code == 400
    assert page.title.endswith(Page(client.get("/login").text).title)
    assert page.title.split(" ")[0].endswith(":")  # "Error: Log in – FriKomPort"
    assert_summary_is_focusable_and_named(page)
    assert page.summary_targets() == []
    assert page.summary().find_all("li")[0].text == "Feil e-postadresse eller passord."


class HiddenRowForm(Form):
    token = HiddenField(validators=[InputRequired()])
    name = StringField("Name", validators=[InputRequired()])


def test_an_error_on_a_hidden_input_is_summarised_without_a_link(app):
    with app.test_request_context(method="POST", data={"token": "", "name": ""}):
        form = HiddenRowForm(meta={"csrf": False})
        assert not form.validate()
        lines = form.error_summary()
    assert [line.target for line in lines] == [None, "name"]
    assert lines[1].text.startswith("Name: ")


def test_two_forms_on_one_page_have_their_own_summary(client, kongsberg, login):
    login(member(kongsberg))
    response = client.post("/profile/password", data={"current": "", "password": "",
                                                      "confirm": ""})
    assert response.status_code == 400
    page = Page(response.text)
    assert page.summary().attrs["id"] == "password-error-summary"
    assert page.summary_targets() == ["current", "password", "confirm"]


# Sign-up: the employer is chosen, never guessed --------------------------------------

def employer_options(page: Page) -> list[Node]:
    return page.by_id("organisation").find_all("option")


def test_signup_offers_an_empty_first_employer_option_and_preselects_none(client, app):
    OrganisationFactory(name="Aaa kommune")
    OrganisationFactory(name="Bbb kommune")
    page = Page(client.get("/signup").text)
    select_ = page.by_id("organisation")
    assert "required" in select_.attrs
    first, *employers = employer_options(page)
    assert first.attrs["value"] == "" and first.text
    assert [o.text for o in employers] == ["Aaa kommune", "Bbb kommune"]
    assert not any("selected" in o.attrs for o in employers)


def test_signup_without_employer_is_refused_with_a_message_linked_from_the_summary(
        client, app):
    OrganisationFactory(name="Aaa kommune")
    response = client.post("/signup", data={"name": "Nina Ny", "email": "nina@example.org",
                                            "phone": "", "organisation": ""})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    page = Page(response.text)
    assert page.summary_targets() == ["organisation"]
    assert_linked_to_invalid_input(page, "organisation")
    assert "Velg organisasjonen du jobber for." in page.by_id("organisation-error").text
    assert not any("selected" in o.attrs for o in employer_options(page)[1:])
