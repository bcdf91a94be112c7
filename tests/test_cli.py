"""The `flask crm` commands: clear messages and a non-zero exit on bad input."""

import pytest
from sqlalchemy import func, select

from crm.models import FollowUp, Inquiry, InquiryRegion, Organisation, TimelineEvent, User
from tests.factories import UserFactory

GOOD_PASSWORD = "ett-långt-och-ovanligt-lösenord"


def create_user(runner, *args, password=GOOD_PASSWORD):
    return runner.invoke(
        args=["crm", "create-user", *args, "--password-stdin"], input=password + "\n"
    )


def test_create_user_from_stdin(runner, db):
    result = create_user(
        runner, "--email", "Ny@Example.se", "--name", "Ny Person", "--role", "chair"
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "ny@example.se"))
    assert user.role == "chair"
    assert user.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (
            ["--email", "a@example.se", "--name", "A", "--role", "king"],
            GOOD_PASSWORD,
            "'king' is not one of",
        ),
        (
            ["--email", "a@example.se", "--name", "A", "--role", "board"],
            "",
            "The password is empty",
        ),
        (["--email", "a@example.se", "--name", "A", "--role", "board"], "kort", "minst 12 tecken"),
        (
            ["--email", "a@example.se", "--name", "A", "--role", "board"],
            "a@example.se",
            "e-postadress",
        ),
        (
            ["--email", "a@example.se", "--name", "A", "--role", "board"],
            "password1234",
            "för lätt att gissa",
        ),
        (
            ["--email", "inte-en-adress", "--name", "A", "--role", "board"],
            GOOD_PASSWORD,
            "giltig e-postadress",
        ),
        (
            ["--email", "a@example.se", "--name", "  ", "--role", "board"],
            GOOD_PASSWORD,
            "Ange ett namn",
        ),
    ],
)
def test_create_user_refuses_bad_input(runner, db, args, password, message):
    result = create_user(runner, *args, password=password)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_user_refuses_duplicate_email(runner, db):
    UserFactory(email="dubbel@example.se")
    result = create_user(runner, "--email", "DUBBEL@example.se", "--name", "B", "--role", "board")
    assert result.exit_code == 1
    assert "finns redan" in result.output


def test_password_is_not_an_argument(runner):
    result = runner.invoke(args=["crm", "create-user", "--help"])
    assert "--password-stdin" in result.output
    assert "--password " not in result.output


def test_v2_1_password_policy_bounds(runner, db):
    assert (
        create_user(
            runner,
            "--email",
            "x1@example.se",
            "--name",
            "X",
            "--role",
            "board",
            password="gurka+tak+7q",  # 12 characters, hard enough to guess
        ).exit_code
        == 0
    )
    assert (
        create_user(
            runner, "--email", "x2@example.se", "--name", "X", "--role", "board", password="b" * 11
        ).exit_code
        == 1
    )
    assert (
        create_user(
            runner,
            "--email",
            "x3@example.se",
            "--name",
            "X",
            "--role",
            "board",
            password=("korp-tvättar-blå-cykel-" * 3)[:64],
        ).exit_code
        == 0
    )
    assert (
        create_user(
            runner, "--email", "x4@example.se", "--name", "X", "--role", "board", password="d" * 129
        ).exit_code
        == 1
    )


def test_seed_partners_is_idempotent(runner, db):
    UserFactory(role="secretary_general")
    first = runner.invoke(args=["crm", "seed-partners"])
    assert first.exit_code == 0, first.output
    assert "Seeded 35 organisations and 3 follow-ups; filled in 0 websites" in first.output
    second = runner.invoke(args=["crm", "seed-partners"])
    assert "Seeded 0 organisations and 0 follow-ups; filled in 0 websites" in second.output
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 35
    members = db.session.scalar(
        select(func.count()).select_from(Organisation).where(Organisation.relationship == "member")
    )
    assert members == 24
    dialogue = db.session.scalar(
        select(FollowUp).where(FollowUp.title == "Årligt dialogsamtal med Riksantikvarieämbetet")
    )
    assert dialogue.recurrence == "yearly"
    assert dialogue.owner_id is not None


def test_demo_users_are_created_once_and_printed(runner, db):
    first = runner.invoke(args=["crm", "demo-users"])
    assert first.exit_code == 0
    assert "generalsekreterare@example.se" in first.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 4
    second = runner.invoke(args=["crm", "demo-users"])
    assert "no demo users created" in second.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 4


def test_demo_data_builds_consistent_inquiries(runner, db):
    runner.invoke(args=["crm", "demo-users"])
    result = runner.invoke(args=["crm", "demo-data", "--inquiries", "300", "--organisations", "20"])
    assert result.exit_code == 0, result.output
    assert "Added 20 organisations and 300 inquiries." in result.output
    inquiries = db.session.scalars(select(Inquiry)).all()
    assert len(inquiries) == 300
    assert len({i.reference for i in inquiries}) == 300
    assert all(i.assignee_id is not None for i in inquiries)
    assert all(
        (i.closed_at is not None)
        == (i.status in {"agreed", "declined", "withdrawn", "closed", "spam"})
        for i in inquiries
    )
    assert all((i.outcome is not None) == (i.closed_at is not None) for i in inquiries)
    assert all(i.outcome == i.status for i in inquiries if i.status not in {"closed"} and i.outcome)
    assert db.session.scalar(select(func.count()).select_from(InquiryRegion)) >= 300
    assert db.session.scalar(select(func.count()).select_from(TimelineEvent)) >= 300
    # references continue per year without gaps after the demo data
    for year in {i.created_at.year for i in inquiries}:
        numbers = sorted(
            int(i.reference.rsplit("-", 1)[1]) for i in inquiries if i.created_at.year == year
        )
        assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("args", [["--inquiries", "-5"], ["--organisations", "lots"]])
def test_demo_data_bad_arguments(runner, db, args):
    result = runner.invoke(args=["crm", "demo-data", *args])
    assert result.exit_code == 2
    assert "Invalid value" in result.output
