"""Sign-up, log in/out, password reset, e-mail confirmation and profile."""

import threading
from datetime import timedelta
from unittest import mock

import pytest
from sqlalchemy import func, select

from frikomport.accounts import services
from frikomport.accounts.models import User
from frikomport.db import utcnow
from frikomport.errors import DomainError
from frikomport.extensions import db
from frikomport.tenancy.models import Membership, Role
from tests.factories import DEFAULT_PASSWORD, OrganisationFactory, UserFactory, member
from tests.helpers import link_in, outbox


def signup_data(employer, **overrides):
    data = {"name": "Nora Nynorsk", "email": "Nora@Notodden.example.org", "phone": "",
            "organisation": employer.id}
    data.update(overrides)
    return data


NEW_PASSWORD = {"password": "en lang og god setning", "confirm": "en lang og god setning"}


def test_signup_then_the_emailed_link_sets_the_password_and_logs_in(app, client):
    organisation = OrganisationFactory(name="Notodden kommune")
    response = client.post("/signup", data=signup_data(organisation))
    assert response.status_code == 200 and "Sjekk e-posten din" in response.text
    # Nothing is stored until the address is proven: no account, no membership.
    assert db.session.scalar(select(User)) is None
    assert db.session.scalar(select(Membership)) is None

    [message] = outbox("nora@notodden.example.org")
    assert message.subject == "Fullfør kontoen din i FriKomPort"
    assert "Hei Nora Nynorsk" in message.body_text
    path = link_in(message)
    assert "Velg passord" in client.get(path).text
    assert client.post(path, data=NEW_PASSWORD).status_code == 302
    user = db.session.scalar(select(User).where(User.email == "nora@notodden.example.org"))
    assert user.password_hash.startswith("$argon2id$") and user.email_confirmed_at
    assert user.home_organisation_id == organisation.id
    assert [(m.organisation_id, m.role) for m in user.memberships] == [
        (organisation.id, Role.EMPLOYEE)]
    assert "Nora Nynorsk" in client.get("/").text  # logged in
    # The link works once: the account exists now.
    client.post("/logout")
    again = client.get(path, follow_redirects=True)
    assert "Kontoen er allerede opprettet" in again.text
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_a_forged_or_expired_signup_link_creates_nothing(app_factory, app, client):
    assert "ugyldig" in client.get("/signup/finish/forged", follow_redirects=True).text
    organisation = OrganisationFactory()
    client.post("/signup", data=signup_data(organisation))
    path = link_in(outbox("nora@notodden.example.org")[0])
    expired = app_factory(EMAIL_CONFIRM_MAX_AGE=-1).test_client()
    assert expired.post(path, data=NEW_PASSWORD).status_code == 302
    assert db.session.scalar(select(User)) is None


