"""E-mails as the common mail programs write them, for the intake tests."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from crm.timeutil import utcnow

MARKER = "## Skriv ditt svar ovanför den här raden ##"


def mail(
    body: str = "Tack!", *, sender: str = "Åsa Öberg <asa.oberg@hembygd-sormland.se>",
    subject: str = "Re: Svar på din förfrågan", html: str | None = None, **headers,
) -> bytes:  # fmt: skip
    message = EmailMessage()
    message["From"] = sender
    message["To"] = headers.pop("to", "samverkan@lansmuseerna.se")
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = headers.pop("message_id", make_msgid(domain="hembygd-sormland.se"))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if body is not None:
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return bytes(message)


def gmail_reply(new: str, quoted_from: str = "Greta Generalsekreterare via Samverka") -> str:
    return (
        f"{new}\n\nOn Thu, 26 Nov 2026 at 10:12, {quoted_from} <samverka@lansmuseerna.se> "
        f"wrote:\n\n> {MARKER}\n>\n> Hej Åsa,\n> Kan ni skicka en budget?\n"
    )


def apple_mail_reply(new: str) -> str:
    return (
        f"{new}\n\n> Den 26 nov. 2026 kl. 10:12 skrev Greta Generalsekreterare via Samverka "
        f"<samverka@lansmuseerna.se>:\n>\n> {MARKER}\n>\n> Hej Åsa,\n> Kan ni skicka en budget?\n"
    )


def outlook_reply(new: str) -> str:
    return (
        f"{new}\n\nMed vänlig hälsning\nÅsa Öberg\n\n"
        "________________________________\n"
        "Från: Greta Generalsekreterare via Samverka <samverka@lansmuseerna.se>\n"
        "Skickat: den 26 november 2026 10:12\n"
        "Till: Åsa Öberg <asa.oberg@hembygd-sormland.se>\n"
        "Ämne: [SAM-2026-0001] Svar på din förfrågan\n\n"
        f"{MARKER}\n\nHej Åsa,\nKan ni skicka en budget?\n"
    )


def bounce(original_message_id: str, recipient: str) -> bytes:
    report = EmailMessage()
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.exempel.se>"
    report["To"] = "samverka@lansmuseerna.se"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = make_msgid(domain="mx.exempel.se")
    report["Auto-Submitted"] = "auto-replied"
    report.set_content("This is the mail system. Your message could not be delivered.")
    report.make_mixed()
    status = EmailMessage()
    status.set_content(
        f"Reporting-MTA: dns; mx.exempel.se\n\nFinal-Recipient: rfc822; {recipient}\n"
        "Action: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <nobody@exempel.se>: Recipient address rejected\n"
    )
    headers = (
        f"From: Samverka <samverka@lansmuseerna.se>\nTo: {recipient}\n"
        f"Subject: Tack\nMessage-ID: {original_message_id}\n"
    )
    raw = bytes(report).decode()
    boundary = report.get_boundary()
    parts = raw.rsplit(f"--{boundary}--", 1)[0]
    raw = (
        parts
        + f"--{boundary}\nContent-Type: message/delivery-status\n\n"
        + status.get_content()
        + f"\n--{boundary}\nContent-Type: text/rfc822-headers\n\n{headers}\n--{boundary}--\n"
    )
    raw = raw.replace("multipart/mixed", 'multipart/report; report-type="delivery-status"', 1)
    return raw.encode()
