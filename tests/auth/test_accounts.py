"""Staff accounts over their life, at the service level (issue 17): invitation, password links,
roles, deactivation, the last admin, and resets."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.auth import accounts
from crm.auth.models import PasswordLink, User
from crm.auth.permissions import Role
from crm.auth.services import authenticate, change_password
from crm.errors import DomainError
from crm.timeutil import utcnow
from tests.conftest import TEST_PASSWORD
from tests.factories import InquiryFactory, UserFactory
from tests.helpers import mails

NEW_PASSWORD = "korp tvättar blå cykel"


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield app


@pytest.fixture
def admin(db):
    return UserFactory(role="admin", name="Ada Admin")


def link_in(mail) -> str:
    return re.search(r"/losenord/([A-Za-z0-9_-]+)", mail.body_text).group(1)


def test_an_invited_user_chooses_a_password_through_a_one_time_link(ctx, db, admin):
    user = accounts.invite_user("karin.kask@lansmuseerna.se", "Karin Kask", "chair", admin)
    assert user.invited
    assert authenticate("karin.kask@lansmuseerna.se", "") is None  # no password yet
    [mail] = mails(db, "invitation")
    assert mail.recipient == "karin.kask@lansmuseerna.se"
    assert "Ada Admin har bjudit in dig" in mail.body_text
    assert "72 timmar" in mail.body_text
    token = link_in(mail)
    stored = db.session.scalar(select(PasswordLink.token_hash))
    assert token not in stored  # only a hash is kept
    assert len(token) >= 43  # 256 random bits, URL-safe
    accounts.set_password_with_link(token, NEW_PASSWORD)
    assert not user.invited
    assert authenticate("karin.kask@lansmuseerna.se", NEW_PASSWORD) == user
    with pytest.raises(DomainError):  # used once, never again
        accounts.set_password_with_link(token, "ett annat lösenord som är långt")


def test_an_invitation_expires_after_72_hours(ctx, db, admin):
    accounts.invite_user("a@lansmuseerna.se", "A Person", "board", admin)
    token = link_in(mails(db, "invitation")[0])
    later = utcnow() + timedelta(hours=72, minutes=1)
    assert accounts.user_for_link(token, now=later) is None
    assert accounts.user_for_link(token, now=utcnow() + timedelta(hours=71)) is not None


def test_a_new_invitation_ends_the_earlier_link(ctx, db, admin):
    user = accounts.invite_user("a@lansmuseerna.se", "A Person", "board", admin)
    first = link_in(mails(db, "invitation")[0])
    accounts.resend_invitation(user, admin)
    second = link_in(mails(db, "invitation")[1])
    assert accounts.user_for_link(first) is None
    assert accounts.user_for_link(second) == user


def test_an_invitation_cannot_be_resent_once_the_password_is_chosen(ctx, db, admin):
    user = UserFactory()
    with pytest.raises(DomainError, match="redan valt ett lösenord"):
        accounts.resend_invitation(user, admin)


def test_the_link_refuses_a_weak_password(ctx, db, admin):
    accounts.invite_user("asa@lansmuseerna.se", "Åsa Öberg", "board", admin)
    token = link_in(mails(db, "invitation")[0])
    with pytest.raises(DomainError) as refused:
        accounts.set_password_with_link(token, "Sommar2024!!!")
    assert refused.value.field == "password"
    assert accounts.user_for_link(token) is not None  # still usable


def test_a_reset_is_sent_only_for_an_active_account_and_lasts_an_hour(ctx, db):
    user = UserFactory(email="greta@lansmuseerna.se")
    UserFactory(email="gone@lansmuseerna.se", active=False)
    for address in ("okand@example.se", "gone@lansmuseerna.se", "GRETA@lansmuseerna.se"):
        accounts.request_password_reset(address)
    [mail] = mails(db, "password_reset")
    assert mail.recipient == user.email
    token = link_in(mail)
    assert accounts.user_for_link(token, now=utcnow() + timedelta(minutes=59)) == user
    assert accounts.user_for_link(token, now=utcnow() + timedelta(minutes=61)) is None


def test_a_reset_ends_every_session_and_every_other_link(ctx, db):
    user = UserFactory()
    accounts.request_password_reset(user.email)
    accounts.request_password_reset(user.email)
    older, newer = (link_in(mail) for mail in mails(db, "password_reset"))
    assert accounts.user_for_link(older) is None  # invalidated by the newer one
    version = user.session_version
    accounts.set_password_with_link(newer, NEW_PASSWORD)
    assert user.session_version > version
    assert db.session.scalar(select(PasswordLink)) is None


def test_changing_the_password_ends_an_outstanding_reset_link(ctx, db):
    user = UserFactory()
    accounts.request_password_reset(user.email)
    token = link_in(mails(db, "password_reset")[0])
    change_password(user, TEST_PASSWORD, NEW_PASSWORD)
    assert accounts.user_for_link(token) is None


def test_deactivating_ends_sessions_keeps_history_and_blocks_log_in(ctx, db, admin):
    user = UserFactory(role="secretary_general")
    InquiryFactory(assignee_id=user.id)
    version = user.session_version
    accounts.deactivate_user(user, admin)
    assert not user.active
    assert user.session_version > version
    assert authenticate(user.email, TEST_PASSWORD) is None
    assert db.session.get(User, user.id) is not None  # kept, with its history
    from crm.inquiries.queries import open_inquiries_assigned_to

    assert len(open_inquiries_assigned_to(user)) == 1  # listed for handing over
    accounts.reactivate_user(user, admin)
    assert authenticate(user.email, TEST_PASSWORD) == user


def test_a_deactivated_account_gets_no_reset_and_its_links_end(ctx, db, admin):
    user = UserFactory()
    accounts.request_password_reset(user.email)
    token = link_in(mails(db, "password_reset")[0])
    accounts.deactivate_user(user, admin)
    assert accounts.user_for_link(token) is None
    accounts.request_password_reset(user.email)
    assert len(mails(db, "password_reset")) == 1


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(ctx, db, admin):
    with pytest.raises(DomainError, match="minst en aktiv administratör"):
        accounts.change_role(admin, "board", admin)
    with pytest.raises(DomainError, match="sista aktiva administratören"):
        accounts.deactivate_user(admin, admin)
    other = UserFactory(role="admin")
    accounts.deactivate_user(other, admin)
    with pytest.raises(DomainError):  # the other one is inactive: still the last
        accounts.change_role(admin, "chair", admin)
    accounts.reactivate_user(other, admin)
    accounts.change_role(admin, "chair", other)
    assert admin.role is Role.CHAIR


def test_a_role_change_ends_the_users_sessions_and_is_audited(ctx, db, admin):
    from crm.audit.models import AuditLog

    user = UserFactory(role="board")
    version = user.session_version
    accounts.change_role(user, "chair", admin)
    assert user.session_version > version
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "user_role_changed"))
    assert (entry.actor_id, entry.details) == (admin.id, {"old": "board", "new": "chair"})


def test_an_invitation_refuses_a_taken_address_and_an_unknown_role(ctx, db, admin):
    UserFactory(email="taken@lansmuseerna.se")
    with pytest.raises(DomainError) as taken:
        accounts.invite_user("Taken@lansmuseerna.se", "X Y", "board", admin)
    assert taken.value.field == "email"
    with pytest.raises(DomainError) as role:
        accounts.invite_user("new@lansmuseerna.se", "X Y", "king", admin)
    assert role.value.field == "role"
