"""Guessing is slowed without locking the owner out (issue 17): failed log-ins per account and
address, a slower limit per account, an alert for the admin; wrong current passwords on the
account page are counted and audited. Real Flask-Limiter with in-memory storage."""

from sqlalchemy import func, select

from crm.models import AuditLog
from tests.conftest import TEST_PASSWORD
from tests.factories import UserFactory


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
