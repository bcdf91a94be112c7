"""The `flask crm …` command group. Commands parse and report; services do the work."""

from __future__ import annotations

import secrets
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from crm.auth.models import User
from crm.auth.permissions import Role
from crm.auth.services import create_user
from crm.errors import DomainError
from crm.extensions import db
from crm.mail.lock import MAX_WORKERS

crm_cli = AppGroup("crm", help="Samverka administration commands.")

ROLE_NAMES = [role.value for role in Role]


def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


def _refuse_in_production(what: str) -> None:
    if current_app.config["SAMVERKA_ENV"] == "production":
        _fail(f"{what} is for development and benchmarks only; refused in production.")


@crm_cli.command("create-user")
@click.option("--email", required=True, help="Log-in e-mail address.")
@click.option("--name", required=True, help="Full name shown in the app.")
@click.option("--role", required=True, type=click.Choice(ROLE_NAMES), help="One role per user.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of prompting.",
)
def create_user_command(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create a staff user. The password is prompted for (or read from stdin), never an argument."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        _fail("The password is empty.")
    try:
        user = create_user(email, name, role, password)
    except DomainError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email}.")


@crm_cli.command("seed-partners")
def seed_partners_command() -> None:
    """Load standing partners and the 24 member museums (running it again adds nothing); fill
    in websites and e-mail domains the register lacks, never replacing what staff entered."""
    from crm.partners.services import seed_partners

    organisations, follow_ups, filled = seed_partners()
    db.session.commit()
    click.echo(
        f"Seeded {organisations} organisations and {follow_ups} follow-ups; "
        f"filled in {filled} websites and e-mail domains."
    )


@crm_cli.command("seed-templates")
def seed_templates_command() -> None:
    """Add the default shared reply templates when there are none (running it again adds
    nothing, and never brings back a template someone removed)."""
    from crm.reply_templates.services import seed_templates

    added = seed_templates()
    db.session.commit()
    click.echo(f"Seeded {added} reply templates.")


@crm_cli.command("import-organisations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Only show what each row would do.")
def import_organisations_command(file: str, dry_run: bool) -> None:
    """Import organisations and contacts from a CSV (UTF-8, ; or ,) or XLSX file.

    New organisations are created, existing ones (by number, name or e-mail domain) get their
    empty fields filled and new contacts added; rows in conflict with the register or with
    errors are skipped and listed. Exits 1 when any row was skipped.
    """
    from pathlib import Path

    from crm.partners import importing

    path = Path(file)
    with path.open("rb") as handle:
        content = handle.read(importing.limits()[0] + 1)
    try:
        read = importing.read_rows(content, path.name)
    except DomainError as exc:
        _fail(f"{path.name}: {exc}")
    verdicts = importing.classify(read.rows)
    for verdict in verdicts:
        click.echo(_import_line(verdict))
    if read.ignored_columns:
        click.echo(f"Ignored columns: {', '.join(read.ignored_columns)}")
    counts = importing.summary(verdicts)
    if not dry_run:
        importing.apply(read.rows, verdicts, None, filename=path.name, sha256=read.sha256)
        db.session.commit()
    verb = "Would import" if dry_run else "Imported"
    skipped = counts["conflict"] + counts["invalid"]
    click.echo(
        f"{verb}: {counts['new']} new, {counts['matched']} matched, {counts['contacts']} new "
        f"contacts; skipped {skipped} ({counts['conflict']} in conflict, {counts['invalid']} "
        "invalid)."
    )
    if skipped:
        click.get_current_context().exit(1)


def _import_line(verdict: dict) -> str:
    where = f"row {verdict['line']}: {verdict['kind']:<8} {verdict['name'] or '–'}"
    if verdict["kind"] == "invalid":
        reasons = verdict["errors"]
    elif verdict["kind"] == "conflict":
        reasons = verdict["conflicts"]
    else:
        target = f" → {verdict['organisation']}" if verdict.get("organisation") else ""
        filled = f"; fills {', '.join(verdict['changes'])}" if verdict["kind"] == "matched" and (
            verdict["changes"]) else ""  # fmt: skip
        contact = {"add": "; adds contact", "exists": "; contact exists"}.get(
            verdict.get("contact"), ""
        )
        return where + target + filled + contact
    return where + " — " + "; ".join(f"{field}: {message}" for field, message in reasons.items())


