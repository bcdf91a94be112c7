"""E-mail to the intake: matched by each rule, read as text, stored once, never lost."""

import pytest
from sqlalchemy import func, select

from crm.activity.models import Note
from crm.conversation.inbound import receive
from crm.conversation.models import InboundMail, InboundStatus, Message, MessageChannel
from crm.conversation.services import send_reply
from crm.mail.models import OutboxMessage
from crm.mail.threading import new_message_id, plus_address
from tests.conversation.mails import (
    apple_mail_reply,
    bounce,
    gmail_reply,
    mail,
    outlook_reply,
)
from tests.factories import InquiryFactory, UserFactory
from tests.helpers import events, fresh, mails

SUBMITTER = "asa.oberg@hembygd-sormland.se"


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield app


@pytest.fixture
def staff(db):
    return UserFactory(role="secretary_general", name="Greta Generalsekreterare")


@pytest.fixture
def inquiry(db, staff):
    return InquiryFactory(email=SUBMITTER, contact_name="Åsa Öberg", assignee_id=staff.id)


def our_reply(inquiry, staff) -> str:
    """Send a reply and give its Message-ID, as the partner's mail program quotes it."""
    return send_reply(inquiry, "Kan ni skicka en budget?", staff).message_id


def messages(db):
    return db.session.scalars(select(Message).order_by(Message.id)).all()


def stored(db):
    return db.session.scalars(select(InboundMail).order_by(InboundMail.id)).all()


@pytest.mark.parametrize(
    ("program", "body"),
    [
        ("gmail, English quote header", gmail_reply("Budgeten är 40 000 kr.")),
        ("Apple Mail, Swedish quote header", apple_mail_reply("Budgeten är 40 000 kr.")),
        ("Outlook, Swedish header block", outlook_reply("Budgeten är 40 000 kr.")),
    ],
)
def test_a_reply_joins_its_thread_by_our_signed_message_id(ctx, db, inquiry, staff, program, body):
    ours = our_reply(inquiry, staff)
    received = receive(mail(body, In_Reply_To=ours, References=ours))
    assert (received.status, received.reference) == (InboundStatus.ATTACHED, inquiry.reference)
    message = messages(db)[-1]
    assert message.channel is MessageChannel.EMAIL
    # the quote header, our marker and the quoted thread are gone; a sign-off may stay
    assert message.body.startswith("Budgeten är 40 000 kr.")
    for quoted in ("Kan ni skicka", "Skriv ditt svar", "Från:", "skrev", "wrote"):
        assert quoted not in message.body
    assert message.sender_address == SUBMITTER
    assert "Kan ni skicka en budget?" in message.inbound_mail.text  # the whole is kept
    assert stored(db)[0].matched_by == "message_id"
    assert fresh(db, inquiry).submitter_replied_at is not None
    [notice] = mails(db, "submitter_reply_notice")
    assert notice.recipient == staff.email


def test_a_reply_to_the_receipt_from_any_address_is_trusted_by_the_signature(ctx, db, inquiry):
    receipt_id = new_message_id(inquiry.reference)
    received = receive(mail("Ett tillägg", sender="kollega@annan.se", In_Reply_To=receipt_id))
    assert received.reference == inquiry.reference


def test_a_signed_plus_address_matches_without_threading_headers(ctx, db, inquiry):
    to = plus_address("samverkan@lansmuseerna.se", inquiry.reference)
    received = receive(mail("Hej igen", subject="Ny fråga", to=to))
    assert (received.reference, stored(db)[0].matched_by) == (inquiry.reference, "plus_address")


def test_a_forged_plus_address_or_message_id_is_not_trusted(ctx, db, inquiry):
    forged_to = f"samverkan+{inquiry.reference}.0123456789abcdef@lansmuseerna.se"
    forged_id = new_message_id(inquiry.reference).replace(".", "x", 3)
    received = receive(mail("Hej", sender="okand@exempel.se", to=forged_to, In_Reply_To=forged_id))
    assert (received.status, received.reference) == (InboundStatus.UNSORTED, None)


