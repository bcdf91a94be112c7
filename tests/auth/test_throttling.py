"""Guessing is slowed without locking the owner out (issue 17): failed log-ins per account and
address, a slower limit per account, an alert for the admin; wrong current passwords on the
account page are counted and audited. Real Flask-Limiter with in-memory storage."""

import pytest
from sqlalchemy import func, select

from crm.models import AuditLog
from tests.conftest import TEST_PASSWORD
from tests.factories import UserFactory
from tests.proxy import TcpProxy


def attempt(client, email, password, ip):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def audited(db, action) -> int:
    return db.session.scalar(select(func.count()).where(AuditLog.action == action))


def test_an_attacker_guessing_from_one_address_does_not_lock_the_owner_out(limited_app, db):
    client = limited_app().test_client()
    owner = UserFactory()
    guesses = [attempt(client, owner.email, f"gissning-{n}", "203.0.113.9") for n in range(11)]
    assert [r.status_code for r in guesses] == [422] * 10 + [429]
    assert attempt(client, owner.email, TEST_PASSWORD, "198.51.100.20").status_code == 302


def test_many_addresses_guessing_at_one_account_meet_the_slower_account_limit(limited_app, db):
    client = limited_app(LOGIN_LIMIT_PER_ACCOUNT="5 per hour").test_client()
    target = UserFactory()
    statuses = [
        attempt(client, target.email, "fel", f"203.0.113.{n}").status_code for n in range(6)
    ]
    assert statuses == [422] * 5 + [429]


def test_the_admin_hears_of_an_attack_once_however_long_it_goes_on(limited_app, db):
    client = limited_app(LOGIN_LIMIT_PER_ACCOUNT_AND_IP="2 per 5 minutes").test_client()
    target = UserFactory()
    for _ in range(6):
        attempt(client, target.email, "fel", "203.0.113.9")
    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "login_attack_suspected")
    ).all()
    assert len(entries) == 1
    assert entries[0].actor_label == target.email.lower()
    assert entries[0].details["ip_seen"] == "203.0.113.9"


def test_wrong_current_passwords_are_counted_and_audited(limited_app, db):
    app = limited_app(PASSWORD_CHANGE_LIMIT="3 per 15 minutes")
    client = app.test_client()
    user = UserFactory(role="secretary_general")
    client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    change = {"current_password": "fel-gissning", "new_password": "korp tvättar blå cykel",
              "confirm": "korp tvättar blå cykel"}  # fmt: skip
    statuses = [client.post("/account", data=change).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    assert audited(db, "password_change_failed") == 3


@pytest.fixture
def redis_line(database, db, redis_url, redis_prefix):
    """An app whose rate limits are counted in the test Redis through a line we can cut (as a
    stopped Redis: connection refused). Afterwards the shared Limiter goes back to memory."""
    from crm.extensions import limiter
    from tests.conftest import make_app

    proxy = TcpProxy(*redis_address(redis_url))
    forget_outages(limiter)
    app = make_app(database, RATELIMIT_ENABLED=True, RATELIMIT_KEY_PREFIX=redis_prefix,
                   RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{proxy.port}/0")  # fmt: skip
    yield app, proxy
    proxy.close()
    make_app(database)  # memory:// again, without the Redis-wide reset limiter.reset() does
    limiter.enabled = False
    forget_outages(limiter)


def forget_outages(limiter) -> None:
    """Flask-Limiter keeps "the storage is down" and its back-off on the one Limiter object,
    across init_app; a later app must not start in (or leave to others) a past outage."""
    import time

    limiter._storage_dead = False
    limiter._Limiter__check_backend_count = 0
    limiter._Limiter__last_check_backend = time.time()


def redis_address(url: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.hostname, parts.port


def limit_keys(redis_url, prefix) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return len(list(client.scan_iter(match=f"*{prefix}*")))
    finally:
        client.close()


def test_while_redis_is_down_the_limits_count_in_memory_and_return_to_redis(
    redis_line, redis_url, redis_prefix, caplog
):
    """Log-in keeps answering, still limited, when Redis stops: each process counts in its own
    memory until Redis answers again (docs/decisions.md: a security call, made this way)."""
    import time

    app, proxy = redis_line
    client = app.test_client()
    owner = UserFactory()
    proxy.refuse()
    guesses = [attempt(client, owner.email, f"gissning-{n}", "203.0.113.9") for n in range(11)]
    assert [r.status_code for r in guesses] == [422] * 10 + [429]
    assert "falling back to in-memory storage" in caplog.text
    assert limit_keys(redis_url, redis_prefix) == 0

    proxy.restore()
    # Flask-Limiter tries Redis again after 1, 2, 4 … seconds; each failed log-in asks it to,
    # until one is counted in Redis. (Another account's: how long this takes depends on the
    # machine, and the owner's own limits must not depend on it.)
    deadline = time.monotonic() + 60
    while limit_keys(redis_url, redis_prefix) == 0 and time.monotonic() < deadline:
        assert attempt(client, "annan@example.se", "fel", "198.51.100.7").status_code in (422, 429)
        time.sleep(0.2)
    assert limit_keys(redis_url, redis_prefix) > 0
    assert attempt(client, owner.email, TEST_PASSWORD, "198.51.100.20").status_code == 302


def test_a_silent_redis_does_not_hold_the_log_in_page(redis_line):
    """A Redis that accepts connections and never answers (a dead network path) costs the
    socket timeouts once, then the limits count in memory. Without them the request would wait
    for the operating system to give up on the connection: the liveness bound below is
    generous, it is not a measure of speed."""
    import threading

    app, proxy = redis_line
    email = UserFactory().email
    proxy.blackhole()
    answers = []
    request = threading.Thread(
        target=lambda: answers.append(
            attempt(app.test_client(), email, "fel", "203.0.113.9").status_code
        )
    )
    request.start()
    request.join(timeout=20)
    assert answers == [422]
