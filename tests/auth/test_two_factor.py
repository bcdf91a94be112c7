"""Two-factor log-in (issue 17): TOTP codes (RFC 6238) and recovery codes, enrolment with a
server-drawn QR code, no code taken twice, throttling, re-authentication to turn it off, the
admin's reset, and roles that require it."""

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from crm.audit.models import AuditLog
from crm.auth import two_factor
from crm.auth.models import User
from crm.errors import DomainError
from tests.conftest import TEST_PASSWORD
from tests.factories import UserFactory


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield app


def enrolled(user) -> tuple[pyotp.TOTP, list[str]]:
    """The user with two-factor on; their authenticator and recovery codes."""
    enrolment = two_factor.new_enrolment(user)
    totp = pyotp.TOTP(enrolment.secret)
    codes = two_factor.confirm_enrolment(user, enrolment.secret, totp.now())
    return totp, codes


def code_at(totp, step: int) -> str:
    return totp.generate_otp(step)


# ---- service level ---------------------------------------------------------------------------


def test_enrolment_gives_a_qr_code_as_svg_and_ten_recovery_codes(ctx, db):
    user = UserFactory(email="greta@lansmuseerna.se")
    enrolment = two_factor.new_enrolment(user)
    assert enrolment.uri.startswith("otpauth://totp/Samverka:greta%40lansmuseerna.se?secret=")
    assert str(enrolment.qr_svg).startswith("<svg")
    with pytest.raises(DomainError) as wrong:
        two_factor.confirm_enrolment(user, enrolment.secret, "000000")
    assert wrong.value.field == "code"
    assert not two_factor.is_enrolled(user)
    codes = two_factor.confirm_enrolment(user, enrolment.secret, pyotp.TOTP(enrolment.secret).now())
    assert len(codes) == len(set(codes)) == 10
    assert two_factor.recovery_codes_left(user) == 10


def test_a_code_is_never_taken_twice(ctx, db):
    user = UserFactory()
    totp, _codes = enrolled(user)
    later = time.time() + 60
    step = totp.timecode(__import__("datetime").datetime.fromtimestamp(later))
    code = code_at(totp, step)
    assert two_factor.verify(user, code, now=later)
    assert not two_factor.verify(user, code, now=later)  # replayed within its window
    assert not two_factor.verify(user, code_at(totp, step - 1), now=later)  # an older one


def test_a_phone_a_step_off_is_accepted_further_off_is_not(ctx, db):
    user = UserFactory()
    totp, _codes = enrolled(user)
    now = time.time() + 300
    step = totp.timecode(__import__("datetime").datetime.fromtimestamp(now))
    assert not two_factor.verify(user, code_at(totp, step + 3), now=now)
    assert two_factor.verify(user, code_at(totp, step + 1), now=now)


def test_a_recovery_code_works_once(ctx, db):
    user = UserFactory()
    _totp, codes = enrolled(user)
    assert two_factor.verify(user, codes[0].upper())  # typed in capitals, dash kept
    assert not two_factor.verify(user, codes[0])
    assert two_factor.recovery_codes_left(user) == 9
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "recovery_code_used"))


def test_turning_it_off_needs_the_password_and_a_code(ctx, db):
    user = UserFactory()
    totp, _codes = enrolled(user)
    with pytest.raises(DomainError, match="Fel lösenord"):
        two_factor.disable(user, "fel", totp.now())
    with pytest.raises(DomainError, match="Koden stämmer inte"):
        two_factor.disable(user, TEST_PASSWORD, "123456")
    later = time.time() + 30
    step = totp.timecode(__import__("datetime").datetime.fromtimestamp(later))
    two_factor.disable(user, TEST_PASSWORD, code_at(totp, step))
    assert not two_factor.is_enrolled(user)
    assert two_factor.recovery_codes_left(user) == 0


def test_a_required_role_cannot_turn_it_off(ctx, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_ROLES", frozenset({"admin"}))
    admin = UserFactory(role="admin")
    totp, _codes = enrolled(admin)
    with pytest.raises(DomainError, match="Din roll kräver"):
        two_factor.disable(admin, TEST_PASSWORD, totp.now())


def test_the_admin_resets_a_lost_second_factor_and_it_is_audited(ctx, db):
    user, admin = UserFactory(), UserFactory(role="admin")
    enrolled(user)
    version = user.session_version
    two_factor.reset_by_admin(user, admin)
    assert not two_factor.is_enrolled(user)
    assert user.session_version > version
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "two_factor_reset"))
    assert (entry.actor_id, entry.object_id) == (admin.id, str(user.id))


# ---- through HTTP ----------------------------------------------------------------------------


def log_in(client, user, password=TEST_PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password})


def test_log_in_with_two_factor_asks_for_the_code_before_any_page(client, db, app):
    user = UserFactory(role="secretary_general")
    with app.test_request_context():
        totp, _codes = enrolled(user)
    db.session.commit()
    response = log_in(client, user)
    assert response.headers["Location"] == "/login/kod"
    assert client.get("/inbox").status_code == 302  # not logged in yet
    wrong = client.post("/login/kod", data={"code": "000000"})
    assert wrong.status_code == 422
    assert "Koden stämmer inte." in wrong.text
    later = time.time() + 30
    step = totp.timecode(__import__("datetime").datetime.fromtimestamp(later))
    # a code from the next step (within the drift) logs in
    ok = client.post("/login/kod", data={"code": code_at(totp, step)})
    assert ok.status_code == 302
    assert client.get("/inbox").status_code == 200