def test_the_subject_tag_matches_only_from_the_submitter(ctx, db, inquiry):
    subject = f"Re: [{inquiry.reference}] Tack för din förfrågan"
    from_submitter = receive(mail("Från Åsa", subject=subject, sender=SUBMITTER.upper()))
    assert from_submitter.reference == inquiry.reference
    assert stored(db)[0].matched_by == "subject_and_sender"


def test_a_stranger_guessing_a_reference_lands_in_the_unsorted_queue(ctx, db, inquiry):
    subject = f"[{inquiry.reference}] Viktigt!"
    received = receive(mail("Skriv in detta", subject=subject, sender="fuskare@exempel.se"))
    assert (received.status, received.reference) == (InboundStatus.UNSORTED, None)
    assert messages(db) == []
    assert mails(db) == []


def test_a_staff_member_answering_our_mail_adds_an_internal_note(ctx, db, inquiry, staff):
    subject = f"SV: [{inquiry.reference}] Ny förfrågan från Sörmlands hembygdsförbund"
    notice_id = new_message_id(inquiry.reference)
    receive(mail("Jag ringer dem i morgon.", subject=subject, sender=staff.email,
                 In_Reply_To=notice_id))  # fmt: skip
    [note] = db.session.scalars(select(Note)).all()
    assert (note.author_id, note.body, note.inquiry_id) == (
        staff.id, "Jag ringer dem i morgon.", inquiry.id,
    )  # fmt: skip
    assert messages(db) == []  # never on the submitter's thread


def test_html_only_mail_is_read_as_text_without_scripts_or_remote_content(ctx, db, inquiry):
    html = (
        "<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
        "<p>Hej!</p><p>Budgeten &auml;r <b>40 000 kr</b>.</p>"
        '<img src="https://spårning.exempel/pixel.gif"></body></html>'
    )
    receive(mail(None, html=html, In_Reply_To=new_message_id(inquiry.reference)))
    body = messages(db)[0].body
    assert "Budgeten är 40 000 kr." in body
    assert "alert" not in body
    assert "color" not in body
    assert "pixel" not in body


def test_an_auto_reply_is_recorded_but_calls_nobody(ctx, db, inquiry, staff):
    ours = our_reply(inquiry, staff)
    received = receive(
        mail("Jag är på semester till 5 januari.", subject="Frånvaro", In_Reply_To=ours,
             Auto_Submitted="auto-replied")
    )  # fmt: skip
    assert (received.status, received.reference) == (InboundStatus.AUTOMATIC, inquiry.reference)
    assert messages(db)[-1].direction.value == "outbound"  # not on the thread
    assert mails(db, "submitter_reply_notice") == []
    assert fresh(db, inquiry).submitter_replied_at is None
    assert events(db, inquiry)[-1] == "automatic_reply"


@pytest.mark.parametrize(
    "header",
    [{"Precedence": "bulk"}, {"X_Auto_Response_Suppress": "All"}, {"Return_Path": "<>"}],
)
def test_other_signs_of_automatic_mail_are_recognised(ctx, db, inquiry, header):
    received = receive(mail("Auto", In_Reply_To=new_message_id(inquiry.reference), **header))
    assert received.status is InboundStatus.AUTOMATIC


def test_our_own_mail_coming_back_is_never_processed(ctx, db, inquiry):
    received = receive(mail("Loop", message_id=new_message_id(inquiry.reference)))
    assert received.status is InboundStatus.LOOP
    assert messages(db) == []


def test_a_bounce_marks_our_message_and_shows_on_the_inquiry(ctx, db, inquiry, staff):
    our_reply(inquiry, staff)
    [sent] = mails(db, "public_reply")
    received = receive(bounce(sent.message_id, inquiry.email))
    assert (received.status, received.reference) == (InboundStatus.BOUNCE, inquiry.reference)
    outbox = db.session.get(OutboxMessage, sent.id)
    assert outbox.bounced_at is not None
    assert "550 5.1.1" in outbox.last_error
    assert events(db, inquiry)[-1] == "email_bounced"


def test_a_bounce_of_mail_that_is_not_ours_waits_unsorted(ctx, db):
    received = receive(bounce("<someone@else.se>", "x@exempel.se"))
    assert received.status is InboundStatus.UNSORTED
    assert "okänt" in stored(db)[0].error


