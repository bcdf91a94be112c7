"""The mail outbox: messages are queued in the change's transaction and sent later."""

from __future__ import annotations

import contextlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from crm.activity.models import TimelineEvent
from crm.extensions import db
from crm.mail.models import OutboxMessage, OutboxStatus
from crm.timeutil import utcnow
from crm.validation import strip_control_characters

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


def one_line(value: str) -> str:
    """Header-safe text: no control characters, so no CR/LF header injection."""
    return " ".join(strip_control_characters(value).split())


def queue_mail(
    kind: str,
    recipient: str,
    template: str,
    *,
    inquiry=None,
    dedupe_key: str | None = None,
    **context,
) -> OutboxMessage:
    """Render `mail/<template>.{subject,txt,html}` in Swedish and queue it for sending."""
    context["inquiry"] = inquiry
    with force_locale("sv"):
        subject = render_template(f"mail/{template}.subject.txt", **context)
        body_text = render_template(f"mail/{template}.txt", **context)
        body_html = render_template(f"mail/{template}.html", **context)
    message = OutboxMessage(
        kind=kind,
        recipient=one_line(recipient),
        subject=one_line(subject)[:300],
        body_text=body_text,
        body_html=body_html,
        inquiry_id=inquiry.id if inquiry is not None else None,
        dedupe_key=dedupe_key,
    )
    db.session.add(message)
    return message


def build_email(message: OutboxMessage) -> EmailMessage:
    config = current_app.config
    email = EmailMessage()
    sender_name, sender_address = parseaddr(config["MAIL_DEFAULT_SENDER"])
    email["From"] = formataddr((sender_name, sender_address))
    email["To"] = one_line(message.recipient)
    email["Subject"] = one_line(message.subject)
    email["Message-ID"] = make_msgid(domain=sender_address.rpartition("@")[2] or None)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: 1, 2, 4 … minutes, at most six hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def _claim_next(now: datetime) -> OutboxMessage | None:
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
    )
    if db.engine.dialect.name == "postgresql":
        # Several senders may run at once; each takes rows the others have not locked.
        query = query.with_for_update(skip_locked=True)
    return db.session.scalar(query)


def send_pending(now: datetime | None = None, limit: int = 500) -> SendReport:
    """Send due messages one by one, committing each, so a crash never resends a sent one."""
    now = now or utcnow()
    report = SendReport()
    seen: set[int] = set()
    with _smtp_connection() as smtp:
        for _ in range(limit):
            message = _claim_next(now)
            if message is None or message.id in seen:
                db.session.rollback()
                break
            seen.add(message.id)
            _deliver(smtp, message, now, report)
            db.session.commit()
    return report


def _deliver(smtp, message: OutboxMessage, now: datetime, report: SendReport) -> None:
    message.attempts += 1
    try:
        smtp.send(build_email(message))
    except (OSError, smtplib.SMTPException) as exc:
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.FAILED
            report.failed += 1
        else:
            message.next_attempt_at = now + retry_delay(message.attempts)
            report.retrying += 1
        log.warning("mail %s not sent (attempt %s): %s", message.id, message.attempts, exc)
        return
    message.status = OutboxStatus.SENT
    message.sent_at = utcnow()
    message.last_error = None
    report.sent += 1
    if message.inquiry_id is not None:
        db.session.add(
            TimelineEvent(
                inquiry_id=message.inquiry_id, kind="email_sent", data={"mail": message.kind}
            )
        )


class _smtp_connection:
    """One SMTP connection for a batch, opened lazily; a refused connection fails each send."""

    def __init__(self) -> None:
        self.client: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def send(self, email: EmailMessage) -> None:
        if self.client is None:
            self.client = _open_smtp()
        try:
            self.client.send_message(email)
        except smtplib.SMTPServerDisconnected:
            self.client = None
            raise

    def __exit__(self, *exc_info):
        if self.client is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.client.quit()
        return False


def _open_smtp() -> smtplib.SMTP:
    config = current_app.config
    client = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15)
    if config["MAIL_USE_TLS"]:
        client.starttls()
    if config["MAIL_USERNAME"]:
        client.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    return client
