"""Search reads its indexes, not every row: messages through migration 0021's index (FTS5 on
SQLite, pg_trgm on PostgreSQL), and on SQLite a rare word in the list without walking every
inquiry. The answers are the same whichever way a word is looked up."""

import pytest
from sqlalchemy import insert, text

from crm.conversation.models import Direction, Message, MessageChannel
from crm.extensions import db as _db
from crm.inquiries import queries as inquiry_queries
from crm.inquiries.models import Inquiry
from crm.inquiries.queries import InquiryFilters, filtered
from crm.partners.models import Contact, Organisation
from crm.search import queries
from tests.factories import InquiryFactory, OrganisationFactory


class Reader:
    def can(self, _permission):
        return True


def sqlite_plan(statement) -> str:
    compiled = statement.compile(_db.engine, compile_kwargs={"literal_binds": True})
    return "\n".join(row[-1] for row in _db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


def pg_plan(statement) -> str:
    compiled = statement.compile(_db.engine, compile_kwargs={"literal_binds": True})
    return "\n".join(row[0] for row in _db.session.execute(text(f"EXPLAIN {compiled}")))


def message_rows_query(term):
    return (
        queries.select(Message.id)
        .where(*queries._indexed(term, Message.body, "message_search", Message.id))
        .order_by(Message.created_at.desc())
        .limit(queries.SHOWN)
    )


@pytest.fixture
def messages(db):
    inquiry = InquiryFactory(subject="Arkeologi", message="Grävning")
    bodies = ["Vi har TEXTILIER i magasinet.", "Om textil och ull", "Ett brev om arkeologi",
              "Ab och textil", "Något helt annat"]  # fmt: skip
    for body in bodies:
        db.session.add(Message(inquiry_id=inquiry.id, direction=Direction.INBOUND,
                               channel=MessageChannel.EMAIL, body=body))  # fmt: skip
    db.session.commit()
    return inquiry


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("textil", {"Vi har TEXTILIER i magasinet.", "Om textil och ull", "Ab och textil"}),
        ("textil ull", {"Om textil och ull"}),
        ("ab textil", {"Ab och textil"}),  # a short word (no trigram) and an indexed one
        ('"om textil"', {"Om textil och ull"}),
        ("ab", {"Ab och textil"}),
        ("saknas", set()),
    ],
)
@pytest.mark.parametrize("common", [False, True], ids=["index", "walk"])
def test_messages_are_found_the_same_by_the_index_and_by_walking(
    db, messages, monkeypatch, term, expected, common
):
    if common:  # every word counts as common, so SQLite walks the messages instead
        monkeypatch.setattr(inquiry_queries, "COMMON", 1)
    groups = queries.search_everything(term, Reader())
    assert {message.body for message, _ref, _subject in groups["messages"].rows} == expected
    assert groups["messages"].count == len(expected)


def test_an_erased_or_changed_message_is_no_longer_found(db, messages):
    message = _db.session.scalar(queries.select(Message).where(Message.body.like("Om textil%")))
    message.body = "[borttaget]"
    _db.session.commit()
    found = queries.search_everything("ull", Reader())["messages"].rows
    assert found == []
    _db.session.delete(_db.session.get(Message, message.id))
    _db.session.commit()
    assert queries.search_everything("borttaget", Reader())["messages"].rows == []


def test_sqlite_finds_a_rare_word_in_messages_through_the_index(db, messages):
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite plan; PostgreSQL's is the next test")
    plan = sqlite_plan(message_rows_query("textil"))
    assert "message_search VIRTUAL TABLE INDEX" in plan
    assert "SCAN messages" not in plan


def test_sqlite_finds_a_rare_word_in_the_list_without_walking_every_inquiry(db, messages):
    """The counterpart's case number and the words are two indexed lookups (a UNION), not an
    OR tested on every inquiry newest-first."""
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite plan; PostgreSQL's is in tests/inquiries/test_explain.py")
    query = filtered(InquiryFilters(q="textilhantverk"), None).order_by(
        Inquiry.created_at.desc(), Inquiry.id.desc()
    )
    plan = sqlite_plan(query.limit(51))
    assert "inquiry_search VIRTUAL TABLE INDEX" in plan
    assert "ix_inquiries_counterpart_key" in plan
    assert "SCAN inquiries" not in plan


def test_postgresql_finds_a_word_in_messages_through_the_trigram_index(db, messages):
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("the PostgreSQL plan; SQLite's is the test before")
    rows = [
        {"inquiry_id": messages.id, "direction": "inbound", "channel": "email",
         "body": f"Brev nummer {n} om en utställning" + (" textilhantverk" if n % 997 == 0 else "")}
        for n in range(20_000)
    ]  # fmt: skip
    _db.session.execute(insert(Message), rows)
    _db.session.execute(text("SELECT gin_clean_pending_list('ix_messages_search_trgm')"))
    _db.session.execute(text("ANALYZE messages"))
    assert "ix_messages_search_trgm" in pg_plan(message_rows_query("textilhantverk"))


# ---- the register: organisations and contacts (migration 0023) ------------------------


