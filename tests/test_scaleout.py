"""Several app instances on one PostgreSQL and one Redis (issue 20): whichever instance answers,
a person sees the same session, the same limits and the same figures, and mail goes out and
comes in once however many hosts run the mail commands.

Real processes throughout: two production gunicorns (gunicorn.conf.py, two workers each) on
different ports, sharing a scratch database and a Redis key prefix of their own; `flask crm
send-mail` and `fetch-mail` as concurrent processes against a real SMTP server (aiosmtpd) and a
real Dovecot. The load balancer is the test itself, sending each request to the instance it
chooses, with no sticky sessions.
"""

from __future__ import annotations

import asyncio
import email.utils
import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from crm.extensions import db as _db
from tests.conftest import TEST_PASSWORD, drop_scratch_database, make_app, scratch_database
from tests.helpers import wait_for as wait_until
from tests.html import csrf_token, form_posting_to
from tests.smtp import Inbox, free_port

BASE_URL = os.environ.get("DATABASE_URL") or ""
ON_POSTGRESQL = BASE_URL.startswith("postgresql")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not ON_POSTGRESQL,
        reason="several instances share one PostgreSQL; SQLite serves one machine "
        "(run with DATABASE_URL=postgresql+psycopg://…)",
    ),
]

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
INSTANCES, WORKERS, THREADS = 2, 2, 2
GENEROUS = 60  # seconds at most for anything to happen: a regression fails, never hangs
CACHE_SECONDS = 4
LIMITS = {  # small, so the test reaches them quickly
    "LOGIN_LIMIT_PER_ACCOUNT_AND_IP": "4 per 5 minutes",
    "LOGIN_LIMIT_PER_ACCOUNT": "6 per hour",
    "LOGIN_LIMIT_PER_IP": "5 per 5 minutes",
}
SECRETARY = "sekreterare@scaleout.example.se"
CHAIR = "ordforande@scaleout.example.se"


def wait_for(condition, what: str):
    return wait_until(condition, what, GENEROUS)


# ---- the cluster: one database, one Redis prefix, two instances ------------------------


@dataclass
class Cluster:
    url: str  # the scratch database
    prefix: str  # REDIS_KEY_PREFIX
    env: dict  # the production environment every process shares
    ports: list[int] = field(default_factory=list)
    masters: list[subprocess.Popen] = field(default_factory=list)

    def app(self):
        """An app on the scratch database for the test's own reads and writes."""
        return make_app(self.url)


@pytest.fixture(scope="module")
def cluster(redis_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("scaleout")
    url = scratch_database(BASE_URL, f"scaleout_{uuid.uuid4().hex[:8]}")
    prefix = f"samverka-scaleout-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        # Every process the test starts (two gunicorns, a dozen commands) compiles the app;
        # with a bytecode cache of the test's own (never beside the sources) only the first.
        "PYTHONPYCACHEPREFIX": str(root / "pycache"),
        "PYTHONDONTWRITEBYTECODE": "",
        "FLASK_APP": "wsgi",
        "SAMVERKA_ENV": "production",
        "SECRET_KEY": "scaleout-shared-secret-" + "s" * 40,  # one secret on every host
        "DATABASE_URL": url,
        "SESSION_COOKIE_SECURE": "false",  # plain http on loopback
        "RATELIMIT_STORAGE_URI": redis_url,
        "CACHE_STORAGE_URI": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "DASHBOARD_CACHE_SECONDS": str(CACHE_SECONDS),
        "TRUSTED_PROXIES": "1",  # client addresses from X-Forwarded-For, as behind nginx
        "FORM_MIN_FILL_SECONDS": "0",
        "ATTACHMENTS_DIR": str(root / "attachments"),  # shared by every host (NFS)
        "GUNICORN_WORKERS": str(WORKERS),
        "GUNICORN_THREADS": str(THREADS),
        **LIMITS,
    }
    cluster = Cluster(url=url, prefix=prefix, env=env)
    try:
        migrate_and_seed(url)
        starting = [start_instance(cluster, root / f"host{n}") for n in range(INSTANCES)]
        for wait_until_serving in starting:
            wait_until_serving()
        yield cluster
    finally:
        for master in cluster.masters:
            stop(master)
        drop_scratch_database(url)
        forget_redis_keys(redis_url, prefix)


