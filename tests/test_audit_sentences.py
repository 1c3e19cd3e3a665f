"""The audit log reads as sentences, and every action code the code base records has one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask_babel import force_locale

from frikomport.audit.models import AuditEvent
from frikomport.audit.sentences import SENTENCES, describe, object_names
from frikomport.audit.services import record
from frikomport.courses.vocabulary import VOCABULARIES
from frikomport.extensions import db
from frikomport.tenancy.models import Role
from tests.factories import CourseFactory, member

SOURCE = Path(__file__).resolve().parents[1] / "frikomport"


# Finding the codes ----------------------------------------------------------------------

def _strings_assigned(function: ast.AST, name: str) -> set[str]:
    """The string constants a function assigns to a local variable."""
    return {node.value.value for node in ast.walk(function)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)}


def _placeholder_values(expression: ast.expr, function: ast.AST) -> set[str]:
    """What a placeholder of an f-string code can be. A new kind of placeholder fails the
    test, to be taught here, rather than let its codes slip past."""
    source = ast.unparse(expression)
    if source == "model.__tablename__":
        return {model.__tablename__ for model in VOCABULARIES.values()}
    if isinstance(expression, ast.Name) and _strings_assigned(function, expression.id):
        return _strings_assigned(function, expression.id)
    raise AssertionError(f"cannot tell which audit codes {{{source}}} makes: teach this test")


def _codes(argument: ast.expr, function: ast.AST) -> set[str]:
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return {argument.value}
    if isinstance(argument, ast.IfExp):
        return _codes(argument.body, function) | _codes(argument.orelse, function)
    if isinstance(argument, ast.JoinedStr):
        codes = {""}
        for part in argument.values:
            values = ({part.value} if isinstance(part, ast.Constant)
                      else _placeholder_values(part.value, function))
            codes = {code + value for code in codes for value in values}
        return codes
    raise AssertionError(f"an audit code that is not a string: {ast.unparse(argument)}")


def _is_record_call(node: ast.AST) -> bool:
    """A call of ``record(session, actor, action, ...)`` (or ``audit.services.record``)."""
    if not isinstance(node, ast.Call):
        return False
    name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
    return name == "record" and (len(node.args) > 2 or any(
        keyword.arg == "action" for keyword in node.keywords))


def recorded_codes() -> dict[str, str]:
    """Every audit action code a ``record(session, actor, action, ...)`` call in the app
    can write, with where it is written."""
    found = {}
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        for function in functions:
            for call in filter(_is_record_call, ast.walk(function)):
                action = call.args[2] if len(call.args) > 2 else next(
                    k.value for k in call.keywords if k.arg == "action")
                for code in _codes(action, function):
                    found.setdefault(code, f"{path.relative_to(SOURCE)}:{call.lineno}")
    return found


def test_the_scan_finds_the_codes_of_every_kind_of_call():
    codes = recorded_codes()
    assert {"course.created", "user.enabled", "user.disabled", "location.added",
            "category.changed", "service_area.deleted"} <= codes.keys()
    assert len(codes) >= 20


def test_every_recorded_action_code_has_a_sentence_and_no_other():
    codes = recorded_codes()
    missing = {code: where for code, where in codes.items() if code not in SENTENCES}
    assert not missing, f"add a sentence to frikomport/audit/sentences.py for: {missing}"
    assert not SENTENCES.keys() - codes.keys(), "sentences for codes nobody records"


# The sentences --------------------------------------------------------------------------

def _event(action, actor=None, obj_type="course", obj_id=1, **details) -> AuditEvent:
    return AuditEvent(action=action, actor=actor, object_type=obj_type, object_id=obj_id,
                      details=details)


@pytest.fixture
def english(app):
    with app.test_request_context(), force_locale("en"):
        yield


def test_a_sentence_says_who_did_what_to_what(english, kongsberg):
    ola = member(kongsberg, Role.ORGANISER, name="Ola Organiser")
    description = describe(_event("course.created", ola, title="Førstehjelp"), {})
    assert "Ola Organiser created the course «" in description.sentence
    assert "Førstehjelp" in description.sentence
    assert description.changes == [] and description.facts == []


def test_changes_read_as_field_old_and_new_value(english):
    event = _event("course.updated", changes={"title": ["A", "B"], "capacity": [10, 12]})
    description = describe(event, {("course", 1): "B"})
    assert [str(change) for change in description.changes] == [
        "Title: «A» → «B»", "Number of seats: «10» → «12»"]
    assert description.sentence.startswith("The system changed the course")


def test_a_role_change_names_the_roles(english):
    event = _event("membership.role_changed", obj_type="membership",
                   user="eva@example.org", old="employee", new="organiser")
    description = describe(event, {})
    assert "eva@example.org" in description.sentence
    assert [str(change) for change in description.changes] == [
        "Role: «Employee» → «Course organiser»"]
    assert description.facts == []


def test_details_not_in_the_sentence_are_listed_with_readable_names(english):
    description = describe(_event("course.cancelled", reason="Too few"), {("course", 1): "X"})
    [(label, value)] = description.facts
    assert label == "Reason" and "Too few" in value
    downloaded = describe(_event("participants.downloaded", course="X", format="xlsx",
                                 rows=2), {})
    assert "as Excel" in downloaded.sentence
    assert downloaded.facts == [("Number of people", "2")]


def test_an_unknown_code_still_reads_as_a_sentence(english):
    description = describe(_event("registration.moved", title="Førstehjelp", seat_no=3), {})
    assert description.sentence.startswith("The system made a change to")
    assert "registration.moved" not in description.sentence
    assert ("Seat no", "3") in [(label, str(value)) for label, value in description.facts]
    nameless = describe(_event("thing.happened", obj_type="thing"), {})
    assert nameless.sentence == "The system made a change"


def test_names_come_from_the_objects_when_the_details_lack_them(english, kongsberg):
    course = CourseFactory(organisation=kongsberg, title="Brannvern")
    events = [_event("course.published", obj_id=course.id),
              _event("course.published", obj_id=course.id + 1000)]
    names = object_names(db.session, events)
    assert names == {("course", course.id): "Brannvern"}
    assert "Brannvern" in describe(events[0], names).sentence


def test_what_people_wrote_is_escaped(english):
    description = describe(_event("course.created", title="<b>x</b>"), {})
    assert "<b>" not in description.sentence and "&lt;b&gt;" in description.sentence


def test_the_audit_page_shows_sentences_not_codes(client, login, kongsberg):
    admin = member(kongsberg, Role.ADMIN, name="Anne Admin")
    course = CourseFactory(organisation=kongsberg, title="Førstehjelp")
    record(db.session, admin, "course.published", course, kongsberg)
    db.session.commit()
    login(admin)
    page = client.get("/o/kongsberg/admin/audit").text
    assert "course.published" not in page
    assert "Anne Admin" in page and "Førstehjelp" in page
