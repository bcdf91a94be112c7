"""Issue 17: log lines that cannot be forged, no bind parameters in errors, honest headers."""

from __future__ import annotations

import http.client
import io
import json
import logging
import os
import runpy
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from gunicorn.config import Config as GunicornConfig
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crm import logs
from tests.helpers import wait_for as wait_until
from tests.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
FORGED = "2026-12-02 INFO crm.auth.services: login_succeeded user=1"
# Every character some reader takes for a line break, not only CR and LF.
BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@pytest.fixture
def app_log():
    """The app's log handler, set up by logs.init_app, writing into a buffer; `app_log(json)`."""
    logger = logging.getLogger(logs.LOGGER_NAME)
    handlers, level = list(logger.handlers), logger.level

    def set_up(as_json: bool) -> io.StringIO:
        app = Flask(__name__)
        app.config["LOG_JSON"] = as_json
        logs.init_app(app)
        buffer = io.StringIO()
        for handler in logger.handlers:
            if getattr(handler, "samverka", False):
                handler.setStream(buffer)
        return buffer

    yield set_up
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_escape_writes_every_control_character_visibly():
    assert logs.escape("a\r\nb") == "a\\r\\nb"
    assert logs.escape("\x00\t\x1b\x7f\x85\x9f") == "\\x00\\x09\\x1b\\x7f\\x85\\x9f"
    assert logs.escape("\u2028\u2029") == "\\u2028\\u2029"
    assert logs.escape("Åsa <åäö> \\n") == "Åsa <åäö> \\n"  # printable text is left alone


@pytest.mark.parametrize("as_json", [False, True], ids=["plain", "json"])
def test_v7_3_1_a_logged_value_cannot_start_a_line_of_its_own(app_log, as_json):
    output = app_log(as_json)
    value = f"a@exempel.se{BREAKS}{FORGED}"
    logging.getLogger("crm.auth.services").warning("login_failed email=%s", value)

    lines = output.getvalue().splitlines()
    assert len(lines) == 1
    if as_json:
        assert json.loads(lines[0])["message"] == f"login_failed email={value}"  # nothing lost
    else:
        escaped = "\\r\\n\\x0b\\x0c\\x1c\\x1d\\x1e\\x85\\u2028\\u2029"
        assert lines[0].endswith(
            f" crm.auth.services: login_failed email=a@exempel.se{escaped}{FORGED}"
        )


@pytest.mark.parametrize("as_json", [False, True], ids=["plain", "json"])
def test_v7_3_1_a_traceback_stays_on_its_events_line(app_log, as_json):
    output = app_log(as_json)
    try:
        raise ValueError(f"bad input{BREAKS}{FORGED}")
    except ValueError:
        logging.getLogger("crm.mail.services").exception("sending failed")

    lines = output.getvalue().splitlines()
    assert len(lines) == 1
    if as_json:
        exception = json.loads(lines[0])["exception"]
        assert exception.startswith("Traceback")
        assert f"bad input{BREAKS}{FORGED}" in exception
    else:
        assert "sending failed\\nTraceback (most recent call last):\\n" in lines[0]


@pytest.fixture
def gunicorn_settings(monkeypatch):
    """gunicorn.conf.py read as gunicorn reads it, into a gunicorn Config."""
    monkeypatch.setenv("SAMVERKA_WEB_WORKER", "true")  # the file sets it; put back afterwards
    config = GunicornConfig()
    for name, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_v7_3_1_gunicorn_access_log_escapes_the_decoded_path(gunicorn_settings, tmp_path):
    access_log = tmp_path / "access.log"
    gunicorn_settings.set("accesslog", str(access_log))
    gunicorn_settings.set("errorlog", str(tmp_path / "error.log"))
    logger = gunicorn_settings.logger_class(gunicorn_settings)
    path = f"/x\r\n{FORGED}\x0b\x85"  # PATH_INFO as gunicorn has it: decoded, as Latin-1
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/x%0d%0a...",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": path,
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="404 NOT FOUND", headers=[("X-Request-ID", "r1")], sent=9)
    try:
        logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(seconds=1))
    finally:
        for log in (logger.error_log, logger.access_log):
            for handler in [h for h in log.handlers if getattr(h, "_gunicorn", False)]:
                log.removeHandler(handler)
                handler.close()

    assert access_log.read_text().splitlines() == [
        f'127.0.0.1 "GET /x\\r\\n{FORGED}\\x0b\\x85" 404 9 1.000000s rid=r1'
    ]


def test_v7_1_database_errors_do_not_show_bound_parameters(db):
    with pytest.raises(DBAPIError) as caught:
        db.session.execute(
            text("INSERT INTO no_such_table (email) VALUES (:p)"), {"p": "secret@example.org"}
        )
    assert "INSERT INTO no_such_table" in str(caught.value)  # the statement is still shown
    assert "secret@example.org" not in str(caught.value)


def test_csv_export_names_its_charset_once(client, login_as):
    login_as("secretary_general")
    response = client.get("/export/inquiries.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


WAIT = 30  # seconds at most for gunicorn to answer or log, so a regression fails, never hangs


def wait_for(condition, what: str):
    return wait_until(condition, what, WAIT)


def get(port: int, path: str) -> http.client.HTTPResponse | None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response
    except OSError:
        return None


@pytest.fixture
def gunicorn(tmp_path):
    """A real gunicorn with gunicorn.conf.py, one worker, on a SQLite file; yields the port and
    the access log (its stdout). The pages asked for need no tables, so nothing is migrated."""
    port = free_port()
    env = {
        **os.environ,
        "SAMVERKA_ENV": "production",
        "SECRET_KEY": "gunicorn-test-" + "x" * 40,
        "SESSION_COOKIE_SECURE": "false",  # plain http on loopback
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}",
        "SAMVERKA_INSTANCE_PATH": str(tmp_path / "instance"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "1",
    }
    access_log = tmp_path / "access.log"
    with open(access_log, "w") as stdout, open(tmp_path / "error.log", "w") as stderr:
        server = subprocess.Popen(
            [GUNICORN, "wsgi:app", "--no-control-socket"],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
        try:
            wait_for(lambda: get(port, "/healthz"), "gunicorn to answer")
            yield port, access_log
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def test_gunicorn_names_no_server_and_logs_a_forged_path_on_one_line(gunicorn):
    port, access_log = gunicorn
    page = get(port, "/")
    assert page.status == 200
    assert page.getheader("Server") is None

    missing = get(port, "/x%0d%0a" + FORGED.replace(" ", "%20"))
    assert missing.status == 404
    assert missing.getheader("Server") is None
    logged = wait_for(
        lambda: [line for line in access_log.read_text().splitlines() if '" 404 ' in line],
        "the access log line",
    )
    assert logged[0].startswith(f'127.0.0.1 "GET /x\\r\\n{FORGED}" 404 ')
    assert not any(line.startswith("2026-12-02") for line in access_log.read_text().splitlines())
