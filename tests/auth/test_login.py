"""Log-in, log-out and sessions (ASVS V2, V3)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.auth.passwords import hash_password
from crm.models import AuditLog, User
from crm.timeutil import utcnow
from tests.conftest import TEST_PASSWORD
from tests.factories import UserFactory


def login(client, email, password=TEST_PASSWORD, next_url=None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password})


def test_login_page_is_swedish_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert '<html lang="sv"' in page.text
    assert "<h1>Logga in</h1>" in page.text
    assert 'for="email"' in page.text


@pytest.mark.parametrize(
    ("role", "landing"),
    [("secretary_general", "/inbox"), ("chair", "/inbox"), ("board", "/dashboard"),
     ("admin", "/admin/users")],
)  # fmt: skip
def test_each_role_lands_on_its_first_useful_page(client, db, role, landing):
    login(client, UserFactory(role=role).email)
    assert client.get("/start").headers["Location"] == landing
    assert client.get(landing).status_code == 200


def test_user_logs_in_and_lands_on_the_inbox(client, db):
    user = UserFactory(role="secretary_general")
    response = login(client, user.email.upper())
    assert response.status_code == 302
    assert response.headers["Location"] == "/start"
    assert client.get("/start").headers["Location"] == "/inbox"
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    assert user.name in inbox.text


def test_v2_wrong_password_is_refused_with_a_generic_error(client, db):
    user = UserFactory()
    wrong = login(client, user.email, "fel-lösenord-helt-och-hållet")
    unknown = login(client, "ingen@example.se", "fel-lösenord-helt-och-hållet")
    for response in (wrong, unknown):
        assert response.status_code == 422
        assert "Fel e-postadress eller lösenord." in response.text
    assert client.get("/inbox").status_code == 302


def test_v7_login_attempts_are_audited(client, db):
    user = UserFactory()
    login(client, user.email, "fel-lösenord-helt-och-hållet")
    login(client, user.email)
    actions = [row.action for row in db.session.query(AuditLog).order_by(AuditLog.id)]
    assert actions[-2:] == ["login_failed", "login_succeeded"]


def test_deactivated_user_cannot_log_in(client, db):
    user = UserFactory(active=False)
    assert login(client, user.email).status_code == 422
    assert client.get("/inbox").status_code == 302


def test_v5_1_5_next_only_accepts_local_paths(client, db):
    user = UserFactory()
    assert login(client, user.email, next_url="/admin/users").headers["Location"] == (
        "/admin/users"
    )
    client.post("/logout")
    for evil in ("https://evil.example", "//evil.example/x", "/\\evil.example"):
        user = UserFactory()
        response = login(client, user.email, next_url=evil)
        assert response.headers["Location"] == "/start", evil
        client.post("/logout")


def test_v3_2_1_session_cookie_changes_at_login(client, db):
    user = UserFactory()
    client.get("/login")
    client.post("/language", data={"lang": "en"})
    before = client.get_cookie("session").value
    login(client, user.email)
    after = client.get_cookie("session").value
    assert before != after
    # the language choice survives the fresh session
    assert '<html lang="en"' in client.get("/inbox").text


def test_v3_3_1_logout_invalidates_replayed_cookie(app, client, db):
    user = UserFactory()
    login(client, user.email)
    stolen = client.get_cookie("session").value
    assert client.post("/logout").headers["Location"] == "/login"
    attacker = app.test_client()
    attacker.set_cookie("session", stolen)
    response = attacker.get("/inbox")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("idle", "since_login", "expired"),
    [
        (timedelta(minutes=29), timedelta(hours=1), False),
        (timedelta(minutes=31), timedelta(hours=1), True),
        (timedelta(minutes=5), timedelta(hours=12, minutes=1), True),
    ],
)
def test_v3_3_2_idle_and_absolute_timeouts(client, db, idle, since_login, expired):
    user = UserFactory()
    login(client, user.email)
    now = utcnow()
    with client.session_transaction() as session:
        session["seen_at"] = (now - idle).isoformat()
        session["login_at"] = (now - since_login).isoformat()
    response = client.get("/inbox")
    assert (response.status_code == 302) is expired


def test_the_session_cookie_is_resent_only_when_the_session_changed(client, db):
    """Re-signing the cookie on every request costs time for nothing: it is sent again when
    seen_at moves (at most once a minute), which also keeps an active session alive."""
    login(client, UserFactory().email)
    client.get("/account")  # the first form of the session adds its CSRF secret
    assert "Set-Cookie" not in client.get("/account").headers
    with client.session_transaction() as session:
        session["seen_at"] = (utcnow() - timedelta(minutes=2)).isoformat()
    refreshed = client.get("/account")
    assert "session=" in refreshed.headers["Set-Cookie"]
    assert "Set-Cookie" not in client.get("/account").headers


def test_v2_4_1_passwords_are_hashed_with_argon2id(db):
    user = UserFactory()
    assert user.password_hash.startswith("$argon2id$")


def test_outdated_hash_is_upgraded_at_login(app, client, db):
    # a hash made with different parameters than the app's current ones
    from argon2 import PasswordHasher

    old_hash = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash(TEST_PASSWORD)
    user = UserFactory(password_hash=old_hash)
    assert login(client, user.email).status_code == 302
    stored = db.session.get(User, user.id).password_hash
    assert stored != old_hash
    with app.app_context():
        assert stored.split("$")[3] == hash_password("x").split("$")[3]


def test_v2_2_1_eleventh_wrong_password_for_one_account_is_throttled(limited_app):
    app = limited_app()
    client = app.test_client()
    user = UserFactory()
    statuses = [
        login(client, user.email, f"fel-lösenord-nummer-{n}").status_code for n in range(11)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    assert "För många försök" in login(client, user.email).text


def test_v2_4_1_hashes_use_owasp_argon2id_parameters_and_old_ones_are_renewed(
    app, client, db, monkeypatch
):
    """19 MiB, 2 passes, 1 lane; a hash made with argon2-cffi's 64 MiB default is replaced."""
    from argon2 import PasswordHasher

    monkeypatch.setitem(app.config, "ARGON2_PROFILE", "default")
    assert hash_password(TEST_PASSWORD).startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    user = UserFactory(password_hash=PasswordHasher().hash(TEST_PASSWORD))
    assert "$m=65536," in user.password_hash
    assert login(client, user.email).status_code == 302
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
