"""A killed gunicorn worker loses only the requests it was running, and nothing is stored twice.

Real processes and real signals: gunicorn with gunicorn.conf.py on a SQLite file, public-form
submissions from several threads, one worker killed with SIGKILL while they are under way.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlencode

import pytest
from werkzeug.datastructures import MultiDict

from crm.extensions import db as _db
from tests.conftest import make_app
from tests.helpers import wait_for as wait_until
from tests.html import form_posting_to
from tests.public.helpers import form_data

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
WORKERS, THREADS = 2, 2
SUBMISSIONS = 12  # more than all workers' threads together, so some must wait
GENEROUS = 60  # seconds at most for anything to happen, so a regression fails, never hangs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, what: str):
    return wait_until(condition, what, GENEROUS)


@pytest.fixture
def database_file(tmp_path):
    """A migrated SQLite file of its own: gunicorn's processes and the test share it."""
    from flask_migrate import upgrade

    url = f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}"
    app = make_app(url)
    with app.app_context():
        upgrade()
        _db.engine.dispose()
    return tmp_path / "gunicorn.sqlite3"


@pytest.fixture
def server(database_file, tmp_path):
    port = free_port()
    env = production_env(
        database_file, tmp_path,
        SESSION_COOKIE_SECURE="false",  # plain http on loopback
        RATELIMIT_ENABLED="false",  # all submissions come from one address
        FORM_MIN_FILL_SECONDS="0",
        SQLITE_BUSY_TIMEOUT=str(GENEROUS),  # requests wait for the test's write lock
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(WORKERS),
        GUNICORN_THREADS=str(THREADS),
    )  # fmt: skip
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 (closed below)
    master = subprocess.Popen(
        [GUNICORN, "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: len(workers(master.pid)) == WORKERS and answers(port), "gunicorn")
        yield master, port
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(timeout=GENEROUS)
        except subprocess.TimeoutExpired:
            master.kill()
        log.close()


def answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def workers(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text()
    return [int(pid) for pid in children.split()]


def client_connections(pid: int, port: int) -> int:
    """How many client connections to `port` process `pid` holds (accepted, not yet closed)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return sum(
        1
        for local, state, _queue, inode in tcp_sockets()
        if local == port and state == "01" and inode in inodes
    )


def waiting_in_listen_queue(port: int) -> int:
    """Connections the kernel has completed but no worker has accepted yet."""
    return sum(
        int(queue, 16)
        for local, state, queue, _ in tcp_sockets()
        if local == port and state == "0A"
    )


def tcp_sockets():
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        receive_queue = fields[4].split(":")[1]
        yield local_port, fields[3], receive_queue, fields[9]


class Submission:
    """One person's public-form submission over its own connection, sent in two steps."""

    def __init__(self, port: int, number: int, test_app) -> None:
        self.port = port
        self.email = f"person{number}@exempel.se"
        self.status: int | None = None
        self.error: Exception | None = None
        self.sent = threading.Event()
        page, cookie = self._get_form()
        hidden = form_posting_to(page, "/samverkan")["fields"]
        data = MultiDict(form_data(test_app, email=self.email))
        for name, value in hidden:  # the page's own CSRF token, start time and any other
            data.setlist(name, [value])
        self.body = urlencode(list(data.items(multi=True)))
        self.cookie = cookie

    def _get_form(self) -> tuple[str, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=GENEROUS)
        connection.request("GET", "/samverkan")
        response = connection.getresponse()
        cookie = re.match(r"[^;]+", response.getheader("Set-Cookie")).group(0)
        return response.read().decode(), cookie

    def run(self) -> None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=GENEROUS)
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": self.cookie,
            }
            connection.request("POST", "/samverkan", body=self.body, headers=headers)
            self.sent.set()
            self.status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as exc:  # the connection died
            self.error = exc
        finally:
            self.sent.set()


def test_a_killed_worker_loses_only_its_own_requests_and_none_twice(server, database_file, app):
    master, port = server
    submissions = [Submission(port, n, app) for n in range(SUBMISSIONS)]
    # Hold SQLite's write lock: each request a worker takes waits inside it, in flight.
    lock = sqlite3.connect(database_file, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    threads = [threading.Thread(target=s.run, daemon=True) for s in submissions]
    for thread in threads:
        thread.start()
    for submission in submissions:
        assert submission.sent.wait(GENEROUS)

    def settled():
        held = {pid: client_connections(pid, port) for pid in workers(master.pid)}
        return held if sum(held.values()) + waiting_in_listen_queue(port) == SUBMISSIONS else None

    held = wait_for(settled, "every connection accepted or queued")
    # The promise itself: no worker holds more connections than it has threads to run them.
    assert all(count <= THREADS for count in held.values()), held
    victim = max(held, key=held.get)
    in_flight = held[victim]
    assert in_flight > 0
    os.kill(victim, signal.SIGKILL)
    lock.rollback()  # let the rest through
    for thread in threads:
        thread.join(GENEROUS)
        assert not thread.is_alive()
    lock.close()

    failed = [s for s in submissions if s.status != 302]
    assert len(failed) == in_flight  # exactly the killed worker's in-flight requests
    assert all(s.error is not None for s in failed)  # they died, they were not refused
    stored = sqlite3.connect(database_file)
    emails = [row[0] for row in stored.execute("SELECT email FROM inquiries")]
    stored.close()
    for submission in submissions:
        if submission.status == 302:
            assert emails.count(submission.email) == 1  # answered: stored, and once
        else:
            assert emails.count(submission.email) <= 1  # cut off: stored at most once
    assert len(emails) == len(set(emails))  # nothing stored twice
    # The master replaced the worker, and the service goes on.
    wait_for(
        lambda: len(workers(master.pid)) == WORKERS and victim not in workers(master.pid),
        "a replacement worker",
    )
    assert answers(port)


def production_env(database_file, tmp_path, **settings) -> dict:
    """The environment of a production gunicorn on a SQLite file; `settings` add or override."""
    return {
        **os.environ, "SAMVERKA_ENV": "production", "SECRET_KEY": "gunicorn-test-" + "x" * 40,
        "DATABASE_URL": f"sqlite:///{database_file}",
        "SAMVERKA_INSTANCE_PATH": str(tmp_path / "instance"),
        "GUNICORN_BIND": f"127.0.0.1:{free_port()}", **settings,
    }  # fmt: skip


def test_production_refuses_per_worker_rate_limits_with_several_workers(database_file, tmp_path):
    env = production_env(database_file, tmp_path, GUNICORN_WORKERS="2",
                         RATELIMIT_STORAGE_URI="memory://")  # fmt: skip
    started = subprocess.run(
        [GUNICORN, "wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=GENEROUS,
    )  # fmt: skip
    assert started.returncode != 0
    assert "RATELIMIT_STORAGE_URI is memory:// but gunicorn runs 2 workers" in (
        started.stdout + started.stderr
    )


def test_the_limits_check_allows_one_worker_or_a_shared_store():
    from crm.extensions import check_limits_are_shared

    production = {"SAMVERKA_ENV": "production", "RATELIMIT_ENABLED": True}
    check_limits_are_shared({**production, "RATELIMIT_STORAGE_URI": "memory://"}, workers=1)
    check_limits_are_shared({**production, "RATELIMIT_STORAGE_URI": "redis://h:6379"}, workers=4)
    check_limits_are_shared({**production, "RATELIMIT_ENABLED": False}, workers=4)
    check_limits_are_shared({"SAMVERKA_ENV": "development", "RATELIMIT_ENABLED": True}, 4)
    with pytest.raises(SystemExit):
        check_limits_are_shared({**production, "RATELIMIT_STORAGE_URI": "memory://"}, workers=2)
