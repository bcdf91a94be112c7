"""Signed Message-IDs, the subject tag and the References chain."""

import pytest

from crm.mail.threading import (
    new_message_id,
    references_header,
    signed_reference,
    subject_reference,
    tag_subject,
)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def test_a_message_id_of_ours_names_its_inquiry_and_is_trusted(ctx):
    value = new_message_id("SAM-2026-0042")
    assert value.startswith("<sam.2026-0042.")
    assert value.endswith("@lansmuseerna.se>")
    assert len("Message-ID: " + value) <= 78  # never folded over two lines
    assert signed_reference(value) == "SAM-2026-0042"
    assert signed_reference(f"<other@example.org> {value}") == "SAM-2026-0042"


def test_a_forged_or_altered_message_id_is_not_trusted(ctx):
    value = new_message_id("SAM-2026-0042")
    other_inquiry = value.replace("2026-0042", "2026-0043")
    tampered = value[:-20] + ("0" if value[-20] != "0" else "1") + value[-19:]
    assert signed_reference(other_inquiry) is None
    assert signed_reference(tampered) is None
    assert signed_reference("<sam.2026-0042.0000000000.0000000000000000@x.se>") is None
    assert signed_reference(None) is None


def test_a_message_id_signed_with_another_key_is_not_trusted(ctx):
    value = new_message_id("SAM-2026-0042")
    ctx.config["SECRET_KEY"] = "en annan nyckel"
    assert signed_reference(value) is None


def test_mail_without_an_inquiry_has_an_unsigned_id(ctx):
    value = new_message_id()
    assert signed_reference(value) is None
    assert new_message_id() != value


def test_the_subject_carries_the_reference_once():
    assert tag_subject("Svar", "SAM-2026-0042") == "[SAM-2026-0042] Svar"
    assert tag_subject("Re: [SAM-2026-0042] Svar", "SAM-2026-0042") == "Re: [SAM-2026-0042] Svar"
    assert subject_reference("SV: Re: [SAM-2026-0042] Svar") == "SAM-2026-0042"
    assert subject_reference("SAM-2026-0042 utan hakparenteser") is None


def test_references_keep_the_first_and_the_latest_ids():
    ids = [f"<{n}@x>" for n in range(15)]
    assert references_header([]) is None
    assert references_header(ids[:3]) == "<0@x> <1@x> <2@x>"
    kept = references_header(ids).split()
    assert kept == ["<0@x>", *ids[6:]]
    assert len(kept) == 10
