"""Behind the documented reverse proxy the client's address is the one the proxy saw; a client
talking to the app directly cannot choose its address with X-Forwarded-For (issue 17)."""

import pytest
from sqlalchemy import select

from crm.models import AuditLog
from tests.conftest import make_app
from tests.factories import UserFactory


def failed_login_ip(app, db, headers, remote="127.0.0.1") -> str:
    user = UserFactory()
    app.test_client().post(
        "/login", data={"email": user.email, "password": "fel"}, headers=headers,
        environ_base={"REMOTE_ADDR": remote},
    )  # fmt: skip
    return db.session.scalar(
        select(AuditLog.ip).where(AuditLog.action == "login_failed").order_by(AuditLog.id.desc())
    )


def test_without_trusted_proxies_forwarded_headers_are_ignored(database, db):
    app = make_app(database, TRUSTED_PROXIES=0)
    assert failed_login_ip(app, db, {"X-Forwarded-For": "6.6.6.6"}) == "127.0.0.1"


@pytest.mark.parametrize(
    ("forwarded", "seen"),
    [
        ("198.51.100.7", "198.51.100.7"),  # what nginx appends: the real client
        ("6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client's own entry is not believed
    ],
)
def test_behind_one_proxy_the_address_it_saw_is_the_clients(database, db, forwarded, seen):
    app = make_app(database, TRUSTED_PROXIES=1)
    assert failed_login_ip(app, db, {"X-Forwarded-For": forwarded}) == seen


def test_per_address_limits_behind_the_proxy_count_each_client(database, db, limited_app):
    app = limited_app(TRUSTED_PROXIES=1, LOGIN_LIMIT_PER_IP="2 per 5 minutes")
    client = app.test_client()
    user = UserFactory()

    def attempt(client_ip):
        return client.post(
            "/login", data={"email": user.email, "password": "fel"},
            headers={"X-Forwarded-For": client_ip},
        ).status_code  # fmt: skip

    assert [attempt("198.51.100.1") for _ in range(3)] == [422, 422, 429]
    assert attempt("198.51.100.2") == 422  # another client behind the same proxy is not locked
