"""`flask demo seed` and what each demo role sees after logging in."""

import pytest
from sqlalchemy import func, select

from frikomport.accounts.models import User
from frikomport.demo.seed import DEMO_PASSWORD, MUNICIPALITIES
from frikomport.extensions import db
from frikomport.tenancy.models import Membership, Organisation


@pytest.fixture
def seeded(app):
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    return result.output


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_loads_the_kongsberg_region_and_prints_accounts(seeded):
    names = set(db.session.scalars(select(Organisation.name)))
    assert names == {name for _slug, name, _address, _phone in MUNICIPALITIES}
    assert {"Øvre Eiker kommune", "Nore og Uvdal kommune", "Tinn kommune"} <= names
    assert DEMO_PASSWORD in seeded
    assert "kari.nordmann@kongsberg.demo.frikomport.example.org" in seeded
    assert seeded.count("site admin") == 1


def test_seed_is_idempotent(seeded, app):
    before = (count(Organisation), count(User), count(Membership))
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    assert (count(Organisation), count(User), count(Membership)) == before == (8, 33, 32)


def test_seed_refuses_production(app):
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0 and count(Organisation) == 0


def demo_login(client, email):
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.text
    return client.get("/").text


def test_each_demo_role_sees_what_it_may_do(seeded, client):
    domain = "demo.frikomport.example.org"

    page = demo_login(client, f"ingrid.lie@kongsberg.{domain}")  # employee
    assert "Administrer Kongsberg kommune" not in page
    assert "Nettstedsadministrasjon" not in page
    assert client.get("/o/kongsberg/admin/members").status_code == 403
    client.post("/logout")

    page = demo_login(client, f"ola.haugen@kongsberg.{domain}")  # organiser
    assert "Administrer Kongsberg kommune" in page
    dashboard = client.get("/o/kongsberg/admin/").text
    assert "Medlemmer" in dashboard and "Innstillinger" not in dashboard
    assert client.get("/o/notodden/admin/").status_code == 404
    client.post("/logout")

    page = demo_login(client, f"kari.nordmann@kongsberg.{domain}")  # admin
    dashboard = client.get("/o/kongsberg/admin/").text
    assert "Innstillinger" in dashboard and "Endringslogg" in dashboard
    assert "Inviter en person" in client.get("/o/kongsberg/admin/members").text
    assert client.get("/admin/").status_code == 404
    client.post("/logout")

    page = demo_login(client, f"driftsansvarlig@{domain}")  # site admin
    assert "Nettstedsadministrasjon" in page
    assert "Tinn kommune" in client.get("/admin/").text


def test_seed_fills_one_course_with_a_waiting_list(seeded, app):
    from frikomport.courses.models import Course, CourseState
    from frikomport.demo.courses import FULL_COURSE
    from frikomport.notifications.models import OutboxMessage

    course = db.session.scalar(select(Course).where(Course.title == FULL_COURSE))
    assert (course.capacity, course.confirmed_count, course.waitlist_count) == (12, 12, 4)
    published = db.session.scalar(select(func.count()).select_from(Course).where(
        Course.state == CourseState.PUBLISHED))
    assert published == 14
    mails = count(OutboxMessage)
    app.test_cli_runner().invoke(args=["demo", "seed"])
    db.session.expire_all()
    assert (course.confirmed_count, course.waitlist_count, count(OutboxMessage)) == (12, 4, mails)
