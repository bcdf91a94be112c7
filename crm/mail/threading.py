"""What makes a mail about an inquiry find its way back: signed Message-IDs, the reference
tag in the subject, and the In-Reply-To/References chain.

A Message-ID of ours names the inquiry and carries an HMAC under the secret key, so when a
reply points at it, the reference can be trusted without any lookup: a stranger cannot make
one up for someone else's inquiry.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from email.utils import parseaddr

from flask import current_app

# <sam.2026-0042.9f86d08188.3c2b7e41a0d9f5c6@lansmuseerna.se>: the reference without its
# "SAM-", a random part, and the signature; short enough that the header is never folded.
SIGNED_ID = re.compile(r"<sam\.(\d{4}-\d{4,})\.([0-9a-f]{10})\.([0-9a-f]{16})@[^<>\s]+>")
PREFIX = "SAM-"
REFERENCE_TAG = re.compile(r"\[(SAM-\d{4}-\d{4,})\]")
# How many earlier Message-IDs a References header names: the first and the latest ones.
REFERENCES_KEPT = 10


def sender_domain() -> str:
    """The domain of MAIL_DEFAULT_SENDER, for Message-IDs."""
    address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    return address.rpartition("@")[2] or "localhost"


def _signature(reference: str, nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"message-id:{reference}.{nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def new_message_id(reference: str | None = None) -> str:
    """The one place a Message-ID is made: once, when the message is queued, and kept across
    retries, so a receiving server (and a person) can tell a resend from a new message. Mail
    about an inquiry carries its reference, signed."""
    if reference is None:
        return f"<sam.{secrets.token_hex(16)}@{sender_domain()}>"
    nonce = secrets.token_hex(5)
    number = reference.removeprefix(PREFIX)
    return f"<sam.{number}.{nonce}.{_signature(reference, nonce)}@{sender_domain()}>"


def signed_reference(header_value: str | None) -> str | None:
    """The inquiry reference of the first Message-ID of ours with a valid signature in a
    header (In-Reply-To, References), or None."""
    for match in SIGNED_ID.finditer(header_value or ""):
        number, nonce, signature = match.groups()
        reference = PREFIX + number
        if hmac.compare_digest(signature, _signature(reference, nonce)):
            return reference
    return None


PLUS_ADDRESS = re.compile(r"\+(SAM-\d{4}-\d{4,})\.([0-9a-f]{16})@", re.IGNORECASE)


def plus_address(intake: str, reference: str) -> str:
    """`samverka+SAM-2026-0042.<signature>@domain`: the intake address naming the inquiry, for
    mailboxes that deliver plus-addresses to the same inbox (MAIL_INTAKE_PLUS_ADDRESSING)."""
    local, _, domain = intake.rpartition("@")
    return f"{local}+{reference}.{_signature(reference, 'plus')}@{domain}"


def plus_address_reference(addresses: str | None) -> str | None:
    """The reference of a signed plus-address of ours among recipient addresses, or None."""
    for match in PLUS_ADDRESS.finditer(addresses or ""):
        reference, signature = match.group(1).upper(), match.group(2).lower()
        if hmac.compare_digest(signature, _signature(reference, "plus")):
            return reference
    return None


def tag_subject(subject: str, reference: str) -> str:
    """The subject with `[SAM-2026-0042]` in front, unless it already carries the tag."""
    tag = f"[{reference}]"
    return subject if tag in subject else f"{tag} {subject}"


def subject_reference(subject: str | None) -> str | None:
    """The reference tag in a subject (unsigned: trusted only together with the sender)."""
    match = REFERENCE_TAG.search(subject or "")
    return match.group(1) if match else None


def references_header(message_ids: list[str]) -> str | None:
    """The References value for a reply in a thread of these Message-IDs (oldest first):
    the first one and the latest ones, as RFC 5322 suggests for long threads."""
    if not message_ids:
        return None
    kept = message_ids if len(message_ids) <= REFERENCES_KEPT else (
        message_ids[:1] + message_ids[-(REFERENCES_KEPT - 1):]
    )  # fmt: skip
    return " ".join(kept)
