"""Reading an e-mail as text: the readable body, and the part of it that is new.

HTML is turned into text (inscriptis: no remote content is fetched, scripts and styles are
dropped), so nothing from a mail is ever rendered as HTML in Samverka.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from inscriptis import get_text
from mailparser_reply import EmailReplyParser

# Quote headers and signatures are recognised in these languages ("Den 26 nov. 2026 kl. 10:12
# skrev …", "On 26 Nov 2026, at 10:12, … wrote:", Outlook's "Från:/From:" block).
LANGUAGES = ["sv", "en"]
MARKER_TEXT = "Skriv ditt svar ovanför den här raden"


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def body_text(message: EmailMessage) -> str:
    """The mail's text: its plain part, else its HTML part as text; '' when it has neither."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if part.get_content_type() == "text/html":
        content = get_text(content)
    return _tidy(content)


def new_text(whole: str) -> str:
    """What the sender wrote this time: above our marker line, without the quote header, the
    quoted thread or the signature separator. The whole text when nothing is left."""
    above = _above_marker(whole)
    try:
        reply = EmailReplyParser(languages=LANGUAGES).parse_reply(text=above)
    except Exception:  # a parser failure must not lose the message: keep all of it
        reply = above
    return _tidy(reply) or _tidy(above) or whole


def _above_marker(text: str) -> str:
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if MARKER_TEXT in line:
            return "\n".join(lines[:number])
    return text


def _tidy(text: str) -> str:
    # NUL never belongs in text (and PostgreSQL refuses it in a text column).
    text = text.replace("\x00", "")
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)