@pytest.fixture
def register(db):
    museum = OrganisationFactory(
        name="Textilmuseet i Borås", short_name="TMB", org_number="556036-0793",
        email_domain="textilmuseet.se",
    )  # fmt: skip
    other = OrganisationFactory(name="Järnvägsmuseet", short_name=None, org_number=None)
    for name, email, organisation in [("Tea Textil", "tea@example.se", museum),
                                      ("Rolf Räls", None, other),
                                      ("Ab Textilsson", "ab@example.se", other)]:  # fmt: skip
        _db.session.add(Contact(organisation_id=organisation.id, name=name, email=email))
    _db.session.commit()
    return museum


@pytest.mark.parametrize(
    ("term", "organisations", "contacts"),
    [
        ("textil", {"Textilmuseet i Borås"}, {"Tea Textil", "Ab Textilsson"}),
        ("TMB", {"Textilmuseet i Borås"}, set()),
        ("556036", {"Textilmuseet i Borås"}, set()),
        ("textilmuseet.se", {"Textilmuseet i Borås"}, set()),
        ("museet borås", {"Textilmuseet i Borås"}, set()),  # words in any order
        ("ab textil", set(), {"Ab Textilsson"}),  # a short word (no trigram) and an indexed one
        ("räls", set(), {"Rolf Räls"}),  # a contact without an address is still found
        ("tea@example", set(), {"Tea Textil"}),
        ("järnväg", {"Järnvägsmuseet"}, set()),  # an organisation without short name or number
        ("saknas", set(), set()),
    ],
)
@pytest.mark.parametrize("common", [False, True], ids=["index", "walk"])
def test_the_register_is_found_the_same_by_the_index_and_by_walking(
    register, monkeypatch, term, organisations, contacts, common
):
    if common:
        monkeypatch.setattr(inquiry_queries, "COMMON", 1)
    groups = queries.search_everything(term, Reader())
    assert {o.name for o in groups["organisations"].rows} == organisations
    assert {c.name for c in groups["contacts"].rows} == contacts
    assert groups["contacts"].count == len(contacts)


def test_a_changed_or_deleted_contact_is_no_longer_found(register):
    contact = _db.session.scalar(queries.select(Contact).where(Contact.name == "Tea Textil"))
    contact.name = "Tea Ull"
    _db.session.commit()
    assert queries.search_everything("textil", Reader())["contacts"].count == 1
    assert queries.search_everything("tea ull", Reader())["contacts"].count == 1
    _db.session.delete(contact)
    register.short_name = "TXM"
    _db.session.commit()
    assert queries.search_everything("tea ull", Reader())["contacts"].count == 0
    assert queries.search_everything("TXM", Reader())["organisations"].count == 1


def test_the_search_tables_follow_every_change_of_the_register(register):
    """What the triggers keep: a row's text after each change, and nothing of a deleted row
    (read from the FTS5 tables themselves: the searches above would also pass on a stale
    index, since they read the live rows)."""
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's search tables; PostgreSQL's indexes are part of the tables")

    def indexed(kind, row_id):
        return _db.session.scalar(
            text(f"SELECT body FROM {kind}_search WHERE rowid = :id"), {"id": row_id}
        )

    contact = _db.session.scalar(queries.select(Contact).where(Contact.name == "Tea Textil"))
    assert indexed("contact", contact.id) == "tea textil tea@example.se"
    contact.email = None
    register.email_domain = None
    _db.session.commit()
    assert indexed("contact", contact.id) == "tea textil "
    assert indexed("organisation", register.id) == "textilmuseet i borås tmb 556036-0793 "
    _db.session.delete(contact)
    _db.session.commit()
    assert indexed("contact", contact.id) is None
    other = _db.session.scalar(queries.select(Organisation).where(Organisation.id != register.id))
    for person in other.contacts:
        _db.session.delete(person)
    _db.session.delete(other)
    _db.session.commit()
    assert indexed("organisation", other.id) is None


def register_rows_query(model, searched, table, term):
    return queries.select(model.id).where(*queries._indexed(term, searched, table, model.id))


@pytest.mark.parametrize("kind", ["organisation", "contact"])
def test_the_register_is_searched_through_its_index(register, kind):
    model, searched = {
        "organisation": (Organisation, queries.ORGANISATION_TEXT),
        "contact": (Contact, queries.CONTACT_TEXT),
    }[kind]
    table = model.__tablename__
    if _db.engine.dialect.name == "sqlite":
        plan = sqlite_plan(register_rows_query(model, searched, f"{kind}_search", "textil"))
        assert f"{kind}_search VIRTUAL TABLE INDEX" in plan
        assert f"SCAN {table}" not in plan
        return
    _db.session.execute(text(f"SELECT gin_clean_pending_list('ix_{table}_search_trgm')"))
    _db.session.execute(text(f"ANALYZE {table}"))
    with _db.session.begin_nested():
        _db.session.execute(text("SET LOCAL enable_seqscan = off"))  # a handful of rows
        plan = pg_plan(register_rows_query(model, searched, f"{kind}_search", "textilhantverk"))
    assert f"ix_{table}_search_trgm" in plan