def test_the_same_signup_link_sent_twice_at_once_makes_one_account(app, client):
    """Double submits race for the unique e-mail address; the losers are told the
    account exists instead of getting a server error."""
    client.post("/signup", data=signup_data(OrganisationFactory()))
    path = link_in(outbox("nora@notodden.example.org")[0])
    clients = [app.test_client() for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    statuses: list[str] = []

    def finish(each):
        barrier.wait(timeout=30)
        response = each.post(path, data=NEW_PASSWORD)
        told = "Kontoen er allerede opprettet" in response.text
        statuses.append("told" if told else response.headers.get("Location", "?"))

    threads = [threading.Thread(target=finish, args=(each,)) for each in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # One account is made and one person logged in to it; no request fails. The others
    # are told, or (arriving after it) sent to log in.
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert statuses.count("/") == 1 and set(statuses) <= {"/", "told", "/login"}, statuses


@pytest.mark.parametrize(("overrides", "message"), [
    ({"email": "ikke-en-adresse"}, "Ugyldig e-postadresse"),
    ({"name": ""}, "Dette feltet er påkrevd"),
    ({"organisation": ""}, "Velg organisasjonen du jobber for"),
])
def test_signup_bad_input_is_a_400_with_a_message(app, client, overrides, message):
    organisation = OrganisationFactory()
    response = client.post("/signup", data=signup_data(organisation, **overrides))
    assert response.status_code == 400
    assert message in response.text
    assert db.session.scalar(select(User)) is None


def test_signup_offers_no_preselected_employer(app, client):
    OrganisationFactory(name="Aaa kommune")
    page = client.get("/signup").text
    employers = page.split('id="organisation"')[1].split("</select>")[0]
    assert employers.count("<option") == 2
    assert employers.count("selected") == 1 and '<option selected value="">' in employers


def test_signup_with_unknown_organisation_is_refused(app, client):
    OrganisationFactory()
    response = client.post("/signup", data=signup_data(OrganisationFactory.build(id=9999)))
    assert response.status_code == 400
    assert db.session.scalar(select(User)) is None


def test_signup_with_a_known_address_looks_the_same_and_tells_the_owner(app, client):
    organisation = OrganisationFactory()
    owner = UserFactory(email="nora@notodden.example.org")
    known = client.post("/signup", data=signup_data(organisation,
                                                    email="nora@notodden.example.org"))
    unknown = client.post("/signup", data=signup_data(organisation,
                                                      email="ny@notodden.example.org"))
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("nora@notodden", "X") == unknown.text.replace("ny@notodden", "X")
    assert db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.user_id == owner.id)) == 0
    [message] = outbox(owner.email)
    assert message.subject == "Du har allerede en konto i FriKomPort"
    assert "/password/forgot" in message.body_text


def test_login_wrong_password_and_unknown_user_give_the_same_answer(app, client):
    user = UserFactory()
    wrong = client.post("/login", data={"email": user.email, "password": "feil-passord"})
    unknown = client.post("/login", data={"email": "ingen@example.org", "password": "x"})
    assert wrong.status_code == unknown.status_code == 400
    assert "Feil e-postadresse eller passord" in wrong.text
    assert "Feil e-postadresse eller passord" in unknown.text


def test_login_is_case_insensitive_and_records_time(app, client):
    user = UserFactory(email="kari@example.org")
    response = client.post("/login", data={"email": " KARI@example.org ",
                                           "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_disabled_account_cannot_log_in(app, client):
    user = UserFactory(is_enabled=False)
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/",
                                    "/\\evil.example/", "/%5Cevil.example/x\\y"])
def test_login_follows_only_local_next(app, client, target):
    """A backslash counts as a slash in browsers: ``/\\evil`` would leave the site."""
    user = UserFactory()
    data = {"email": user.email, "password": DEFAULT_PASSWORD}
    assert client.post("/login", query_string={"next": target}, data=data).headers[
        "Location"] == "/"
    client.post("/logout")
    assert client.post("/login?next=/profile", data=data).headers["Location"] == "/profile"


def test_logout_requires_post_and_ends_session(app, client, login):
    login(UserFactory())
    assert client.get("/logout").status_code == 405
    client.post("/logout")
    assert client.get("/profile").status_code == 302


def test_password_reset_flow_works_once(app, client):
    user = UserFactory(email="ola@example.org")
    response = client.post("/password/forgot", data={"email": "OLA@example.org"})
    assert response.status_code == 302
    [message] = outbox("ola@example.org")
    path = link_in(message)
    assert client.get(path).status_code == 200

    new = {"password": "et helt nytt passord", "confirm": "et helt nytt passord"}
    assert client.post(path, data=new).status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password":
                                       "et helt nytt passord"}).status_code == 302
    client.post("/logout")
    # The link cannot be used again.
    reused = client.post(path, data={"password": "tredje passord her", "confirm":
                                     "tredje passord her"})
    assert reused.status_code == 302
    assert reused.headers["Location"] == "/password/forgot"


def test_password_reset_for_unknown_address_reveals_nothing(app, client):
    response = client.post("/password/forgot", data={"email": "ukjent@example.org"},
                           follow_redirects=True)
    assert "Hvis det finnes en konto" in response.text
    assert outbox() == []