DEMO_USERS = (
    ("generalsekreterare@example.se", "Greta Generalsekreterare", Role.SECRETARY_GENERAL),
    ("ordforande@example.se", "Olof Ordförande", Role.CHAIR),
    ("styrelse@example.se", "Stina Styrelseledamot", Role.BOARD),
    ("admin@example.se", "Adam Administratör", Role.ADMIN),
)


@crm_cli.command("demo-users")
def demo_users_command() -> None:
    """Create one demo user per role when there are no users yet; print their log-in once."""
    _refuse_in_production("demo-users")
    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo("Users exist already; no demo users created.")
        return
    lines = []
    for email, name, role in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        create_user(email, name, role.value, password)
        lines.append(f"  {role.label:<20} {email:<32} {password}")
    db.session.commit()
    click.echo("Demo users (shown only now; keep them):")
    click.echo("\n".join(lines))


@crm_cli.command("demo-data")
@click.option("--inquiries", type=click.IntRange(0, 1_000_000), default=200, show_default=True)
@click.option("--organisations", type=click.IntRange(0, 100_000), default=50, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True, help="Random seed.")
def demo_data_command(inquiries: int, organisations: int, seed: int) -> None:
    """Add realistic Swedish demo organisations and inquiries (development and benchmarks)."""
    from crm.demo import DemoData

    _refuse_in_production("demo-data")
    demo = DemoData(seed)
    org_ids = demo.organisations(organisations)
    created = demo.inquiries(inquiries, org_ids)
    db.session.commit()
    click.echo(f"Added {len(org_ids)} organisations and {created} inquiries.")


@crm_cli.command("send-mail")
@click.option("--watch", is_flag=True, help="Keep running and send new mail as it is queued.")
@click.option(
    "--interval",
    type=click.IntRange(1, 3600),
    default=30,
    show_default=True,
    help="Seconds between rounds with --watch.",
)
@click.option(
    "--worker",
    type=click.IntRange(1, MAX_WORKERS),
    default=1,
    show_default=True,
    help="This sender's number; one run per number at a time. PostgreSQL only: 2 … 16 for "
    "more senders in parallel.",
)
def send_mail_command(watch: bool, interval: int, worker: int) -> None:
    """Send queued e-mail over SMTP; failures are retried later with back-off.

    Exits with status 1 when it gave up on a message (the admin finds it at /admin/mail). A run
    that finds another run of the same worker still going does nothing and exits 0.
    """
    from crm.mail.lock import SenderBusy, sender_lock

    try:
        with sender_lock(worker):
            gave_up = _send_rounds(watch, interval)
    except SenderBusy as exc:
        click.echo(f"{exc} This run sent nothing.")
        return
    except DomainError as exc:
        _fail(str(exc))
    if gave_up:
        click.get_current_context().exit(1)


def _send_rounds(watch: bool, interval: int) -> int:
    """Send until the queue is done (or, with --watch, until interrupted); messages given up."""
    import time

    from crm.mail.services import queue_health, send_pending

    while True:
        report = send_pending()
        click.echo(f"Sent {report.sent}, will retry {report.retrying}, gave up on {report.failed}.")
        if report.failed:
            waiting = queue_health().failed
            db.session.commit()  # end the read, so no snapshot is held while waiting
            click.echo(f"{waiting} failed messages await the admin at /admin/mail.", err=True)
        if not watch:
            return report.failed
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return 0


