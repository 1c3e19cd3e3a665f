"""Visibility × role × tenant × state, on every surface that shows courses.

`public` = everyone; `region` = logged-in members of any organisation; `internal` = the
host organisation's members; drafts = only those who manage the host's courses.
Lists and feeds show published courses only; detail pages also show drafts to organisers.
"""

import io

import pytest
from icalendar import Calendar

from frikomport.courses.attachments import add_attachment
from frikomport.courses.models import CourseState, Visibility
from frikomport.extensions import db
from frikomport.tenancy.models import Role
from tests.factories import CategoryFactory, CourseFactory, OrganisationFactory, UserFactory, member

VIEWERS = ["anonymous", "employee_home", "employee_other", "organiser_home",
           "organiser_other", "admin_other", "site_admin"]

SEES_PUBLISHED = {
    Visibility.PUBLIC: set(VIEWERS),
    Visibility.REGION: set(VIEWERS) - {"anonymous"},
    Visibility.INTERNAL: {"employee_home", "organiser_home", "site_admin"},
}
SEES_DRAFT = {"organiser_home", "site_admin"}


def make_viewer(name, home, other):
    if name == "anonymous":
        return None
    if name == "site_admin":
        return UserFactory(is_site_admin=True)
    role_name, where = name.split("_")
    return member(home if where == "home" else other, Role(role_name))


@pytest.mark.parametrize("viewer_name", VIEWERS)
@pytest.mark.parametrize("state", [CourseState.PUBLISHED, CourseState.DRAFT])
@pytest.mark.parametrize("visibility", list(Visibility))
def test_visibility_matrix(app, client, login, visibility, state, viewer_name):
    home = OrganisationFactory(slug="kongsberg")
    other = OrganisationFactory(slug="flesberg")
    category = CategoryFactory(organisation=home, name="Førstehjelp")
    course = CourseFactory(organisation=home, title="Hemmelig førstehjelpskurs",
                           visibility=visibility, state=state, category=category)
    organiser = member(home, Role.ORGANISER)
    add_attachment(db.session, organiser, course, "program.pdf", io.BytesIO(b"%PDF-1.4 x"))
    db.session.commit()
    attachment_id = course.attachments[0].id
    viewer = make_viewer(viewer_name, home, other)
    if viewer is not None:
        login(viewer)

    sees_detail = viewer_name in (
        SEES_PUBLISHED[visibility] if state == CourseState.PUBLISHED else SEES_DRAFT)
    sees_in_lists = state == CourseState.PUBLISHED and viewer_name in SEES_PUBLISHED[visibility]
    title = course.title

    expected = 200 if sees_detail else 404
    assert client.get(f"/courses/{course.id}").status_code == expected
    assert client.get(f"/courses/{course.id}.ics").status_code == expected
    assert client.get(f"/courses/{course.id}/attachments/{attachment_id}").status_code == expected

    surfaces = {
        "list": client.get("/courses/").text,
        "front page": client.get("/").text,
        "organisation page": client.get("/o/kongsberg/").text,
        "calendar": client.get(f"/courses/calendar?month="
                               f"{course.starts_at.strftime('%Y-%m')}").text,
        "atom": client.get("/courses/feed.atom").text,
        "filtered list": client.get("/courses/?organisation=kongsberg&category="
                                    "Førstehjelp").text,
    }
    for surface, page in surfaces.items():
        assert (title in page) is sees_in_lists, surface

    for feed in ("/o/kongsberg/courses.ics", f"/o/kongsberg/categories/{category.id}.ics"):
        calendar = Calendar.from_ical(client.get(feed).data)
        titles = [str(event["summary"]) for event in calendar.walk("VEVENT")]
        assert (title in titles) is sees_in_lists, feed


def test_attachment_of_another_course_is_not_reachable_through_a_visible_one(app, client):
    home = OrganisationFactory()
    visible = CourseFactory(organisation=home, visibility=Visibility.PUBLIC)
    hidden = CourseFactory(organisation=home, visibility=Visibility.INTERNAL)
    organiser = member(home, Role.ORGANISER)
    add_attachment(db.session, organiser, hidden, "intern.pdf", io.BytesIO(b"%PDF-1.4 x"))
    db.session.commit()
    hidden_attachment = hidden.attachments[0].id
    response = client.get(f"/courses/{visible.id}/attachments/{hidden_attachment}")
    assert response.status_code == 404


def test_disabled_member_sees_only_public(app, client):
    home = OrganisationFactory()
    course = CourseFactory(organisation=home, visibility=Visibility.REGION)
    user = member(home, Role.EMPLOYEE)
    from frikomport.permissions import can_view_course

    assert can_view_course(user, course)
    user.is_enabled = False
    assert not can_view_course(user, course)
