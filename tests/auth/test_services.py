"""Staff accounts' rules, called directly: creation, log-in, password change, sessions."""

import pytest
from sqlalchemy import select

from crm.auth import services
from crm.auth.passwords import hash_password, password_problems
from crm.errors import DomainError
from crm.models import AuditLog
from tests.conftest import TEST_PASSWORD
from tests.factories import UserFactory

GOOD = "en-lång-och-ovanlig-fras"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("inte-en-adress", "Namn", "chair", GOOD), "email"),
        (("ny@example.se", "  ", "chair", GOOD), "name"),
        (("ny@example.se", "x" * 121, "chair", GOOD), "name"),
        (("ny@example.se", "Namn", "king", GOOD), "role"),
        (("ny@example.se", "Namn", "chair", "kort"), "password"),
    ],
)
def test_create_user_refuses_what_is_wrong_on_the_right_field(db, args, field):
    with pytest.raises(DomainError) as refused:
        services.create_user(*args)
    assert refused.value.field == field


def test_create_user_normalises_the_address_and_refuses_a_second_account(db):
    user = services.create_user(" Ny@Example.SE ", "Ny Person", "chair", GOOD)
    assert user.email == "ny@example.se"
    assert user.password_hash.startswith("$argon2id$")
    with pytest.raises(DomainError) as refused:
        services.create_user("NY@example.se", "Annan", "board", GOOD)
    assert refused.value.field == "email"


def test_authenticate_accepts_only_the_active_user_with_the_right_password(db):
    user = UserFactory(email="greta@example.se")
    assert services.authenticate("GRETA@example.se", TEST_PASSWORD) == user
    assert services.authenticate("greta@example.se", "fel") is None
    assert services.authenticate("okand@example.se", TEST_PASSWORD) is None
    user.active = False
    assert services.authenticate("greta@example.se", TEST_PASSWORD) is None
    reasons = [row.details.get("reason") for row in db.session.scalars(select(AuditLog))]
    assert reasons.count("wrong_password") == 1
    assert reasons.count("unknown_or_inactive") == 2


def test_authenticate_renews_a_hash_made_with_older_parameters(app, db):
    from argon2 import PasswordHasher

    old = PasswordHasher(time_cost=1, memory_cost=2048, parallelism=2).hash(TEST_PASSWORD)
    user = UserFactory(password_hash=old)
    assert services.authenticate(user.email, TEST_PASSWORD) == user
    assert user.password_hash != old


def test_change_password_needs_the_current_one_and_the_policy(db):
    user = UserFactory()
    version = user.session_version
    with pytest.raises(DomainError) as wrong:
        services.change_password(user, "inte-det-gamla", GOOD)
    assert wrong.value.field == "current_password"
    with pytest.raises(DomainError) as weak:
        services.change_password(user, TEST_PASSWORD, "kort")
    assert weak.value.field == "new_password"
    assert user.session_version == version  # nothing changed by a refusal
    services.change_password(user, TEST_PASSWORD, GOOD)
    assert services.authenticate(user.email, GOOD) == user
    assert user.session_version == version + 1  # every other session ends
    assert user.password_changed_at is not None


def test_end_all_sessions_invalidates_the_old_session_id(db):
    user = UserFactory()
    before = user.get_id()
    services.end_all_sessions(user)
    assert user.get_id() != before


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("a" * 11, False),
        ("a" * 129, False),
        ("password1234", False),
        ("x" * 64, False),  # long, but one character repeated
        (GOOD, True),
    ],
)
def test_v2_1_password_policy(app, password, ok):
    with app.test_request_context():
        assert (password_problems(password, "someone@example.se") == []) is ok


def test_the_password_may_not_be_the_address(app):
    with app.test_request_context():
        assert password_problems("someone@example.se", "someone@example.se")


def test_hashes_are_argon2id(app):
    with app.app_context():
        assert hash_password(GOOD).startswith("$argon2id$")