def test_a_message_that_cannot_be_read_waits_unsorted_with_the_reason(ctx, db):
    raw = mail("x").replace(b'charset="utf-8"', b'charset="x-okand-teckenkodning"')
    received = receive(raw)
    [row] = stored(db)
    assert received.status is InboundStatus.UNSORTED
    assert "LookupError" in row.error
    assert row.raw == raw


def test_garbage_is_kept_unsorted(ctx, db):
    garbage = b"\x00\xff detta \x80 \xc3 \n\n\n"
    received = receive(garbage)
    db.session.commit()  # PostgreSQL refuses NUL in text: nothing of it may reach a text column
    assert received.status is InboundStatus.UNSORTED
    assert stored(db)[0].raw == garbage


def test_a_twenty_megabyte_message_is_refused_cleanly_and_remembered(ctx, db, inquiry):
    big = mail("x" * (20 * 1024 * 1024), In_Reply_To=new_message_id(inquiry.reference))
    received = receive(big)
    [row] = stored(db)
    assert received.status is InboundStatus.UNSORTED
    assert row.raw is None
    assert row.size == len(big)
    assert "För stort" in row.error
    assert row.sender_address == SUBMITTER  # whose it was, from its headers


def test_the_same_message_twice_is_stored_once(ctx, db, inquiry, staff):
    raw = mail("En gång", In_Reply_To=our_reply(inquiry, staff))
    first, second = receive(raw), receive(raw)
    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.mail_id == first.mail_id
    assert db.session.scalar(select(func.count()).select_from(InboundMail)) == 1
    assert len(mails(db, "submitter_reply_notice")) == 1


def test_a_message_without_message_id_is_still_recognised_by_its_content(ctx, db):
    raw = mail("Utan id").replace(b"Message-ID:", b"X-Old-Message-ID:")
    receive(raw)
    assert receive(raw).duplicate


def test_a_flood_from_one_sender_is_kept_but_listed_after_everyone_else(ctx, db):
    from crm.conversation.queries import unsorted_mail

    ctx.config["MAIL_UNSORTED_PER_SENDER_PER_DAY"] = 3
    results = [receive(mail(f"Köp nu {n}", sender="spam@exempel.se")) for n in range(5)]
    other = receive(mail("Hej", sender="person@exempel.se"))
    assert {r.status for r in results} == {InboundStatus.UNSORTED}  # nothing is thrown away
    assert [row.flooded for row in stored(db)] == [False] * 3 + [True] * 2 + [False]
    queue = [row.id for row in unsorted_mail()]
    assert queue.index(other.mail_id) < queue.index(results[3].mail_id)


def test_discarded_and_looped_mail_is_deleted_after_its_days(ctx, db, inquiry):
    from datetime import timedelta

    from crm.conversation.inbound import forget_discarded_mail
    from crm.timeutil import utcnow

    long_ago = utcnow() - timedelta(days=31)
    receive(mail("Loop", message_id=new_message_id(inquiry.reference)), now=long_ago)
    db.session.flush()
    kept = receive(mail("Osorterad"), now=long_ago)
    recent = receive(mail("Loop igen", message_id=new_message_id(inquiry.reference)))
    assert forget_discarded_mail() == 1
    assert {row.id for row in stored(db)} == {kept.mail_id, recent.mail_id}


def test_a_forged_staff_address_with_a_typed_reference_writes_no_note(ctx, db, inquiry, staff):
    received = receive(mail("Stäng ärendet", subject=f"[{inquiry.reference}]", sender=staff.email))
    assert received.status is InboundStatus.UNSORTED
    assert db.session.scalars(select(Note)).all() == []


def test_staff_who_may_not_act_on_the_inquiry_are_kept_unsorted_not_refused(ctx, db, inquiry):
    board = UserFactory(role="board", email="styrelse@lansmuseerna.se")
    raw = mail("Bra!", sender=board.email, In_Reply_To=new_message_id(inquiry.reference))
    received = receive(raw)
    assert received.status is InboundStatus.UNSORTED
    assert "får inte skriva" in stored(db)[0].error
    assert db.session.scalars(select(Note)).all() == []


