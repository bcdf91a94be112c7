"""The conversation's benchmark: `python -m bench.conversation` (by hand, never by the tests).

1. The staff detail page of an inquiry with 300 messages (plus notes), against the same page
   of an inquiry with one message measured in the same run: SQL statements (must be equal) and
   server time p50/p95 over repeated requests (Flask's test client, in process).
2. `fetch-mail` over 1 000 messages in a real Dovecot (half replies matched by signed
   Message-ID, half unsorted): messages per second, against storing the same 1 000 messages
   through the service directly (no IMAP) in the same run.

SQLite in a temporary file by default; `--database-url postgresql+psycopg://…/scratch` for
PostgreSQL (the database is emptied and migrated).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, text

from config import TestConfig
from crm import create_app
from crm.extensions import db


def build_app(url: str):
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    config.MAIL_MAX_BYTES = 10 * 1024 * 1024
    return create_app(config)


def reset(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()


def inquiry_with_messages(n: int, staff):
    from crm.activity.services import add_note
    from crm.conversation.services import answer_on_status_page, send_reply
    from tests.factories import InquiryFactory

    inquiry = InquiryFactory(assignee_id=staff.id)
    for number in range(n):
        if number % 2:
            answer_on_status_page(inquiry, f"Svar {number} från avsändaren.\nMed vänlig hälsning")
        else:
            send_reply(inquiry, f"Svar {number} från samarbetsrådet.", staff)
        if number % 10 == 0:
            add_note(f"Anteckning {number}", staff, inquiry=inquiry)
    db.session.commit()
    return inquiry.reference


def page_times(client, path: str, rounds: int) -> tuple[int, list[float]]:
    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    client.get(path)
    event.remove(db.engine, "before_cursor_execute", listener)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return len(statements), times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def bench_thread(app, rounds: int) -> list[str]:
    from tests.conftest import TEST_PASSWORD
    from tests.factories import UserFactory

    with app.test_request_context():
        staff = UserFactory(role="secretary_general", email="bench@exempel.se")
        small, large = inquiry_with_messages(1, staff), inquiry_with_messages(300, staff)
    client = app.test_client()
    login = client.post("/login", data={"email": "bench@exempel.se", "password": TEST_PASSWORD})
    assert login.status_code == 302, login.status_code
    results = {}
    with app.app_context():
        for name, reference in (("1 message", small), ("300 messages", large)):
            results[name] = page_times(client, f"/inquiries/{reference}", rounds)
    (base_count, base), (count, times) = results["1 message"], results["300 messages"]
    return [
        "| detail page | SQL statements | p50 ms | p95 ms | p95 / baseline |",
        "|---|---|---|---|---|",
        f"| 1 message (baseline) | {base_count} | {statistics.median(base):.1f} | "
        f"{p95(base):.1f} | 1.00 |",
        f"| 300 messages | {count} | {statistics.median(times):.1f} | {p95(times):.1f} | "
        f"{p95(times) / p95(base):.2f} |",
    ]


def bench_fetch(app, messages: int) -> list[str]:
    from crm.conversation.inbound import receive
    from crm.conversation.mailbox import fetch_mail
    from crm.mail.threading import new_message_id
    from tests.conversation.mails import gmail_reply, mail
    from tests.factories import InquiryFactory
    from tests.imap import PASSWORD, start_dovecot, stop_dovecot
    from tests.smtp import free_port

    with app.test_request_context():
        reference = InquiryFactory(email="asa.oberg@hembygd-sormland.se").reference
        db.session.commit()
        thread_id = new_message_id(reference)

    def batch(tag: str) -> list[bytes]:
        return [
            mail(gmail_reply(f"Svar {n}"), In_Reply_To=thread_id,
                 message_id=f"<{tag}.{n}@hembygd-sormland.se>")
            if n % 2 else
            mail(f"Ny fråga {n}", subject=f"Fråga {n}", message_id=f"<{tag}.{n}@exempel.se>")
            for n in range(messages)
        ]  # fmt: skip

    direct = batch("direct")
    with app.test_request_context():
        start = time.perf_counter()
        for raw in direct:
            receive(raw)
            db.session.commit()
        direct_rate = messages / (time.perf_counter() - start)

    root = Path(tempfile.mkdtemp(prefix="samverka-bench-dovecot-"))
    root.chmod(0o755)
    port = free_port()
    process = start_dovecot(root, port)
    try:
        from imap_tools import MailBoxUnencrypted

        with MailBoxUnencrypted("127.0.0.1", port).login("bench", PASSWORD) as box:
            for raw in batch("imap"):
                box.append(raw, "INBOX")
        app.config.update(
            MAIL_IMAP_HOST="127.0.0.1", MAIL_IMAP_PORT=port, MAIL_IMAP_SSL=False,
            MAIL_IMAP_USERNAME="bench", MAIL_IMAP_PASSWORD=PASSWORD,
        )  # fmt: skip
        with app.test_request_context():
            start = time.perf_counter()
            report = fetch_mail(limit=messages)
            imap_rate = messages / (time.perf_counter() - start)
        assert report.stored == messages, report
    finally:
        stop_dovecot(process)
    return [
        f"| {messages} e-mails | messages per second | ratio |",
        "|---|---|---|",
        f"| stored through the service directly (baseline) | {direct_rate:.0f} | 1.00 |",
        f"| `fetch-mail` from Dovecot (fetch, store, commit, move) | {imap_rate:.0f} | "
        f"{imap_rate / direct_rate:.2f} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='samverka-bench-')}/b.db"
    app = build_app(url)
    reset(app)
    print(f"Database: {url.split('://')[0]}\n")
    print("\n".join(bench_thread(app, args.rounds)), "\n")
    print("\n".join(bench_fetch(app, args.messages)))


if __name__ == "__main__":
    main()
