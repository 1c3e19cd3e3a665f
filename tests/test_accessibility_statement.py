"""The accessibility statement (tilgjengelighetserklæring): what it says, the operator's
contact for reporting problems, and a link to it in the footer of every page.

Texts are checked in English (msgids), so that the tests do not depend on translations.
"""

import pytest

from config import ConfigError, load_config
from tests.routewalk import get_paths
from tests.seeded_world import role_clients, seed_world

STATEMENT_LINK = 'href="/accessibility"'
NOT_FILLED_IN = "Not filled in yet by the operator of this portal."
UUSTATUS = "https://uustatus.no/nb/erklaringer/publisert/0000-frikomport"
# Printable documents, without the site's header and footer.
PRINT_ONLY = frozenset({"participants.sign_in_sheet"})


def english_statement(app) -> str:
    client = app.test_client()
    client.post("/language", data={"language": "en"})
    response = client.get("/accessibility")
    assert response.status_code == 200
    return response.text


def test_statement_names_the_standard_the_testing_and_where_to_complain(app):
    page = english_statement(app)
    for text in ("Accessibility statement", "(WCAG) 2.1 at level A and AA",
                 "forskrift om universell utforming av IKT-løsninger",
                 'href="https://lovdata.no/dokument/SF/forskrift/2013-06-21-732"', "axe-core",
                 "(1280 pixels)", "(320 pixels)", "screen reader", "We know of no part",
                 "Tilsynet for universell utforming av IKT", 'href="https://www.uutilsynet.no/"',
                 'href="https://www.diskrimineringsnemnda.no/"'):
        assert text in page, text


def test_statement_without_contact_configured_says_so(app):
    page = english_statement(app)
    assert NOT_FILLED_IN in page
    assert "mailto:" not in page.split("<main", 1)[1]
    assert "uustatus" not in page.split("<main", 1)[1]


def test_statement_shows_the_configured_contact_and_uustatus(app_factory):
    app = app_factory(ACCESSIBILITY_CONTACT_EMAIL="uu@kongsberg.example.org",
                      ACCESSIBILITY_STATEMENT_URL=UUSTATUS)
    page = english_statement(app)
    assert 'href="mailto:uu@kongsberg.example.org"' in page
    assert f'href="{UUSTATUS}"' in page
    assert NOT_FILLED_IN not in page


def test_settings_are_read_from_the_environment(tmp_path):
    env = {"FRIKOMPORT_DATA_DIR": str(tmp_path), "ACCESSIBILITY_CONTACT_EMAIL": " uu@x.no ",
           "ACCESSIBILITY_STATEMENT_URL": UUSTATUS}
    config = load_config(env)
    assert config["ACCESSIBILITY_CONTACT_EMAIL"] == "uu@x.no"
    assert config["ACCESSIBILITY_STATEMENT_URL"] == UUSTATUS
    assert load_config({"FRIKOMPORT_DATA_DIR": str(tmp_path)})[
        "ACCESSIBILITY_STATEMENT_URL"] == ""


@pytest.mark.parametrize("address", ["javascript:alert(1)", "uustatus.no/erklaring"])
def test_statement_address_must_be_a_web_address(tmp_path, address):
    env = {"FRIKOMPORT_DATA_DIR": str(tmp_path), "ACCESSIBILITY_STATEMENT_URL": address}
    with pytest.raises(ConfigError, match="ACCESSIBILITY_STATEMENT_URL"):
        load_config(env)


def test_every_page_links_to_the_statement_in_its_footer(app):
    """Every HTML page of every GET route, as every role, error pages included."""
    world = seed_world()
    checked, missing = 0, []
    for role, client in role_clients(app, world).items():
        for endpoint, path in get_paths(app, world):
            if endpoint in PRINT_ONLY:
                continue
            response = client.get(path)
            if response.is_json or "text/html" not in response.content_type \
                    or response.status_code in (301, 302, 303):
                continue
            checked += 1
            footer = response.text.rpartition("<footer")[2]
            if STATEMENT_LINK not in footer:
                missing.append(f"{role} GET {path} ({response.status_code})")
    assert checked > 50
    assert not missing, missing
