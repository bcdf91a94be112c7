"""Search everything: one term, every kind of record the reader may see, grouped."""

import pytest

from crm.auth.permissions import Permission
from crm.conversation.models import Direction, Message, MessageChannel
from crm.models import Contact
from crm.search.queries import SHOWN, search_everything
from tests.factories import InquiryFactory, OrganisationFactory


@pytest.fixture
def textile(db):
    """One of each kind of record that mentions 'textil', and one that does not."""
    museum = OrganisationFactory(
        name="Textilmuseet i Borås", short_name="TMB", org_number="556036-0793",
        email_domain="textilmuseet.se",
    )  # fmt: skip
    db.session.add(Contact(organisation_id=museum.id, name="Tea Textil", email="tea@example.se"))
    inquiry = InquiryFactory(subject="Vandringsutställning om textilhantverk")
    other = InquiryFactory(subject="Arkeologi", message="Grävning", organisation_name="Annat")
    db.session.add(
        Message(inquiry_id=other.id, direction=Direction.OUTBOUND,
                channel=MessageChannel.SAMVERKA, body="Vi har textilier i magasinet.")
    )  # fmt: skip
    db.session.commit()
    return {"museum": museum, "inquiry": inquiry, "other": other}


class Reader:
    """A user holding exactly the given permissions."""

    def __init__(self, *permissions):
        self.permissions = set(permissions)

    def can(self, permission):
        return permission in self.permissions


def test_every_kind_of_record_is_found_and_grouped(db, textile):
    groups = search_everything("textil", Reader(*Permission))
    assert list(groups) == ["inquiries", "organisations", "contacts", "messages"]
    assert [i.reference for i in groups["inquiries"].rows] == [textile["inquiry"].reference]
    assert [o.name for o in groups["organisations"].rows] == ["Textilmuseet i Borås"]
    assert [c.name for c in groups["contacts"].rows] == ["Tea Textil"]
    _message, reference, _subject = groups["messages"].rows[0]
    assert reference == textile["other"].reference
    assert {name: group.count for name, group in groups.items()} == dict.fromkeys(groups, 1)


@pytest.mark.parametrize(
    ("term", "group"),
    [("556036-0793", "organisations"), ("TMB", "organisations"), ("textilmuseet.se",
     "organisations"), ("tea@example", "contacts"), ("magasinet", "messages")],
)  # fmt: skip
def test_organisations_by_number_short_name_and_domain_contacts_by_address(
    db, textile, term, group
):
    groups = search_everything(term, Reader(*Permission))
    assert groups[group].count == 1, term


def test_every_word_must_be_found(db, textile):
    groups = search_everything("textilmuseet borås", Reader(*Permission))
    assert groups["organisations"].count == 1
    assert search_everything("textilmuseet malmö", Reader(*Permission))["organisations"].count == 0


def test_only_the_groups_the_reader_may_see_are_searched(db, textile):
    register_only = search_everything("textil", Reader(Permission.ORGANISATION_VIEW))
    assert list(register_only) == ["organisations", "contacts"]
    inquiries_only = search_everything("textil", Reader(Permission.INQUIRY_VIEW))
    assert list(inquiries_only) == ["inquiries", "messages"]
    assert search_everything("textil", Reader()) == {}


def test_a_group_shows_its_first_rows_and_counts_them_all(db, monkeypatch):
    from crm.search import queries

    InquiryFactory.create_batch(SHOWN + 3, subject="Broderi och textil")
    group = search_everything("broderi", Reader(*Permission))["inquiries"]
    assert len(group.rows) == SHOWN
    assert group.count == SHOWN + 3
    assert group.more
    assert not group.capped
    monkeypatch.setattr(queries, "COUNT_CAP", SHOWN + 3)
    assert not search_everything("broderi", Reader(*Permission))["inquiries"].capped
    monkeypatch.setattr(queries, "COUNT_CAP", SHOWN + 2)
    group = search_everything("broderi", Reader(*Permission))["inquiries"]
    assert (group.count, group.capped) == (SHOWN + 2, True)