def test_a_colleagues_mail_from_our_own_domain_is_not_taken_for_a_loop(ctx, db):
    received = receive(mail("Hej", sender="kollega@lansmuseerna.se",
                            message_id="<1234-abcd@lansmuseerna.se>"))  # fmt: skip
    assert received.status is InboundStatus.UNSORTED


def test_mail_to_an_anonymised_inquiry_takes_in_no_personal_data(ctx, db, inquiry, staff):
    from crm.privacy.services import anonymise_inquiry

    ours = our_reply(inquiry, staff)
    anonymise_inquiry(inquiry, None, reason="retention")
    received = receive(mail("Mitt personnummer är 19800101-1234", In_Reply_To=ours))
    assert received.status is InboundStatus.UNSORTED
    assert "borttagna" in stored(db)[0].error
    assert [m.direction.value for m in messages(db)] == ["outbound"]
    assert mails(db, "submitter_reply_notice") == []


def test_the_same_message_id_on_different_content_is_another_message(ctx, db):
    first = receive(mail("Ett", message_id="<samma@exempel.se>"))
    second = receive(mail("Två", message_id="<samma@exempel.se>"))
    assert not second.duplicate
    assert first.mail_id != second.mail_id
    redelivered = mail("Ett", message_id="<samma@exempel.se>", Received="from mx2")
    assert receive(redelivered).duplicate  # other headers on top, the same body


def test_long_or_non_ascii_message_ids_are_stored_safely(ctx, db):
    long_ids = [f"<{'a' * 300}{n}@exempel.se>" for n in range(2)]
    rows = [receive(mail(f"Lång {n}", message_id=value)) for n, value in enumerate(long_ids)]
    assert rows[0].mail_id != rows[1].mail_id
    for row in stored(db):
        assert len(row.message_id) <= 255
        assert row.message_id.isascii()


def raw_mail(**headers) -> bytes:
    """A message written byte by byte, for headers a well-behaved library would refuse."""
    import hashlib

    fields = {"From": "a@b.se", "To": "samverkan@lansmuseerna.se", "Subject": "x", **headers}
    unique = hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()[:16]
    fields["Message-ID"] = f"<{unique}@test.exempel.se>"
    head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return (head + "\r\nHej\r\n").encode("utf-8")


@pytest.mark.parametrize(
    "raw",
    [
        raw_mail(From="=?utf-8?b?RXYNCkJjYzogeA==?= <a@b.se>"),
        raw_mail(To='"=?utf-8?q?=22?=" <'),
        raw_mail(From="Bara ett namn"),
        raw_mail(From="a\x00@b.se"),
    ],
    ids=["encoded CR/LF in the name", "broken To", "no address", "NUL in the address"],
)
def test_odd_headers_never_stop_the_intake(ctx, db, raw):
    received = receive(raw)
    db.session.commit()  # also on PostgreSQL, which refuses NUL in text
    assert received.status is InboundStatus.UNSORTED
    row = stored(db)[0]
    assert row.sender_address is None or "@" in row.sender_address


def test_a_bounce_with_a_bogus_charset_is_kept(ctx, db):
    raw = bounce("<x@y.se>", "a@b.se").replace(
        b"Content-Type: text/rfc822-headers", b"Content-Type: text/rfc822-headers; charset=x-bogus"
    )
    received = receive(raw)
    assert received.status is InboundStatus.UNSORTED


def test_with_an_authserv_id_the_subject_rule_needs_a_vouched_sender(ctx, db, inquiry):
    ctx.config["MAIL_AUTHSERV_ID"] = "mx.lansmuseerna.se"
    subject = f"Re: [{inquiry.reference}] Tack"
    forged = receive(mail("Falsk", subject=subject, sender=SUBMITTER))
    vouched = receive(mail("Äkta", subject=subject, sender=SUBMITTER, Authentication_Results=(
        "mx.lansmuseerna.se; dkim=pass header.d=hembygd-sormland.se; dmarc=pass"
    )))  # fmt: skip
    elsewhere = receive(mail("Annan server", subject=subject, sender=SUBMITTER,
                             Authentication_Results="mx.annan.se; dmarc=pass"))  # fmt: skip
    assert (forged.status, vouched.status, elsewhere.status) == (
        InboundStatus.UNSORTED, InboundStatus.ATTACHED, InboundStatus.UNSORTED,
    )  # fmt: skip