def test_the_log_in_counts_as_made_only_after_the_code(client, db, app):
    user = UserFactory(role="secretary_general")
    with app.test_request_context():
        totp, _codes = enrolled(user)
    db.session.commit()

    def actions():
        rows = db.session.scalars(select(AuditLog.action).where(AuditLog.actor_id == user.id))
        return [a for a in rows if a.startswith("login")]

    def last_login():
        return db.session.scalar(select(User.last_login_at).where(User.id == user.id))

    log_in(client, user)
    client.post("/login/kod", data={"code": "000000"})
    db.session.expire_all()
    assert actions() == ["login_password_ok", "login_second_factor_failed"]
    assert last_login() is None
    next_step = totp.timecode(__import__("datetime").datetime.fromtimestamp(time.time() + 30))
    client.post("/login/kod", data={"code": code_at(totp, next_step)})  # now() went to enrolment
    db.session.expire_all()
    assert actions()[-2:] == ["login_second_factor_ok", "login_succeeded"]
    assert last_login() is not None


def test_the_code_step_is_throttled_per_account(limited_app, db):
    app = limited_app(TWO_FACTOR_LIMIT="3 per 5 minutes")
    client = app.test_client()
    user = UserFactory()
    with app.test_request_context():
        enrolled(user)
        db.session.commit()
    log_in(client, user)
    statuses = [client.post("/login/kod", data={"code": "000000"}).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]


def test_a_required_role_is_sent_to_enrol_before_anything_else(client, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_ROLES", frozenset({"admin"}))
    admin = UserFactory(role="admin")
    log_in(client, admin)
    page = client.get("/admin/users")
    assert page.headers["Location"] == "/account/tvastegsverifiering"
    enrol = client.get("/account/tvastegsverifiering")
    assert enrol.status_code == 200
    assert "<svg" in enrol.text
    secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', enrol.text).group(1)
    done = client.post("/account/tvastegsverifiering", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    assert len(re.findall(r"<code>[a-z0-9]{5}-[a-z0-9]{5}</code>", done.text)) == 10
    assert client.get("/admin/users").status_code == 200


def test_the_enrolment_page_is_private_and_keeps_its_secret_until_confirmed(client, db, login_as):
    login_as("chair")
    first = client.get("/account/tvastegsverifiering")
    assert first.headers["Cache-Control"] == "no-store"
    assert first.headers["Referrer-Policy"] == "same-origin"
    secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', first.text).group(1)
    again = client.get("/account/tvastegsverifiering")
    assert secret in again.text  # a reload does not change what was scanned


def test_the_admin_requires_two_factor_of_a_role_whose_members_then_enrol(
    client, db, login_as, app
):
    chair = UserFactory(role="chair")
    other = app.test_client()
    other.post("/login", data={"email": chair.email, "password": TEST_PASSWORD})
    assert other.get("/inbox").status_code == 200
    login_as("admin")
    response = client.post("/admin/users/two-factor-policy", data={"roles": ["chair"]})
    assert response.status_code == 302
    assert other.get("/inbox").status_code == 302  # logged out: must log in and enrol
    other.post("/login", data={"email": chair.email, "password": TEST_PASSWORD})
    assert other.get("/inbox").headers["Location"] == "/account/tvastegsverifiering"
    entry = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "two_factor_policy_changed")
    )
    assert entry.details["roles"] == ["chair"]
    with app.test_request_context():
        assert two_factor.is_required(chair)


def test_roles_required_by_the_setting_stay_required_whatever_the_page_says(
    client, db, login_as, app, monkeypatch
):
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_ROLES", frozenset({"admin"}))
    admin = UserFactory(role="admin")
    with app.test_request_context():
        enrolled(admin)
        two_factor.require_for_roles([], admin)  # the page cannot lift the setting
        assert two_factor.is_required(admin)


# ---- after a hostile review ------------------------------------------------------------------


def test_turning_it_off_is_throttled_and_does_not_say_which_part_was_wrong(limited_app, db):
    app = limited_app(PASSWORD_CHANGE_LIMIT="3 per 15 minutes")
    client = app.test_client()
    user = UserFactory(role="board")
    with app.test_request_context():
        enrolled(user)
        db.session.commit()
    totp = pyotp.TOTP(user.totp_secret)
    client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    later = time.time() + 30  # the enrolment took the current step
    client.post("/login/kod", data={"code": totp.at(later)})
    assert client.get("/account").status_code == 200
    answers = [
        client.post("/account/tvastegsverifiering", data={"password": f"fel{n}", "code": "1"})
        for n in range(4)
    ]
    assert [a.status_code for a in answers] == [422, 422, 422, 429]
    assert "Lösenordet eller koden stämmer inte." in answers[0].text
    assert "Fel lösenord" not in answers[0].text


def test_a_code_in_other_letters_is_refused_not_an_error(client, db, app):
    user = UserFactory()
    with app.test_request_context():
        enrolled(user)
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    response = client.post("/login/kod", data={"code": "éééééééééé"})
    assert response.status_code == 422


def test_a_code_another_request_took_meanwhile_is_a_replay(ctx, db):
    from sqlalchemy import update

    from crm.auth.models import User

    user = UserFactory()
    totp, _codes = enrolled(user)
    later = time.time() + 30
    step = totp.timecode(__import__("datetime").datetime.fromtimestamp(later))
    # a concurrent request accepted this very step a moment ago
    db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=step))
    assert not two_factor.verify(user, code_at(totp, step), now=later)