def test_register_groups_show_their_first_rows_in_order_and_count_them_all(db, monkeypatch):
    from crm.search import queries

    museums = [OrganisationFactory(name=f"Broderimuseet {i:02d}") for i in range(SHOWN + 3)]
    for index, museum in enumerate(museums):
        db.session.add(Contact(organisation_id=museum.id, name=f"Brita Broderi {index:02d}"))
    db.session.commit()
    groups = search_everything("broderi", Reader(*Permission))
    organisations, contacts = groups["organisations"], groups["contacts"]
    assert [o.name for o in organisations.rows] == [f"Broderimuseet {i:02d}" for i in range(SHOWN)]
    assert organisations.count == SHOWN + 3
    assert organisations.more
    assert [c.name for c in contacts.rows] == [f"Brita Broderi {i:02d}" for i in range(SHOWN)]
    assert contacts.rows[0].organisation.name == "Broderimuseet 00"
    assert contacts.count == SHOWN + 3
    monkeypatch.setattr(queries, "COUNT_CAP", SHOWN + 3)  # exactly at the cap: not "13+"
    groups = search_everything("broderi", Reader(*Permission))
    assert (groups["contacts"].count, groups["contacts"].capped) == (SHOWN + 3, False)
    assert (groups["inquiries"].count, groups["inquiries"].capped) == (0, False)
    monkeypatch.setattr(queries, "COUNT_CAP", SHOWN + 1)  # past it: "11+"
    groups = search_everything("broderi", Reader(*Permission))
    assert (groups["contacts"].count, groups["contacts"].capped) == (SHOWN + 1, True)
    assert (groups["organisations"].count, groups["organisations"].capped) == (SHOWN + 1, True)


# ---- through HTTP ----------------------------------------------------------------------------


def test_the_page_groups_hits_with_counts_and_links(client, db, login_as, textile):
    login_as("secretary_general")
    page = client.get("/sok?q=textil").text
    for text in (
        textile["inquiry"].reference, "Textilmuseet i Borås", "Tea Textil",
        "Vi har textilier i magasinet.", 'id="inquiries-title"', 'id="messages-title"',
        f'href="/organisations/{textile["museum"].id}"',
    ):  # fmt: skip
        assert text in page, text


def test_more_inquiries_than_shown_link_to_the_list(client, db, login_as):
    login_as("board")
    InquiryFactory.create_batch(SHOWN + 1, subject="Broderi")
    page = client.get("/sok?q=broderi").text
    assert 'href="/inquiries?q=broderi"' in page
    assert f"({SHOWN + 1})" in page


@pytest.mark.parametrize("typed", ["{ref}", "{ref_lower}", "  {ref}  "])
def test_an_exact_reference_opens_the_inquiry(client, db, login_as, typed):
    login_as("board")
    inquiry = InquiryFactory()
    term = typed.format(ref=inquiry.reference, ref_lower=inquiry.reference.lower())
    response = client.get("/sok", query_string={"q": term})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/inquiries/{inquiry.reference}"


def test_an_unknown_reference_is_searched_like_any_term(client, db, login_as):
    login_as("secretary_general")
    response = client.get("/sok?q=SAM-1999-0001")
    assert response.status_code == 200
    assert "Inga förfrågningar." in response.text


def test_an_empty_search_shows_the_form(client, db, login_as):
    login_as("chair")
    page = client.get("/sok").text
    assert 'id="search-page-q"' in page
    assert 'id="inquiries-title"' not in page