def test_password_reset_link_expires(app):
    user = UserFactory()
    services.request_password_reset(db.session, user.email)
    token = link_in(outbox()[0]).rsplit("/", 1)[1]
    later = utcnow() + timedelta(seconds=app.config["PASSWORD_RESET_MAX_AGE"] + 60)
    with mock.patch("itsdangerous.timed.time.time", return_value=later.timestamp()), \
            mock.patch("frikomport.accounts.services.utcnow", return_value=later), \
            pytest.raises(DomainError):
        services.user_for_reset_token(db.session, token)


def test_tampered_token_is_refused(app, client):
    response = client.get("/password/reset/not-a-token", follow_redirects=True)
    assert "Lenken er ugyldig" in response.text


def test_changing_password_logs_out_other_sessions(app, client, login):
    user = UserFactory()
    other_device = app.test_client()
    login(user)
    login(user, test_client=other_device)
    response = client.post("/profile/password", data={
        "current": DEFAULT_PASSWORD, "password": "et nytt passord 2026",
        "confirm": "et nytt passord 2026"})
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    assert other_device.get("/profile").status_code == 302  # sent to the login page


def test_change_password_with_wrong_current_password(app, client, login):
    login(UserFactory())
    response = client.post("/profile/password", data={
        "current": "gjetting", "password": "et nytt passord 2026",
        "confirm": "et nytt passord 2026"})
    assert response.status_code == 400
    assert "Nåværende passord er feil" in response.text


def test_profile_update_and_language(app, client, login):
    user = member(OrganisationFactory(name="Tinn kommune"), Role.EMPLOYEE)
    login(user)
    page = client.get("/profile")
    assert "Tinn kommune" in page.text
    response = client.post("/profile", data={"name": "Ny Navnesen", "phone": "99887766",
                                             "job_title": "Helsefagarbeider", "locale": "en"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.name, user.phone, user.job_title, user.locale) == (
        "Ny Navnesen", "99887766", "Helsefagarbeider", "en")
    assert "My profile" in client.get("/profile").text


def test_profile_rejects_unknown_language(app, client, login):
    login(UserFactory())
    response = client.post("/profile", data={"name": "X", "locale": "sv"})
    assert response.status_code == 400


def test_invalid_confirmation_link(app, client, login):
    login(UserFactory(email_confirmed_at=None))
    response = client.get("/confirm/garbage", follow_redirects=True)
    assert "Bekreftelseslenken er ugyldig" in response.text


def test_resend_confirmation(app, client, login):
    user = UserFactory(email_confirmed_at=None)
    login(user)
    assert client.post("/confirm/resend").status_code == 302
    assert len(outbox(user.email)) == 1


def test_password_is_rehashed_when_parameters_change(app):
    user = UserFactory()
    old_hash = user.password_hash
    app.config["ARGON2_TIME_COST"] = 2
    assert services.authenticate(db.session, user.email, DEFAULT_PASSWORD) is user
    assert user.password_hash != old_hash and "t=2" in user.password_hash


def test_create_site_admin_service_and_cli(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "--email", "Drift@Example.org",
                                 "--name", "Drift", "--password", "et sterkt passord!"])
    assert result.exit_code == 0, result.output
    admin = services.find_user_by_email(db.session, "drift@example.org")
    assert admin.is_site_admin
    weak = runner.invoke(args=["users", "create-admin", "--email", "x@example.org",
                               "--name", "X", "--password", "kort"])
    assert weak.exit_code != 0 and "minst 10 tegn" in weak.output


# Security: CSRF and rate limiting --------------------------------------------------------

def test_forms_require_csrf_token(app_factory):
    secured = app_factory(WTF_CSRF_ENABLED=True)
    with secured.app_context():
        user = UserFactory()
        client = secured.test_client()
        response = client.post("/login", data={"email": user.email,
                                               "password": DEFAULT_PASSWORD})
        assert response.status_code == 400
        assert "Skjemaet er utløpt" in response.text
        page = client.get("/login").text
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/login", data={"email": user.email, "csrf_token": token,
                                               "password": DEFAULT_PASSWORD})
        assert response.status_code == 302


def test_session_cookie_is_httponly_and_samesite(app, client, login):
    response = login(UserFactory())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
