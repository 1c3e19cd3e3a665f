import pytest

from config import ConfigError, load_config
from frikomport import create_app


def test_production_refuses_to_start_without_secret_key(tmp_path):
    env = {"FRIKOMPORT_ENV": "production", "FRIKOMPORT_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(env)


@pytest.mark.parametrize("key", ["change-me", "short-but-not-empty"])
def test_production_refuses_weak_secret_key(tmp_path, key):
    env = {"FRIKOMPORT_ENV": "production", "SECRET_KEY": key,
           "FRIKOMPORT_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigError):
        load_config(env)


def test_production_settings_are_strict(tmp_path):
    env = {"FRIKOMPORT_ENV": "production", "SECRET_KEY": "x" * 40,
           "FRIKOMPORT_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://u@db/portal"}
    config = load_config(env)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["MAIL_BACKEND"] == "smtp"
    assert config["OUTBOX_IN_PROCESS"] is False
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/portal"


def test_development_defaults_create_a_persistent_secret_and_sqlite(tmp_path):
    env = {"FRIKOMPORT_DATA_DIR": str(tmp_path)}
    first, second = load_config(env), load_config(env)
    assert len(first["SECRET_KEY"]) >= 32
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'frikomport.db'}"
    assert first["MAIL_BACKEND"] == "folder"


def test_bad_number_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="SMTP_PORT"):
        load_config({"FRIKOMPORT_DATA_DIR": str(tmp_path), "SMTP_PORT": "twenty-five"})


def test_session_cookie_flags(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
