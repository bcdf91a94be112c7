import pytest

from crm.errors import DomainError, NotPermitted
from crm.inquiries.queries import InquiryFilters
from crm.saved_views.models import SavedView
from crm.saved_views.queries import filters_of, views_for
from crm.saved_views.services import delete_view, save_view
from tests.factories import UserFactory


def test_a_view_stores_the_filters_and_reads_them_back(db):
    chair = UserFactory(role="chair")
    filters = InquiryFilters.from_args({"status": "declined", "year": "2026", "sort": "oldest"})
    view = save_view("Avböjda i år", filters, False, chair)
    assert view.args == {"status": "declined", "year": "2026", "sort": "oldest"}
    assert filters_of(view) == filters


def test_stored_args_are_validated_again_when_loaded(db):
    owner = UserFactory(role="chair")
    view = SavedView(
        name="Gammal", owner_id=owner.id,
        args={"status": "bogus", "assignee": "'; drop", "year": "1066", "tag": "remiss",
              "q": ["not", "a", "string"], "sort": "oldest"},
    )  # fmt: skip
    db.session.add(view)
    db.session.flush()
    assert filters_of(view).as_args() == {"tag": "remiss", "sort": "oldest"}


def test_the_board_cannot_save_views(db):
    with pytest.raises(NotPermitted):
        save_view("Min", InquiryFilters(), False, UserFactory(role="board"))


def test_names_are_required_and_unique_among_what_one_sees(db):
    chair, secretary = UserFactory(role="chair"), UserFactory(role="secretary_general")
    with pytest.raises(DomainError):
        save_view("  ", InquiryFilters(), False, chair)
    save_view("Öppna", InquiryFilters(status="open"), True, chair)
    with pytest.raises(DomainError) as refused:
        save_view("öppna", InquiryFilters(), False, secretary)
    assert refused.value.field == "name"


def test_personal_views_are_private_and_shared_ones_are_everyones(db):
    chair, secretary = UserFactory(role="chair"), UserFactory(role="secretary_general")
    board = UserFactory(role="board")
    mine = save_view("Mina", InquiryFilters(assignee="me"), False, chair)
    shared = save_view("Öppna hos ordföranden", InquiryFilters(status="open"), True, chair)
    assert views_for(chair) == [mine, shared]
    assert views_for(secretary) == [shared]
    assert views_for(board) == [shared]
    with pytest.raises(NotPermitted):
        delete_view(mine, secretary)
    delete_view(shared, secretary)  # shared views are curated by every officer
    assert views_for(chair) == [mine]


@pytest.mark.parametrize("name", ["Öppna\u202eanivsiV", "Öpp\u200bna", "\u2066Öppna\u2069"])
def test_a_name_with_invisible_formatting_is_refused_like_a_tag_name(db, name):
    """A shared view's name is shown to everyone: a right-to-left override or an invisible
    character could make it pass for another view (the same rule as tag names)."""
    chair = UserFactory(role="chair")
    with pytest.raises(DomainError) as refused:
        save_view(name, InquiryFilters(), True, chair)
    assert refused.value.field == "name"
    assert views_for(chair) == []


def test_the_audit_row_keeps_no_search_text(db):
    """A search term may be a person's name or address; the audit log, which erasure cannot
    reach, keeps only its length (as the list's own audit does: `audited_args`)."""
    from sqlalchemy import select

    from crm.models import AuditLog

    chair = UserFactory(role="chair")
    filters = InquiryFilters.from_args({"q": "anna.andersson@exempel.se", "status": "new"})
    save_view("Annas", filters, False, chair)
    details = db.session.scalar(
        select(AuditLog.details).where(AuditLog.action == "saved_view_created")
    )
    assert "anna.andersson@exempel.se" not in str(details)
    assert details["args"]["status"] == "new"
