"""Layout, language, error pages and HTTP hardening."""

import pytest

from tests.factories import OrganisationFactory, UserFactory


def test_bokmal_is_the_default_and_english_works(client, app):
    page = client.get("/login").text
    assert '<html lang="nb"' in page and "Logg inn" in page
    response = client.post("/language", data={"language": "en", "next": "/login"})
    assert response.headers["Location"] == "/login"
    page = client.get("/login").text
    assert '<html lang="en"' in page and "Log in" in page and "Logg inn" not in page


def test_language_choice_is_saved_on_the_profile(client, login, app):
    from frikomport.extensions import db

    user = UserFactory(locale="nb")
    login(user)
    client.post("/language", data={"language": "en"})
    db.session.refresh(user)
    assert user.locale == "en"


def test_unknown_language_and_foreign_next_are_ignored(client, app):
    response = client.post("/language", data={"language": "xx", "next": "//evil.example"})
    assert response.headers["Location"] == "/"
    assert '<html lang="nb"' in client.get("/").text


def test_404_page_is_norwegian_and_accessible(client, app):
    response = client.get("/finnes/ikke")
    assert response.status_code == 404
    assert "Fant ikke siden" in response.text
    assert '<main id="main"' in response.text


def test_500_page_without_leaking_details(app_factory):
    app = app_factory()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Noe gikk galt" in response.text and "secret internals" not in response.text


def test_too_large_upload_is_413(app_factory):
    app = app_factory(MAX_CONTENT_LENGTH=1000)
    response = app.test_client().post("/login", data={"email": "x" * 2000})
    assert response.status_code == 413
    assert "Filen er for stor" in response.text


def test_security_headers(client, app):
    headers = client.get("/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in headers["Content-Security-Policy"]


def test_personal_pages_are_not_cached(client, login, app):
    login(UserFactory())
    assert "no-store" in client.get("/profile").headers["Cache-Control"]


@pytest.mark.parametrize("path", ["/", "/login", "/signup", "/password/forgot"])
def test_pages_have_landmarks_labels_and_skip_link(client, app, path):
    OrganisationFactory()
    page = client.get(path).text
    assert 'href="#main"' in page
    assert "<header" in page and "<nav" in page and "<footer" in page
    # Every visible input has a label.
    import re

    ids = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page)
    for field_id in ids:
        if f'id="{field_id}" name="csrf_token"' in page or field_id == "csrf_token":
            continue
        assert f'for="{field_id}"' in page, field_id


def test_health_check_shows_details_to_the_operator_only(app_factory):
    app = app_factory(HEALTH_TOKEN="monitoring-secret-0123456789")
    client = app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}  # no paths, no counts
    wrong = client.get("/healthz", headers={"Authorization": "Bearer wrong"})
    assert wrong.json == {"status": "ok"}
    health = client.get("/healthz", headers={
        "Authorization": "Bearer monitoring-secret-0123456789"}).json
    assert health["status"] == "ok"
    assert health["search"]["backend"] == "whoosh"
    assert health["search"]["ok"] is False  # no index built in this test: reported, not fatal
    assert health["outbox"] == {"pending": 0, "sent": 0, "failed": 0}
