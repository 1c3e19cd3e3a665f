"""Reminders before a competence runs out: once per threshold, the nearest one only, a
renewal reminded afresh, a record only from its first day, the leader's copy (with the
courses the leader may see, checked again when sent), and only courses the person may
see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from config import ConfigError, load_config
from frikomport.competence.models import RecordStatus, ReminderSent
from frikomport.competence.records import today
from frikomport.competence.reminders import send_expiry_reminders, threshold_for
from frikomport.courses.models import CourseState, Visibility
from frikomport.db import utcnow
from frikomport.extensions import db
from frikomport.housekeeping import run_all
from frikomport.tenancy.models import Role
from frikomport.units.models import UnitLeader
from tests.competence.builders import (
    competence,
    granting,
    hold,
    mail_to,
    make_unit,
    place,
    require,
)
from tests.factories import member


def _sent() -> list[tuple[int, int]]:
    """(user, days) of the reminders written so far."""
    return sorted(db.session.execute(select(ReminderSent.user_id, ReminderSent.days)).all())


def _run(days_from_now: int = 0) -> int:
    count = send_expiry_reminders(db.session, utcnow() + timedelta(days=days_from_now))
    db.session.commit()
    return count


@pytest.fixture
def first_aid(app):
    return competence("Førstehjelp")


@pytest.fixture
def ward(kongsberg, first_aid):
    leader = member(kongsberg, name="Lena Leder", email="lena@example.org")
    return make_unit(kongsberg, "Sykehjemmet", requires=[first_aid], leaders=[leader])


def test_the_nearest_threshold_is_sent_once(kongsberg, first_aid):
    person = member(kongsberg)
    hold(person, first_aid, today() + timedelta(days=50))
    assert _run() == 1
    assert _sent() == [(person.id, 60)]
    assert _run() == 0 and _run(5) == 0  # run again, or later before the next threshold
    assert _run(36) == 1  # 14 days left
    assert _sent() == [(person.id, 14), (person.id, 60)]
    assert _run(36) == 0 and _run(49) == 0 and _run(51) == 0  # and none after it expired
    assert len(mail_to(person.email)) == 2


def test_a_threshold_passed_while_not_running_sends_only_the_nearest(kongsberg, first_aid):
    person = member(kongsberg)
    hold(person, first_aid, today() + timedelta(days=10))
    assert _run() == 1
    assert _sent() == [(person.id, 14)]
    assert _run() == 0


def test_a_renewal_gets_its_own_reminders(kongsberg, first_aid):
    person = member(kongsberg)
    hold(person, first_aid, today() + timedelta(days=12))
    assert _run() == 1
    hold(person, first_aid, today() + timedelta(days=55))  # renewed: the latest counts
    assert _run() == 1
    assert _sent() == [(person.id, 14), (person.id, 60)]
    assert {row.valid_until for row in db.session.scalars(select(ReminderSent))} == {
        today() + timedelta(days=12), today() + timedelta(days=55)}
    # The first reminder, still unsent, is dropped: the holding runs on.
    [message] = mail_to(person.email)
    assert "går ut" in message.subject


def test_nothing_to_remind(kongsberg, first_aid):
    on = today()
    hold(member(kongsberg), first_aid, None)  # no expiry
    hold(member(kongsberg), first_aid, on - timedelta(days=1))  # expired already
    hold(member(kongsberg), first_aid, on + timedelta(days=61))  # not yet
    hold(member(kongsberg), first_aid, on + timedelta(days=5), RecordStatus.PENDING)
    hold(member(kongsberg), first_aid, on + timedelta(days=5), RecordStatus.REJECTED)
    hold(member(kongsberg, is_enabled=False), first_aid, on + timedelta(days=5))
    assert _run() == 0


def test_threshold_for():
    assert [threshold_for(days, (60, 14)) for days in (61, 60, 15, 14, 0)] == [
        None, 60, 60, 14, 14]


def test_the_leader_gets_one_list_of_people_whose_required_competence_runs_out(
        kongsberg, first_aid, ward):
    fire = competence("Brannvern")  # held, but not required by the unit
    anna = member(kongsberg, name="Anna Ansatt", job_title="Sykepleier")
    bodil = member(kongsberg, name="Bodil Berg")
    outsider = member(kongsberg, name="Ola Utenfor")  # in no unit
    for person in (anna, bodil):
        place(person, ward)
    hold(anna, first_aid, today() + timedelta(days=20))
    hold(bodil, fire, today() + timedelta(days=20))
    hold(outsider, first_aid, today() + timedelta(days=20))
    assert _run() == 3  # everyone whose holding runs out is reminded
    [digest] = mail_to("lena@example.org")
    assert digest.subject == "Kompetanse som går ut i enheten din"
    assert "Anna Ansatt: Førstehjelp, gyldig til og med" in digest.body_text
    assert "Bodil" not in digest.body_text and "Ola" not in digest.body_text
    assert _run() == 0 and len(mail_to("lena@example.org")) == 1


def test_the_leaders_list_has_the_courses_the_leader_may_see(
        kongsberg, notodden, first_aid, ward):
    fire = competence("Brannvern")
    require(ward, fire)
    anna, bodil = member(kongsberg, name="Anna Ansatt"), member(kongsberg, name="Bodil Berg")
    for person, held in ((anna, first_aid), (bodil, fire)):
        place(person, ward)
        hold(person, held, today() + timedelta(days=20))
    region = granting(notodden, first_aid, title="Regionkurs i Notodden",
                      visibility=Visibility.REGION)
    granting(notodden, first_aid, title="Internt i Notodden", visibility=Visibility.INTERNAL)
    granting(kongsberg, first_aid, title="Internt i Kongsberg", visibility=Visibility.INTERNAL)
    assert _run() == 2
    [digest] = mail_to("lena@example.org")
    body = digest.body_text
    assert "Anna Ansatt: Førstehjelp" in body and "Bodil Berg: Brannvern" in body
    assert "Regionkurs i Notodden (Notodden kommune)" in body
    assert f"https://kurs.example.org/courses/{region.id}\n" in body  # the page, no action
    assert "Internt i Kongsberg" in body and "Internt i Notodden" not in body
    assert body.index("Bodil Berg") < body.index("Regionkurs")
    assert "renews Brannvern" in body or "fornyer Brannvern" in body  # none renews it


def test_the_leaders_list_is_checked_when_it_is_sent(kongsberg, first_aid, ward):
    """A person moved out of the leader's unit, or who renewed, is left out; with nobody
    left, or the leader no longer leading, no e-mail."""
    moved, renewed, stays = (member(kongsberg, name=name)
                             for name in ("Flyttet Fra", "Fornyet Fort", "Blir Igjen"))
    for person in (moved, renewed, stays):
        place(person, ward)
        hold(person, first_aid, today() + timedelta(days=20))
    assert _run() == 3
    place(moved, make_unit(kongsberg, "Et annet sted"))
    hold(renewed, first_aid, today() + timedelta(days=400))
    [digest] = mail_to("lena@example.org")
    assert "Blir Igjen" in digest.body_text
    assert "Flyttet" not in digest.body_text and "Fornyet" not in digest.body_text

    later = member(kongsberg, name="Neste Gang")
    place(later, ward)
    hold(later, first_aid, today() + timedelta(days=10))
    assert _run() == 1  # a new digest, for Neste Gang only
    db.session.execute(delete(UnitLeader))
    db.session.commit()
    assert mail_to("lena@example.org") == [digest]


def test_a_record_not_yet_valid_is_not_reminded(kongsberg, first_aid):
    """Records count from their first day: one valid from a course's last day, still to
    come, is reminded once it is held."""
    person = member(kongsberg)
    hold(person, first_aid, today() + timedelta(days=50), valid_from=today() + timedelta(days=2))
    assert _run() == 0
    assert _run(2) == 1


def test_the_reminder_lists_only_courses_the_person_may_see(
        kongsberg, notodden, first_aid):
    person = member(kongsberg, name="Kari")
    until = today() + timedelta(days=30)
    hold(person, first_aid, until)
    granting(notodden, first_aid, title="Åpent kurs i Notodden", capacity=8)
    granting(notodden, first_aid, title="Internt i Notodden", visibility=Visibility.INTERNAL)
    granting(kongsberg, first_aid, title="Internt i Kongsberg", visibility=Visibility.INTERNAL)
    granting(kongsberg, first_aid, title="Et utkast", state=CourseState.DRAFT)
    other = granting(kongsberg, competence("Annet"), title="Gir noe annet")
    assert _run() == 1
    [message] = mail_to(person.email)
    assert message.subject.startswith("Førstehjelp går ut ")
    body = message.body_text
    assert "Hei Kari," in body
    assert "Åpent kurs i Notodden (Notodden kommune)" in body and "8 plasser igjen" in body
    assert "Internt i Kongsberg" in body
    assert "Internt i Notodden" not in body and "Et utkast" not in body
    assert other.title not in body
    assert "https://kurs.example.org/courses/" in body


def test_with_no_course_the_reminder_says_so(kongsberg, first_aid):
    person = member(kongsberg)
    hold(person, first_aid, today() + timedelta(days=3))
    _run()
    [message] = mail_to(person.email)
    assert "Ingen kommende kurs i regionen fornyer den ennå." in message.body_text


def test_a_nynorsk_organisation_gets_nynorsk(kongsberg, first_aid):
    kongsberg.language = "nn"
    person = member(kongsberg)
    hold(person, first_aid, today() + timedelta(days=3))
    _run()
    [message] = mail_to(person.email)
    assert "Ingen komande kurs i regionen fornyar han enno." in message.body_text


def test_housekeeping_and_the_command_send_them(app, kongsberg, first_aid):
    hold(member(kongsberg), first_aid, today() + timedelta(days=3))
    assert run_all(db.session)["competence reminders"] == 1
    hold(member(kongsberg, Role.ORGANISER), first_aid, today() + timedelta(days=40))
    result = app.test_cli_runner().invoke(args=["competence", "remind"])
    assert result.exit_code == 0 and "1 reminder(s) queued." in result.output
    assert run_all(db.session)["competence reminders"] == 0


def test_thresholds_are_configured(tmp_path):
    def days(value=None):
        env = {"FRIKOMPORT_DATA_DIR": str(tmp_path)}
        return load_config(env | ({} if value is None else {"COMPETENCE_REMINDER_DAYS": value}))

    assert days()["COMPETENCE_REMINDER_DAYS"] == (60, 14)
    assert days("14, 90,30,14")["COMPETENCE_REMINDER_DAYS"] == (90, 30, 14)
    for wrong in ("tretti", "0", "14,-1", ","):
        with pytest.raises(ConfigError):
            days(wrong)