def migrate_and_seed(url: str) -> None:
    from flask_migrate import upgrade

    from crm.auth.services import create_user

    app = make_app(url)
    with app.app_context():
        upgrade()
        create_user(SECRETARY, "Sekreterare Scaleout", "secretary_general", TEST_PASSWORD)
        create_user(CHAIR, "Ordförande Scaleout", "chair", TEST_PASSWORD)
        _db.session.commit()
        _db.session.remove()
        _db.engine.dispose()


def start_instance(cluster: Cluster, host: Path):
    """Start one app host: gunicorn with gunicorn.conf.py, its own instance folder and port;
    returns what waits until it serves."""
    port = free_port()
    host.mkdir()
    env = {**cluster.env, "GUNICORN_BIND": f"127.0.0.1:{port}",
           "SAMVERKA_INSTANCE_PATH": str(host / "instance")}  # fmt: skip
    log = open(host / "gunicorn.log", "w")  # noqa: SIM115 (gunicorn keeps its own copy)
    master = subprocess.Popen(
        [GUNICORN, "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    cluster.masters.append(master)
    cluster.ports.append(port)

    def ready():
        if master.poll() is not None:
            pytest.fail(f"gunicorn stopped: {(host / 'gunicorn.log').read_text()[-3000:]}")
        children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
        return len(children) == WORKERS and answers(port)

    return lambda: wait_for(ready, f"gunicorn on port {port}")


def answers(port: int) -> bool:
    try:
        return Browser().get(port, "/healthz").status == 200
    except OSError:
        return False


def stop(master: subprocess.Popen) -> None:
    master.send_signal(signal.SIGTERM)
    try:
        master.wait(timeout=GENEROUS)
    except subprocess.TimeoutExpired:
        master.kill()
        master.wait()


def forget_redis_keys(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    stale = list(client.scan_iter(match=f"*{prefix}*", count=1000))
    if stale:
        client.delete(*stale)
    client.close()


# ---- a browser without a load balancer's stickiness ---------------------------------------


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Browser:
    """Cookies for 127.0.0.1 whatever the port, as a browser behind one address would send
    them to whichever instance the balancer picks. `ip` is the client address the proxy in
    front would append to X-Forwarded-For."""

    def __init__(self, ip: str | None = None) -> None:
        self.ip = ip
        self.cookies: dict[str, str] = {}

    def get(self, port: int, path: str) -> Response:
        return self._request(port, "GET", path)

    def post(self, port: int, path: str, fields) -> Response:
        body = urlencode(list(fields.items()) if isinstance(fields, dict) else fields)
        return self._request(port, "POST", path, body)

    def page_token(self, port: int, path: str) -> str:
        page = self.get(port, path)
        assert page.status == 200, (path, page.status)
        return csrf_token(page.text)

    def _request(self, port: int, method: str, path: str, body: str | None = None) -> Response:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.ip:
            headers["X-Forwarded-For"] = self.ip
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=GENEROUS)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text_ = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                gone = morsel["max-age"] == "0" or "1970" in morsel["expires"]
                if gone or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Response(response.status, response.headers, text_)

    def log_in(self, port: int, email_: str) -> None:
        token = self.page_token(port, "/login")
        fields = {"email": email_, "password": TEST_PASSWORD, "csrf_token": token}
        answer = self.post(port, "/login", fields)
        assert answer.status == 302, answer.text[-2000:]
        assert "/login" not in answer.location


def logged_in(response: Response) -> bool:
    if response.status == 200:
        return True
    assert response.status == 302, response.status
    assert "/login" in response.location
    return False


# ---- 1. sessions --------------------------------------------------------------------------


def test_a_session_made_on_one_instance_is_valid_on_the_other_until_either_logs_it_out(cluster):
    a, b = cluster.ports
    browser = Browser()
    browser.log_in(a, SECRETARY)
    assert logged_in(browser.get(b, "/inquiries"))
    assert logged_in(browser.get(a, "/inquiries"))
    copied = dict(browser.cookies)  # a second tab, or a copy of the cookie

    # The log-out form of a page one instance drew is accepted by the other (CSRF token).
    token = browser.page_token(a, "/inquiries")
    assert browser.post(b, "/logout", {"csrf_token": token}).status == 302

    assert not logged_in(browser.get(a, "/inquiries"))
    stale = Browser()
    stale.cookies = copied
    assert not logged_in(stale.get(a, "/inquiries"))  # ended on the instance that did not log out
    assert not logged_in(stale.get(b, "/inquiries"))


# ---- 2. rate limits -------------------------------------------------------------------------


def failed_logins(attempts: list[tuple[int, str, str]]) -> list[int]:
    """POST wrong passwords, each (port, client address, account); their status codes."""
    statuses = []
    for port, ip, account in attempts:
        browser = Browser(ip)
        token = browser.page_token(port, "/login")
        fields = {"email": account, "password": "fel-gissning", "csrf_token": token}
        answer = browser.post(port, "/login", fields)
        statuses.append(answer.status)
    return statuses


def client_ip() -> str:
    """A client address of this test's own (random in 10/8): no earlier run counted it."""
    n = uuid.uuid4().int
    return f"10.{n % 250 + 1}.{n // 250 % 250 + 1}.{n // 62500 % 250 + 1}"


def test_log_in_limits_are_counted_once_for_every_instance(cluster):
    a, b = cluster.ports
    alternate = lambda n: a if n % 2 == 0 else b  # noqa: E731

    # One address guessing at one account: LOGIN_LIMIT_PER_ACCOUNT_AND_IP (4) in total.
    account, ip = f"guessed-{uuid.uuid4().hex[:8]}@scaleout.example.se", client_ip()
    assert failed_logins([(alternate(n), ip, account) for n in range(5)]) == [422] * 4 + [429]

    # Many addresses guessing at one account: LOGIN_LIMIT_PER_ACCOUNT (6) in total.
    account = f"target-{uuid.uuid4().hex[:8]}@scaleout.example.se"
    attempts = [(alternate(n), client_ip(), account) for n in range(7)]
    assert failed_logins(attempts) == [422] * 6 + [429]

    # One address guessing at many accounts: LOGIN_LIMIT_PER_IP (5) in total.
    ip = client_ip()
    attempts = [(alternate(n), ip, f"n{n}-{uuid.uuid4().hex[:6]}@scaleout.example.se")
                for n in range(6)]  # fmt: skip
    assert failed_logins(attempts) == [422] * 5 + [429]

    # The owner, from an address of their own, still logs in (on either instance).
    Browser(client_ip()).log_in(b, SECRETARY)


# ---- 3. cached dashboard figures --------------------------------------------------------

FIGURES = re.compile(r'<div class="key-figures">.*?</section>', re.S)
TOTAL = re.compile(r'<span class="figure-value"><a href="[^"]*">(\d+)</a>')


@dataclass
class Reading:
    started: float
    total: int
    figures: str


def read_dashboard(browser: Browser, port: int, path: str) -> Reading:
    started = time.monotonic()
    page = browser.get(port, path)
    assert page.status == 200, page.status
    return Reading(started, int(TOTAL.search(page.text).group(1)),
                   FIGURES.search(page.text).group(0))  # fmt: skip


def submit_inquiry(port: int, app) -> float:
    """The public form, as a partner sends it; when the answer (stored) came back."""
    from werkzeug.datastructures import MultiDict

    from tests.public.helpers import form_data

    browser = Browser(client_ip())
    page = browser.get(port, "/samverkan")
    data = MultiDict(form_data(app, email=f"partner-{uuid.uuid4().hex[:6]}@exempel.se"))
    for name, value in form_posting_to(page.text, "/samverkan")["fields"]:
        data.setlist(name, [value])  # the page's own CSRF token and start time
    answer = browser.post(port, "/samverkan", list(data.items(multi=True)))
    assert answer.status == 302, answer.text[-2000:]
    return time.monotonic()


def test_cached_figures_are_the_same_on_every_instance_and_no_older_than_stated(cluster):
    from crm.timeutil import local_today

    a, b = cluster.ports
    chair = Browser()
    chair.log_in(a, CHAIR)
    today = local_today()
    # Periods nobody has looked at yet, so the first reading below is the one that caches.
    paths = [f"/dashboard?year={today.year}&quarter={(today.month - 1) // 3 + 1}",
             f"/dashboard?year={today.year}"]  # fmt: skip
    app = cluster.app()
    for path in paths:
        cached_by_a = read_dashboard(chair, a, path)
        submitted = submit_inquiry(b, app)
        seen_on_b = read_dashboard(chair, b, path)
        if time.monotonic() - cached_by_a.started < CACHE_SECONDS:
            # Within the cache age of A's reading: B shows A's figures, not its own newer ones.
            assert seen_on_b.total == cached_by_a.total
            assert seen_on_b.figures == cached_by_a.figures
            break
    else:
        pytest.fail("the machine was too slow to read both instances within the cache age")

    # The new inquiry shows everywhere once the cache age has passed since it was stored (plus
    # one second for the request that cached the old figures as it came in).
    fresh_after = submitted + CACHE_SECONDS + 1
    readings = {a: [], b: []}

    def both_fresh():
        for port in (a, b):
            readings[port].append(read_dashboard(chair, port, path))
        return all(r[-1].started >= fresh_after for r in readings.values())

    wait_for(both_fresh, "readings after the cache age")
    late = [r for port in (a, b) for r in readings[port] if r.started >= fresh_after]
    assert {r.total for r in late} == {cached_by_a.total + 1}
    assert readings[a][-1].figures == readings[b][-1].figures


# ---- 4. mail commands on several hosts ---------------------------------------------------


def flask_command(cluster: Cluster, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "crm", *args],
        cwd=ROOT, env={**cluster.env, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=GENEROUS)
    return process.returncode, out, err


class TwoAtOnce(Inbox):
    """Holds each SMTP session's first message until two sessions have come (or 10 s went
    by): both senders are then mid-way through their runs at the same moment."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions: set = set()
        self.both = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if session.peer not in self.sessions:
            self.sessions.add(session.peer)
            if len(self.sessions) >= 2:
                self.both.set()
            # well inside the sender's SMTP timeout (15 s), so holding it costs no retry
            await asyncio.get_running_loop().run_in_executor(None, self.both.wait, 10)
        return await super().handle_DATA(server, session, envelope)


def test_two_senders_on_two_hosts_deliver_each_message_once(cluster):
    from aiosmtpd.controller import Controller

    from crm.mail.models import OutboxMessage, OutboxStatus

    app = cluster.app()
    with app.app_context():
        _db.session.add_all(
            OutboxMessage(kind="test", recipient=f"r{n}@exempel.se", subject=f"Meddelande {n}",
                          body_text="Hej")
            for n in range(12)
        )  # fmt: skip
        _db.session.commit()
        queued = set(_db.session.scalars(
            select(OutboxMessage.message_id).where(OutboxMessage.status == OutboxStatus.PENDING)
        ))  # fmt: skip
        _db.session.remove()

    port = free_port()
    inbox = TwoAtOnce()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail_env = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port)}
        senders = [flask_command(cluster, "send-mail", "--worker", str(n), **mail_env)
                   for n in (1, 2)]  # fmt: skip
        results = [finish(sender) for sender in senders]
    finally:
        controller.stop()

    for code, out, err in results:
        assert code == 0, (out, err)
    sent = [int(re.search(r"Sent (\d+),", out).group(1)) for _, out, _ in results]
    assert all(count > 0 for count in sent), sent  # both really sent, at the same time
    assert sum(sent) == len(queued)
    delivered = inbox.message_ids()
    assert sorted(delivered) == sorted(queued)  # every message, none twice
    with app.app_context():
        statuses = _db.session.scalars(select(OutboxMessage.status)).all()
        _db.session.remove()
        _db.engine.dispose()
    assert set(statuses) == {OutboxStatus.SENT}


def intake_message(number: int, run: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Partner {number} <partner{number}@exempel.se>"
    message["To"] = "samverkan@lansmuseerna.se"
    message["Subject"] = f"Fråga nummer {number}"
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = f"<scaleout-{run}-{number}@exempel.se>"
    message.set_content(f"Hej!\nEn fråga om samarbete, nummer {number}.\n\nMvh Partner {number}")
    return bytes(message)


def waiting_on_locks(url: str) -> int:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        count = connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ))  # fmt: skip
    engine.dispose()
    return count


def test_two_fetchers_on_two_hosts_file_each_message_once(cluster, imap_server):
    from imap_tools import MailBoxUnencrypted

    from crm.conversation.models import InboundMail
    from tests.imap import PASSWORD

    host, imap_port = imap_server
    user, run = f"intake-{uuid.uuid4().hex[:12]}", uuid.uuid4().hex[:8]
    messages = 12
    with MailBoxUnencrypted(host, imap_port).login(user, PASSWORD) as box:
        for number in range(messages):
            box.append(intake_message(number, run), "INBOX")
    expected = {f"<scaleout-{run}-{number}@exempel.se>" for number in range(messages)}

    imap_env = {
        "MAIL_IMAP_HOST": host, "MAIL_IMAP_PORT": str(imap_port), "MAIL_IMAP_SSL": "false",
        "MAIL_IMAP_USERNAME": user, "MAIL_IMAP_PASSWORD": PASSWORD,
        "DATABASE_STATEMENT_TIMEOUT": str(GENEROUS),  # they wait on the test's lock below
    }  # fmt: skip
    # Both fetchers start at the same moment, and whichever comes first to store a message
    # waits on this table lock until the other has come as far, or has finished.
    holder = create_engine(cluster.url, poolclass=NullPool)
    connection = holder.connect()
    transaction = connection.begin()
    connection.execute(text("LOCK TABLE inbound_mails IN SHARE MODE"))
    try:
        fetchers = [flask_command(cluster, "fetch-mail", **imap_env) for _ in range(2)]
        wait_for(
            lambda: (
                waiting_on_locks(cluster.url) + sum(f.poll() is not None for f in fetchers) >= 2
            ),
            "both fetchers at the mailbox",
        )
    finally:
        transaction.rollback()
        connection.close()
        holder.dispose()
    results = [finish(fetcher) for fetcher in fetchers]

    for code, out, err in results:
        assert code == 0, (out, err)
    # One run reads the mailbox; the other finds it busy (the lock is in the shared database).
    outputs = sorted(out.strip() for _, out, _ in results)
    assert outputs == [
        "Another fetch-mail is reading this mailbox. This run fetched nothing.",
        f"Stored {messages} ({messages} unsorted); 0 already stored.",
    ]
    app = cluster.app()
    with app.app_context():
        stored = _db.session.scalars(
            select(InboundMail.message_id).where(InboundMail.message_id.like(f"<scaleout-{run}-%"))
        ).all()
        errors = _db.session.scalar(
            select(func.count()).select_from(InboundMail).where(InboundMail.error.is_not(None))
        )
        _db.session.remove()
        _db.engine.dispose()
    assert sorted(stored) == sorted(expected)  # each message filed, and once
    assert errors == 0
    with MailBoxUnencrypted(host, imap_port).login(user, PASSWORD) as box:
        assert box.folder.status("INBOX")["MESSAGES"] == 0
        assert box.folder.status("Samverka")["MESSAGES"] == messages


def test_one_message_delivered_twice_at_once_is_stored_once(cluster, tmp_path):
    """`receive-mail` runs once per delivery, several at a time (Postfix's pipe, on one host or
    several): the same message twice at once is stored once, and neither run fails or asks the
    mail server to try again."""
    from crm.conversation.models import InboundMail

    run = uuid.uuid4().hex[:8]
    delivery = tmp_path / "message.eml"
    delivery.write_bytes(intake_message(0, run))
    holder = create_engine(cluster.url, poolclass=NullPool)
    connection = holder.connect()
    transaction = connection.begin()
    connection.execute(text("LOCK TABLE inbound_mails IN SHARE MODE"))
    try:
        pipes = []
        for _ in range(2):
            with delivery.open("rb") as message:
                pipes.append(subprocess.Popen(
                    [sys.executable, "-m", "flask", "crm", "receive-mail"], cwd=ROOT,
                    env=cluster.env, stdin=message, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                ))  # fmt: skip
        # Both looked the message up, found nothing, and wait to store it.
        wait_for(lambda: waiting_on_locks(cluster.url) >= 2, "both deliveries storing")
    finally:
        transaction.rollback()
        connection.close()
        holder.dispose()
    results = []
    for pipe in pipes:
        out, err = pipe.communicate(timeout=GENEROUS)
        results.append((pipe.returncode, out.decode(), err.decode()))

    for code, out, err in results:
        assert code == 0, (out, err)  # 75 would have the mail server deliver it again
    assert sorted(out.strip() for _, out, _ in results) == [
        "Already stored (unsorted); nothing done.",
        "Stored as unsorted.",
    ]
    assert not any("could not be filed" in err for _, _, err in results)
    app = cluster.app()
    with app.app_context():
        stored = _db.session.scalar(
            select(func.count()).where(InboundMail.message_id == f"<scaleout-{run}-0@exempel.se>")
        )
        _db.session.remove()
        _db.engine.dispose()
    assert stored == 1


def test_reminders_run_on_two_hosts_at_once_queue_one_digest_per_person(cluster):
    """The same crontab on every host starts send-reminders on each at 07:00."""
    from crm.activity.models import FollowUp
    from crm.auth.models import User
    from crm.mail.models import OutboxMessage
    from crm.timeutil import local_today

    app = cluster.app()
    with app.app_context():
        for user in _db.session.scalars(select(User)):
            _db.session.add(FollowUp(title="Ring tillbaka", due_on=local_today(), owner_id=user.id))
        _db.session.commit()
        _db.session.remove()
    # Both runs start together; whichever comes first to queue a digest waits on this lock
    # until the other has come as far.
    holder = create_engine(cluster.url, poolclass=NullPool)
    connection = holder.connect()
    transaction = connection.begin()
    connection.execute(text("LOCK TABLE outbox_messages IN SHARE MODE"))
    try:
        runs = [flask_command(cluster, "send-reminders") for _ in range(2)]
        wait_for(lambda: waiting_on_locks(cluster.url) >= 2, "both runs queueing")
    finally:
        transaction.rollback()
        connection.close()
        holder.dispose()
    results = [finish(run) for run in runs]

    for code, out, err in results:
        assert code == 0, (out, err)
    assert sorted(out.strip() for _, out, _ in results) == [
        "Queued 0 reminder digests; 2 already queued today.",
        "Queued 2 reminder digests; 0 already queued today.",
    ]
    with app.app_context():
        digests = _db.session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.kind == "reminder")
        ).all()
        _db.session.remove()
        _db.engine.dispose()
    assert sorted(digests) == sorted([SECRETARY, CHAIR])


# ---- sizing: connections ----------------------------------------------------------------


def test_connections_stay_within_workers_times_threads_per_instance(cluster):
    """docs/deploy.md sizes PostgreSQL's max_connections by this bound: a worker holds at
    most one connection per thread, however many requests come at once."""
    a, b = cluster.ports
    browser = Browser()
    browser.log_in(a, SECRETARY)
    paths = ["/inquiries", "/", "/pipeline", "/follow-ups"]
    threads = [
        threading.Thread(target=lambda p=port, q=path: browser.get(p, q))
        for _ in range(4) for port in (a, b) for path in paths
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GENEROUS)
    engine = create_engine(cluster.url, poolclass=NullPool)
    with engine.connect() as connection:
        others = connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ))  # fmt: skip
    engine.dispose()
    assert 0 < others <= INSTANCES * WORKERS * THREADS
