"""Bulk actions: each inquiry through its own rule; refusals reported, never skipped silently."""

import pytest
from sqlalchemy import func, select

from crm.errors import DomainError
from crm.inquiries.bulk import BULK_STATUSES, bulk_assign, bulk_change_status, bulk_tag
from crm.inquiries.services import declare_conflict
from crm.inquiries.statuses import Status
from crm.models import AuditLog
from crm.tags.queries import tags_of_inquiry
from tests.factories import InquiryFactory, UserFactory


@pytest.fixture
def secretary(db):
    return UserFactory(role="secretary_general")


def audits(db, action):
    return db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
    )


def test_bulk_status_changes_what_may_move_and_reports_the_rest(db, secretary):
    new = InquiryFactory(status=Status.NEW)
    triaged = InquiryFactory(status=Status.TRIAGED)
    agreed = InquiryFactory(status=Status.AGREED)
    result = bulk_change_status([new.id, triaged.id, agreed.id], Status.DECLINED, secretary)
    assert result.changed == [new.reference, triaged.reference]
    assert [ref for ref, _reason in result.refused] == [agreed.reference]
    assert "Överenskommen" in result.refused[0][1]
    assert (new.status, triaged.status, agreed.status) == (
        Status.DECLINED, Status.DECLINED, Status.AGREED,
    )  # fmt: skip
    assert audits(db, "inquiry_status_changed") == 2  # one per changed inquiry


def test_bulk_status_reports_jav_rows_and_unknown_ids(db, secretary):
    mine, conflicted = InquiryFactory(), InquiryFactory()
    declare_conflict(conflicted, secretary, "Jävig")
    result = bulk_change_status([mine.id, conflicted.id, 999999], Status.TRIAGED, secretary)
    assert result.changed == [mine.reference]
    assert result.refused[0][0] == conflicted.reference
    assert "jäv" in result.refused[0][1]
    assert result.missing == 1
    assert conflicted.status is Status.NEW


def test_an_inquiry_already_in_the_status_is_unchanged_not_refused(db, secretary):
    inquiry = InquiryFactory(status=Status.TRIAGED)
    result = bulk_change_status([inquiry.id], Status.TRIAGED, secretary)
    assert (result.changed, result.unchanged, result.refused) == ([], [inquiry.reference], [])


def test_spam_is_not_a_bulk_status(db, secretary):
    assert Status.SPAM not in BULK_STATUSES
    inquiry = InquiryFactory()
    with pytest.raises(DomainError):
        bulk_change_status([inquiry.id], Status.SPAM, secretary)
    assert inquiry.status is Status.NEW


def test_bulk_assign_respects_jav_of_the_assignee(db, secretary):
    chair = UserFactory(role="chair")
    free, conflicted = InquiryFactory(), InquiryFactory()
    declare_conflict(conflicted, chair, "Min arbetsgivare")
    result = bulk_assign([free.id, conflicted.id], chair, secretary)
    assert result.changed == [free.reference]
    assert result.refused == [
        (conflicted.reference, f"{chair.name} har anmält jäv för förfrågan och kan inte bli "
         "ansvarig för den.")
    ]  # fmt: skip
    assert free.assignee_id == chair.id
    assert conflicted.assignee_id != chair.id
    assert audits(db, "inquiry_assigned") == 1


def test_bulk_assign_refuses_someone_who_may_not_be_assigned(db, secretary):
    board = UserFactory(role="board")
    inquiry = InquiryFactory()
    result = bulk_assign([inquiry.id], board, secretary)
    assert result.changed == []
    assert result.refused[0][0] == inquiry.reference
    assert inquiry.assignee_id is None


def test_bulk_tag_tags_each_once(db, secretary):
    first, second = InquiryFactory(), InquiryFactory()
    bulk_tag([first.id], "remiss", secretary)
    result = bulk_tag([first.id, second.id], "Remiss", secretary)
    assert result.changed == [second.reference]
    assert result.unchanged == [first.reference]
    assert [t.name for t in tags_of_inquiry(second)] == ["remiss"]


def test_bulk_tag_with_a_bad_name_changes_nothing(db, secretary):
    inquiry = InquiryFactory()
    with pytest.raises(DomainError) as refused:
        bulk_tag([inquiry.id], "   ", secretary)
    assert refused.value.field == "tag"


def test_bulk_tag_refused_on_every_row_makes_no_tag(db, secretary):
    """Nothing was tagged, so nothing is created: no unused tag in the register, no audit."""
    from crm.models import Tag

    inquiry = InquiryFactory()
    declare_conflict(inquiry, secretary, "Jävig")
    result = bulk_tag([inquiry.id, 2**62], "Ny etikett", secretary)
    assert [reference for reference, _reason in result.refused] == [inquiry.reference]
    assert result.missing == 1
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 0
    assert audits(db, "tag_created") == 0
