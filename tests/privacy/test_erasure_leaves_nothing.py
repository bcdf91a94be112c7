"""Erasure leaves nothing of the person (issue 17, GDPR art. 17): after `gdpr-erase` neither
their address nor their full name is in any column of any table, in the attachments folder,
or — on SQLite — anywhere in the database files, the write-ahead log included."""

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from werkzeug.datastructures import FileStorage

from crm.activity.reminders import send_reminders
from crm.activity.services import add_follow_up, add_note
from crm.attachments import storage
from crm.attachments.services import prepare_uploads
from crm.choices import Channel
from crm.conversation.inbound import receive
from crm.conversation.services import answer_on_status_page, send_reply
from crm.database import SEARCH_TABLES
from crm.extensions import db as _db
from crm.inquiries.queries import InquiryFilters
from crm.inquiries.services import log_contact
from crm.partners.services import add_contact
from crm.privacy.services import gdpr_erase
from crm.timeutil import local_today, utcnow
from tests.attachments.samples import pdf
from tests.attachments.test_services import mail_with_files
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory, make_attachment

EMAIL = "asa.oberg@hembygd-sormland.se"
NAME = "Åsa Öberg"


def everything_about_her(app):
    """Her inquiry and every place people write about her, through the services."""
    from crm.audit.services import audit

    staff = UserFactory(role="secretary_general", name="Greta Generalsekreterare")
    inquiry = InquiryFactory(email=EMAIL, contact_name=NAME, assignee_id=staff.id,
                             subject=f"Utställning med {NAME}",
                             created_at=utcnow() - timedelta(days=2))  # fmt: skip
    make_attachment(inquiry=inquiry, filename="plan.pdf")
    files = prepare_uploads([FileStorage(io.BytesIO(pdf()), filename="svar.pdf")])
    send_reply(inquiry, f"Hej {NAME}! Skicka gärna budgeten till {EMAIL}.", staff, files=files)
    answer_on_status_page(inquiry, f"Här är den.\nMvh {NAME}")
    add_note(f"Ring {NAME} på {EMAIL}", staff, inquiry=inquiry)
    add_follow_up(f"Återkoppla till {NAME}", local_today(), staff, staff, inquiry=inquiry)
    log_contact(inquiry, Channel.PHONE, f"Pratade med {NAME}", utcnow() - timedelta(hours=1),
                staff)  # fmt: skip
    organisation = OrganisationFactory(name="Sörmlands hembygdsförbund")
    add_contact(organisation, {"name": NAME, "email": EMAIL, "title": "Ordförande"}, staff)
    InquiryFactory(message=f"Vi har redan pratat med {NAME} om saken.")  # someone else's
    receive(mail_with_files((pdf(), "bilaga.pdf", "attachment", None)))  # unsorted, from her
    send_reminders(today=local_today())  # a digest to staff naming her follow-up
    filters = InquiryFilters.from_args({"q": EMAIL})
    audit("personal_data_exported", staff, None, filters=filters.audited_args())
    _db.session.commit()
    return staff


def texts_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def where_she_remains(db) -> list[str]:
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            for column, value in row.items():
                text = texts_of(value).lower()
                if EMAIL in text or NAME.lower() in text:
                    found.append(f"{table.name}.{column}: {text[:80]!r}")
    return found


def test_erasure_leaves_her_in_no_table_and_no_column(app, db):
    with app.test_request_context():
        everything_about_her(app)
        assert where_she_remains(db)  # the scan finds her before
        gdpr_erase(EMAIL)
        db.session.commit()
        assert where_she_remains(db) == []
        for key, _modified in storage.stored_keys():
            content = (storage.root() / key).read_bytes()
            assert EMAIL.encode() not in content


def test_the_export_audit_keeps_no_search_term(client, db, login_as):
    login_as("secretary_general")
    client.get("/export/inquiries.csv", query_string={"q": EMAIL}).get_data()
    from crm.audit.models import AuditLog

    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "personal_data_exported"))
    assert EMAIL not in json.dumps(entry.details)
    assert entry.details["filters"]["q"] == f"({len(EMAIL)} tecken)"


def test_the_database_files_keep_no_copy_after_the_erase_command(app, committed):
    if committed.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's files: PostgreSQL's rows are checked by the scan above")
    with app.test_request_context():
        everything_about_her(app)
    committed.session.remove()
    result = app.test_cli_runner().invoke(args=["crm", "gdpr-erase", EMAIL])
    assert result.exit_code == 0, result.output
    path = Path(committed.engine.url.database)
    for file in (path, Path(f"{path}-wal")):
        if file.exists():
            content = file.read_bytes()
            assert EMAIL.encode() not in content, file
            assert NAME.encode() not in content, file


def test_erasure_takes_whole_addresses_and_names_only(app, db):
    from crm.models import Inquiry

    with app.test_request_context():
        bystander = InquiryFactory(message="Kontakta lisa@gmail.com eller Anna Bergström.")
        InquiryFactory(email="a@gmail.com", contact_name="Anna Berg")
        gdpr_erase("a@gmail.com")
        db.session.commit()
        kept = db.session.get(Inquiry, bystander.id).message
    assert kept == "Kontakta lisa@gmail.com eller Anna Bergström."