@crm_cli.command("receive-mail")
def receive_mail_command() -> None:
    """Store one e-mail read from standard input (a Postfix pipe, or an .eml file) and file it
    on its inquiry or in the unsorted queue.

    Exits 75 (EX_TEMPFAIL) when it could not be stored, so the mail server tries again later.
    """
    import sys

    from crm.conversation.inbound import receive

    raw = sys.stdin.buffer.read()
    try:
        received = receive(raw)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        click.echo(f"Not stored, try again later: {type(exc).__name__}: {exc}", err=True)
        click.get_current_context().exit(75)
    click.echo(_describe(received))


def _describe(received) -> str:
    where = f" on {received.reference}" if received.reference else ""
    if received.duplicate:
        return f"Already stored ({received.status.value}{where}); nothing done."
    return f"Stored as {received.status.value}{where}."


@crm_cli.command("fetch-mail")
@click.option("--watch", is_flag=True, help="Keep running and fetch new mail as it comes.")
@click.option(
    "--interval", default=60, show_default=True, type=click.IntRange(5, 3600),
    help="Seconds between rounds with --watch.",
)  # fmt: skip
def fetch_mail_command(watch: bool, interval: int) -> None:
    """Read new mail from the intake mailbox (MAIL_IMAP_*), file each message on its inquiry
    or in the unsorted queue, and move it to MAIL_IMAP_DONE_FOLDER once it is stored."""
    import time

    from crm.conversation.mailbox import FetchBusy, fetch_mail

    while True:
        try:
            report = fetch_mail()
        except FetchBusy as exc:  # cron on another host, or the previous run still reading
            click.echo(f"{exc} This run fetched nothing.")
        except Exception as exc:
            db.session.rollback()
            if not watch:
                _fail(f"Fetching mail failed: {type(exc).__name__}: {exc}")
            click.echo(f"Fetching mail failed, trying again: {exc}", err=True)
        else:
            filed = ", ".join(f"{n} {status}" for status, n in sorted(report.statuses.items()))
            click.echo(
                f"Stored {report.stored} ({filed or 'none'}); {report.duplicates} already stored."
            )
        if not watch:
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return


@crm_cli.command("after-restore")
@click.option(
    "--reserve",
    type=click.IntRange(0, 1_000_000),
    required=True,
    help="Reference numbers to skip in every year: at least as many inquiries as can have "
    "arrived between the backup and the failure.",
)
def after_restore_command(reserve: int) -> None:
    """Prepare a restored database: hold unsent mail, move reference counters, print the
    recovery point. Run it once, with the app and every sender stopped."""
    from crm.mail.lock import SenderBusy, all_sender_locks
    from crm.restore import after_restore

    try:
        with all_sender_locks():
            report = after_restore(reserve)
            db.session.commit()
    except SenderBusy as exc:
        _fail(f"{exc} Stop every sender (cron and workers) before after-restore.")
    point = report.recovery_point.isoformat(timespec="seconds") if report.recovery_point else "–"
    click.echo(f"Recovery point (newest change in the backup, UTC): {point}")
    click.echo(
        f"Held {report.held} unsent messages: they may have gone out after the backup was taken. "
        "Send them again or discard them at /admin/mail."
    )
    for year, (old, new) in sorted(report.counters.items()):
        click.echo(f"References {year}: next is SAM-{year}-{new + 1:04d} (counter {old} → {new}).")


@crm_cli.command("send-reminders")
def send_reminders_command() -> None:
    """Queue today's reminder digest for each person with overdue work (once per day)."""
    from crm.activity.reminders import send_reminders

    queued, skipped = send_reminders()
    db.session.commit()
    click.echo(f"Queued {queued} reminder digests; {skipped} already queued today.")