@pytest.mark.parametrize(("role", "status"), [("board", 200), ("chair", 200), ("admin", 403)])
def test_who_may_search(client, db, login_as, role, status):
    login_as(role)
    assert client.get("/sok?q=x").status_code == status


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get("/sok?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_menu_has_a_labelled_search_box_for_readers_not_for_the_admin(client, db, login_as):
    login_as("board")
    page = client.get("/inbox").text
    assert 'action="/sok"' in page
    assert '<label for="wide-search-q"' in page
    assert 'role="search"' in page
    client.post("/logout")
    login_as("admin")
    assert 'action="/sok"' not in client.get("/account").text


def test_the_query_count_does_not_grow(db, login_as, statements_for):
    login_as("secretary_general")

    def add(n):
        organisations = OrganisationFactory.build_batch(n, email_domain="textil.se")
        db.session.add_all(organisations)
        inquiries = InquiryFactory.build_batch(n, subject="Textil")
        db.session.add_all(inquiries)
        db.session.flush()
        for organisation, inquiry in zip(organisations, inquiries, strict=True):
            db.session.add(Contact(organisation_id=organisation.id, name="Textil Tove"))
            db.session.add(
                Message(inquiry_id=inquiry.id, direction=Direction.INBOUND,
                        channel=MessageChannel.EMAIL, body="Om textil")
            )  # fmt: skip
        db.session.commit()

    add(2)
    small = statements_for("/sok?q=textil")
    add(60)
    assert statements_for("/sok?q=textil") == small


# ---- review: hostile terms ------------------------------------------------------------------


@pytest.mark.parametrize("term", ["%", "_", "\\", "100%", "a_b", "c:\\temp", '"', "'", "*"])
def test_v5_3_4_like_wildcards_and_quotes_are_searched_as_text(db, term):
    """ASVS 5.3.4: `%`, `_` and `\\` match only themselves in every group."""
    OrganisationFactory(name="Helt vanligt museum", short_name="HVM")
    odd = OrganisationFactory(name=f"Udda {term} förening")
    inquiry = InquiryFactory(subject=f"Udda {term} ämne", message="x")
    db.session.add(Contact(organisation_id=odd.id, name=f"Udda {term} person"))
    db.session.add(
        Message(inquiry_id=inquiry.id, direction=Direction.INBOUND,
                channel=MessageChannel.EMAIL, body=f"Udda {term} text")
    )  # fmt: skip
    db.session.commit()
    everything = Reader(Permission.INQUIRY_VIEW, Permission.ORGANISATION_VIEW)
    groups = search_everything(term, everything)
    assert [o.name for o in groups["organisations"].rows] == [odd.name]
    assert [c.name for c in groups["contacts"].rows] == [f"Udda {term} person"]
    assert [m.body for m, _ref, _subject in groups["messages"].rows] == [f"Udda {term} text"]
    assert [i.subject for i in groups["inquiries"].rows] == [inquiry.subject]


def test_nul_bytes_long_terms_and_markup_are_harmless(client, db, login_as):
    login_as("board")
    OrganisationFactory(name="<script>alert(1)</script> museum")
    inquiry = InquiryFactory(subject="<img src=x onerror=alert(1)>")
    db.session.add(
        Message(inquiry_id=inquiry.id, direction=Direction.INBOUND,
                channel=MessageChannel.EMAIL, body="<script>alert(2)</script>")
    )  # fmt: skip
    db.session.commit()
    for term in ("a\x00b", "x" * 100_000, "ä" * 300 + "\x00"):
        assert client.get("/sok", query_string={"q": term}).status_code == 200
    page = client.get("/sok", query_string={"q": "script"}).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)" in page
    assert "&lt;script&gt;alert(2)" in page
    assert "<img src=x" not in client.get("/sok", query_string={"q": "img"}).text


@pytest.mark.parametrize(
    "term",
    ["SAM-2026-0001//evil.example", "//evil.example", "https://evil.example/SAM-2026-0001",
     "SAM-2026-0001\r\nLocation: https://evil.example", "sam-2026-0001 "],
)  # fmt: skip
def test_v5_1_5_the_reference_jump_never_leaves_the_site(client, db, login_as, term):
    login_as("chair")
    InquiryFactory(reference="SAM-2026-0001")
    db.session.commit()
    response = client.get("/sok", query_string={"q": term})
    if response.status_code == 302:
        assert response.headers["Location"] == "/inquiries/SAM-2026-0001"
    else:
        assert response.status_code == 200