def test_erasure_finds_her_name_in_any_case(app, db):
    """Text half in capitals is found on SQLite too, whose lower() and LIKE fold only A–Z: the
    name is compared with every letter folded. (As written, lower-cased and in capitals it was
    found before; "ÅSA östlund" was not.)"""
    from crm.models import Inquiry
    from crm.privacy.services import ANONYMISED

    with app.test_request_context():
        bystander = InquiryFactory(message="Ring ÅSA östlund.")
        InquiryFactory(email="asa@exempel.se", contact_name="Åsa Östlund")
        gdpr_erase("asa@exempel.se")
        db.session.commit()
        kept = db.session.get(Inquiry, bystander.id).message
    assert kept == f"Ring {ANONYMISED}."


def test_erasing_a_staff_members_address_keeps_who_did_what_in_the_audit_log(app, db):
    from crm.audit.models import AuditLog
    from crm.audit.services import audit

    with app.test_request_context():
        staff = UserFactory(email="greta@lansmuseerna.se", name="Greta Generalsekreterare")
        audit("note_added", staff, staff)
        InquiryFactory(email="greta@lansmuseerna.se", contact_name="Greta Generalsekreterare")
        gdpr_erase("greta@lansmuseerna.se")
        db.session.commit()
        labels = db.session.scalars(
            select(AuditLog.actor_label).where(AuditLog.actor_id == staff.id)
        ).all()
    assert labels == ["greta@lansmuseerna.se"]


def test_erasure_drops_staged_imports_that_name_her(app, db):
    """A register file waiting for its uploader's confirmation holds contact details for up to
    a day; an erasure in that day takes every staged import naming her (address or full name),
    and leaves the others."""
    from crm.partners import importing
    from crm.partners.models import OrganisationImport

    staff = UserFactory(role="secretary_general")
    header = "namn;typ;kontaktperson;e-post\r\n"

    def stage(line: str):
        content = (header + line).encode()
        return importing.stage(importing.read_rows(content, "r.csv"), "r.csv", staff)

    with app.test_request_context():
        organisation = OrganisationFactory(name="Sörmlands hembygdsförbund")
        add_contact(organisation, {"name": NAME, "email": EMAIL}, staff)  # how her name is known
        stage(f"Hembygdsförbundet;museum;Någon;{EMAIL.upper()}")  # her address
        stage(f"Hembygdsförbundet;museum;{NAME};")  # her full name
        stage("Hembygdsförbundet;museum;ÅSA öberg;")  # half in capitals (JSON: \u00c5SA \u00f6berg)
        other = stage("Annat;museum;Kim Karlsson;kim@annat.se")
        db.session.commit()
        assert len(db.session.scalars(select(OrganisationImport.id)).all()) == 4
        gdpr_erase(EMAIL)
        db.session.commit()
        assert where_she_remains(db) == []
        left = set(db.session.scalars(select(OrganisationImport.id)))
        assert left == {other.id}


def test_erasure_finds_her_name_in_the_timeline_in_any_case(app, db):
    """Timeline data is JSON, stored with letters beyond A–Z escaped as written: "ÅSA öberg"
    is "\u00c5SA \u00f6berg", which no SQL folding matches; it is found all the same."""
    from crm.activity.models import TimelineEvent

    staff = UserFactory(role="secretary_general")
    with app.test_request_context():
        bystander = InquiryFactory(email="nagon@annat.se")
        log_contact(bystander, Channel.PHONE, "Ringde ÅSA öberg i går", utcnow(),
                    staff)  # fmt: skip
        InquiryFactory(email=EMAIL, contact_name=NAME)
        gdpr_erase(EMAIL)
        db.session.commit()
        summaries = db.session.scalars(
            select(TimelineEvent.data).where(TimelineEvent.inquiry_id == bystander.id)
        ).all()
    assert {"summary": "Ringde – i går"} in [
        {key: data[key] for key in ("summary",) if key in data} for data in summaries
    ]


def test_the_search_tables_forget_erased_text(app, committed):
    """FTS5 keeps a changed row's trigrams, with their positions, until its segments merge;
    they spell the text out again. After an erasure the search tables are merged, so the
    trigrams of what was erased are nowhere in their data."""
    if committed.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's search tables; PostgreSQL's indexes keep no deleted entries")
    secret = "qzjxkvw"  # trigrams no other text here has: qzj, zjx, jxk, xkv, kvw
    with app.test_request_context():
        staff = UserFactory(role="secretary_general")
        for n in range(30):  # others' rows, so that the index has several segments
            InquiryFactory(message=f"Vanlig förfrågan nummer {n}")
        inquiry = InquiryFactory(email=EMAIL, contact_name=NAME, message=f"Hemligt {secret}")
        send_reply(inquiry, f"Svar om {secret}", staff)
        museum = OrganisationFactory(name="Museet")
        add_contact(museum, {"name": f"Kontakt {secret}", "email": EMAIL}, staff)
        committed.session.commit()
    committed.session.remove()
    result = app.test_cli_runner().invoke(args=["crm", "gdpr-erase", EMAIL])
    assert result.exit_code == 0, result.output
    with app.app_context():
        for table in SEARCH_TABLES:
            blocks = committed.session.execute(text(f"SELECT block FROM {table}_data")).scalars()
            data = b"".join(block for block in blocks if isinstance(block, bytes))
            for trigram in (b"qzj", b"zjx", b"jxk", b"xkv", b"kvw"):
                assert trigram not in data, (table, trigram)
