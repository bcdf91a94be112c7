"""The figures cache: per process by default, shared in Redis when CACHE_STORAGE_URI says so,
and never an error page when Redis fails (the figures are computed instead).

Real Redis (the machine's, under a key prefix of each test's own); a Redis that does not answer
is a socket that accepts and never replies.
"""

from __future__ import annotations

import socket
import threading

import pytest
import redis

from crm.reports import cache
from crm.reports.cache import REDIS_TIMEOUT, cached, redis_key


class Counter:
    """compute() for the cache: counts its calls, returns a fresh value each time."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return {"total": self.calls, "rows": [("exhibition", 3)]}


@pytest.fixture
def shared(app, redis_url, redis_prefix, monkeypatch):
    """The app's cache in Redis under this test's prefix; a client to look at it."""
    monkeypatch.setitem(app.config, "CACHE_STORAGE_URI", redis_url)
    monkeypatch.setitem(app.config, "REDIS_KEY_PREFIX", redis_prefix)
    client = redis.Redis.from_url(redis_url)
    with app.app_context():
        yield client
    client.close()


class Silent:
    """A 'Redis' that accepts connections and never answers: a hung server, or a network
    that drops everything."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture(autouse=True)
def fresh_clients(monkeypatch):
    """Each test its own Redis clients, with no back-off left by another test."""
    monkeypatch.setattr(cache, "_stores", {})


@pytest.fixture
def silent_redis(app, monkeypatch):
    server = Silent()
    monkeypatch.setitem(app.config, "CACHE_STORAGE_URI", f"redis://127.0.0.1:{server.port}/0")
    yield server
    server.close()


def test_per_process_by_default_and_off_at_zero(app):
    compute = Counter()
    with app.app_context():
        assert app.config["CACHE_STORAGE_URI"] == "memory://"
        key = ("test-memory", id(compute))
        assert cached(key, 60, compute) == cached(key, 60, compute)
        assert compute.calls == 1
        cached(key, 0, compute)
        cached(key, 0, compute)
    assert compute.calls == 3


def test_redis_keeps_one_signed_copy_for_the_stated_seconds(shared, redis_prefix):
    compute = Counter()
    first = cached(("dashboard", 2026, None), 7, compute)
    cache._entries.clear()  # nothing of it in this process: the next value comes from Redis
    again = cached(("dashboard", 2026, None), 7, lambda: pytest.fail("computed again"))

    assert again == first
    assert compute.calls == 1
    name = redis_key(("dashboard", 2026, None))
    assert name.startswith(f"{redis_prefix}:cache:")
    assert 0 < shared.pttl(name) <= 7000  # gone from Redis when its age is up
    assert not cache._entries  # and never kept per process besides


def test_a_value_not_signed_with_our_secret_is_never_unpickled(shared):
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("unpickled a value someone else wrote",))

    import pickle

    name = redis_key(("dashboard", 2027, 1))
    shared.set(name, b"\0" * 32 + pickle.dumps(Boom()))
    compute = Counter()

    assert cached(("dashboard", 2027, 1), 30, compute) == {"total": 1, "rows": [("exhibition", 3)]}
    assert compute.calls == 1
    assert cached(("dashboard", 2027, 1), 30, compute)["total"] == 1  # replaced by ours


def test_a_silent_redis_costs_one_short_wait_then_is_left_alone(app, silent_redis):
    compute = Counter()
    with app.app_context():
        first = cached(("dashboard", 2026, 2), 30, compute)
        second = cached(("dashboard", 2026, 2), 30, compute)

    assert (first["total"], second["total"]) == (1, 2)  # computed, both times
    # The first view waited REDIS_TIMEOUT for an answer; the second did not ask (back-off).
    assert len(silent_redis.accepted) == 1
    assert REDIS_TIMEOUT <= 1


def test_the_dashboard_answers_with_redis_down(app, client, login_as, monkeypatch, caplog):
    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "CACHE_STORAGE_URI", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setitem(app.config, "DASHBOARD_CACHE_SECONDS", 60)
    login_as("chair")

    assert client.get("/dashboard").status_code == 200
    assert client.get("/dashboard/arsrapport").status_code == 200
    assert "cache storage unavailable" in caplog.text
    assert caplog.text.count("cache storage unavailable") == 1  # once per outage


def test_the_dashboard_shows_figures_another_instance_cached(app, client, login_as, shared,
                                                             monkeypatch):  # fmt: skip
    from crm.reports.queries import Period, dashboard

    monkeypatch.setitem(app.config, "DASHBOARD_CACHE_SECONDS", 60)
    login_as("chair")
    period = Period(2031)
    figures = {**dashboard(period), "total": 4242}  # as another instance cached them
    cached(("dashboard", 2031, None), 60, lambda: figures)
    cache._entries.clear()

    page = client.get("/dashboard?year=2031")
    assert page.status_code == 200
    assert ">4242</a>" in page.text
