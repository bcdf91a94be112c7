"""Configuration comes from the environment at app creation, and bad values are refused clearly."""

import os
from pathlib import Path

import pytest

from config import ConfigError, DevelopmentConfig, ProductionConfig, load_config
from crm import create_app

ROOT = Path(__file__).resolve().parent.parent


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app("production")


def test_v14_3_2_production_has_debug_off_and_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a" * 64)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    app = create_app("production")
    assert app.debug is False
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_environment_is_read_when_the_config_is_built_not_at_import(monkeypatch):
    monkeypatch.setenv("MAIL_PORT", "2525")
    assert DevelopmentConfig().MAIL_PORT == 2525
    monkeypatch.setenv("MAIL_PORT", "26")
    assert DevelopmentConfig().MAIL_PORT == 26


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("notaurl", "is not a database URL"),
        ("mysql://root@localhost/x", "supports SQLite and PostgreSQL"),
        ("postgresql+psycopg2://postgres@127.0.0.1/test", "psycopg 3 driver"),
    ],
)
def test_malformed_database_url_is_refused_clearly(monkeypatch, url, message):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ConfigError, match=message):
        create_app("development")


def test_bad_numbers_and_unknown_environment_are_refused(monkeypatch):
    monkeypatch.setenv("MAIL_PORT", "twenty-five")
    with pytest.raises(ConfigError, match="MAIL_PORT must be a whole number"):
        ProductionConfig()
    with pytest.raises(ConfigError, match="SAMVERKA_ENV='staging' is unknown"):
        load_config("staging")


def test_the_figures_cache_is_per_process_unless_a_redis_url_is_given(monkeypatch):
    monkeypatch.delenv("CACHE_STORAGE_URI", raising=False)
    assert ProductionConfig().CACHE_STORAGE_URI == "memory://"
    monkeypatch.setenv("CACHE_STORAGE_URI", "redis://:hemligt@10.0.0.6:6379/0")
    assert ProductionConfig().CACHE_STORAGE_URI == "redis://:hemligt@10.0.0.6:6379/0"
    monkeypatch.setenv("CACHE_STORAGE_URI", "memcached://:hemligt@10.0.0.6:11211")
    with pytest.raises(ConfigError, match="must be memory:// or a Redis URL") as refused:
        ProductionConfig()
    assert "hemligt" not in str(refused.value)  # the error names the scheme, never a password


def test_rate_limits_are_counted_in_memory_or_in_redis_only(monkeypatch):
    """The limiter's Redis options (timeouts) would not fit another store's client."""
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "rediss://:hemligt@10.0.0.6:6380/0")
    assert ProductionConfig().RATELIMIT_STORAGE_URI == "rediss://:hemligt@10.0.0.6:6380/0"
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memcached://10.0.0.6:11211")
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI must be memory:// or a Redis"):
        ProductionConfig()


def test_web_workers_leave_out_migrations_which_the_command_line_keeps(monkeypatch, tmp_path):
    """gunicorn.conf.py marks web workers; they skip Flask-Migrate (Alembic, ~10 MB each)."""
    monkeypatch.setenv("SECRET_KEY", "a" * 64)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    monkeypatch.setenv("SAMVERKA_WEB_WORKER", "")  # recorded, so the teardown removes it again
    monkeypatch.delenv("SAMVERKA_WEB_WORKER")
    assert "migrate" in create_app("production").extensions
    import runpy

    runpy.run_path("gunicorn.conf.py")  # what gunicorn does before it loads the app
    worker = create_app("production")
    assert "migrate" not in worker.extensions
    assert worker.test_client().get("/healthz").status_code in {200, 503}


def test_a_fresh_web_worker_leaves_out_what_only_some_requests_need(tmp_path):
    """A new process (as gunicorn's master is) imports the app without the password
    estimator's 11 MB of dictionaries, Alembic or the export writers; they load on first use."""
    import subprocess
    import sys

    env = {
        "PATH": os.environ.get("PATH", ""), "SAMVERKA_WEB_WORKER": "true",
        "SECRET_KEY": "a" * 64, "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3",
        "SAMVERKA_ENV": "production", "SAMVERKA_INSTANCE_PATH": str(tmp_path),
    }  # fmt: skip
    script = (
        "import sys, wsgi; "
        "print(sorted(m for m in ('zxcvbn', 'alembic', 'xlsxwriter', 'openpyxl', 'icalendar')"
        " if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert result.stdout.strip() == "[]"


def test_v2_8_production_requires_two_factor_of_admins_unless_told_otherwise(monkeypatch):
    def required(config) -> set[str]:
        return set(config.TWO_FACTOR_REQUIRED_ROLES)

    monkeypatch.delenv("TWO_FACTOR_REQUIRED_ROLES", raising=False)
    assert required(ProductionConfig()) == {"admin"}
    assert required(DevelopmentConfig()) == set()
    monkeypatch.setenv("TWO_FACTOR_REQUIRED_ROLES", "all")
    assert required(ProductionConfig()) == {"secretary_general", "chair", "board", "admin"}
    monkeypatch.setenv("TWO_FACTOR_REQUIRED_ROLES", "admin, king")
    with pytest.raises(ConfigError, match="Unknown roles in TWO_FACTOR_REQUIRED_ROLES: king"):
        ProductionConfig()