@crm_cli.command("purge-expired")
@click.option("--dry-run", is_flag=True, help="Only list what would be anonymised.")
def purge_expired_command(dry_run: bool) -> None:
    """Anonymise personal data of inquiries ended longer ago than the retention period; forget
    old one-time form ids, and discarded and looped-back e-mail (MAIL_DISCARDED_DAYS)."""
    from crm.attachments.queries import files_by_reference
    from crm.conversation.inbound import forget_discarded_mail
    from crm.core.idempotency import forget_old_submissions
    from crm.database import checkpoint
    from crm.partners.importing import forget_old_imports
    from crm.privacy.services import purge_expired

    references = purge_expired(current_app.config, dry_run=dry_run)
    if not dry_run:
        forget_old_submissions()
        forget_old_imports()
        forgotten = forget_discarded_mail()
        click.echo(f"Deleted {forgotten} discarded e-mails.")
    db.session.commit()
    checkpoint()
    verb = "Would anonymise" if dry_run else "Anonymised"
    click.echo(f"{verb} {len(references)} inquiries.")
    files = files_by_reference(references) if dry_run else {}
    for reference in references:
        names = files.get(reference, [])
        click.echo(f"  {reference}" + (f" (files: {', '.join(names)})" if names else ""))


def _email_argument(email: str) -> str:
    from crm.validation import is_valid_email

    if not is_valid_email(email):
        _fail(f"{email!r} is not an e-mail address.")
    return email


@crm_cli.command("gdpr-export")
@click.argument("email")
@click.option(
    "--files",
    "files_dir",
    type=click.Path(file_okay=False, writable=True),
    help="Copy the person's attached files into this folder (named in the JSON).",
)
def gdpr_export_command(email: str, files_dir: str | None) -> None:
    """Print, as JSON, everything stored about the person with this e-mail address."""
    import json

    from crm.privacy.services import gdpr_export

    data = gdpr_export(_email_argument(email), files_dir=files_dir)
    db.session.commit()
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@crm_cli.command("gdpr-erase")
@click.argument("email")
@click.option("--dry-run", is_flag=True, help="Only show what would be erased.")
def gdpr_erase_command(email: str, dry_run: bool) -> None:
    """Erase the personal data of the person with this e-mail address."""
    from crm.database import checkpoint
    from crm.privacy.services import gdpr_erase

    summary = gdpr_erase(_email_argument(email), dry_run=dry_run)
    db.session.commit()
    checkpoint()
    verb = "Would erase" if dry_run else "Erased"
    click.echo(
        f"{verb}: {len(summary['inquiries'])} inquiries, {summary['contacts']} contacts, "
        f"{summary['messages']} e-mails, {len(summary['files'])} attached files."
    )
    for reference in summary["inquiries"]:
        click.echo(f"  {reference}")
    if summary["staff_accounts"]:
        click.echo("The address also belongs to a staff account; deactivate it separately.")


@crm_cli.command("scan-attachments")
@click.option("--limit", default=500, show_default=True, help="Most files to scan in one run.")
def scan_attachments_command(limit: int) -> None:
    """Scan attachments that arrived while ClamAV (CLAMD_SOCKET or CLAMD_HOST) was down; until
    then they are never served. Run it from cron, e.g. every 10 minutes."""
    from crm.attachments.scanning import scanner_configured
    from crm.attachments.services import scan_waiting

    if not scanner_configured():
        raise click.ClickException("No scanner configured: set CLAMD_SOCKET or CLAMD_HOST.")
    counts = scan_waiting(limit)
    click.echo(
        f"Clean: {counts['clean']}, quarantined: {counts['infected']}, "
        f"still waiting (scanner unavailable): {counts['pending']}."
    )
    if counts["pending"]:
        raise SystemExit(75)  # EX_TEMPFAIL: cron should see that the scanner is down


@crm_cli.command("clean-attachments")
@click.option(
    "--older-than-minutes", default=60, show_default=True,
    help="Leave younger files alone: an upload may still be on its way to the database.",
)  # fmt: skip
def clean_attachments_command(older_than_minutes: int) -> None:
    """Remove files in ATTACHMENTS_DIR that no attachment names (left by a crash between
    writing the file and committing its row)."""
    from crm.attachments.services import clean_orphans

    removed = clean_orphans(older_than_minutes * 60)
    click.echo(f"Removed {len(removed)} orphaned files.")
