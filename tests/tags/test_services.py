import pytest
from sqlalchemy import func, select

from crm.activity.models import TimelineEvent
from crm.errors import DomainError, NotPermitted
from crm.models import AuditLog, Tag
from crm.tags.models import inquiry_tags, organisation_tags
from crm.tags.queries import tags_by_inquiry, tags_of_inquiry, tags_of_organisation, usage_of
from crm.tags.services import (
    delete_tag,
    find_or_create_tag,
    fold,
    merge_tags,
    rename_tag,
    tag_inquiry,
    tag_name,
    tag_organisation,
    untag_inquiry,
    untag_organisation,
)
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory


@pytest.fixture
def secretary(db):
    return UserFactory(role="secretary_general")


def count(db, model_or_table, *where):
    return db.session.scalar(select(func.count()).select_from(model_or_table).where(*where))


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("  Folk och   Kultur 2027 ", "Folk och Kultur 2027"),
        ("remiss\t", "remiss"),
        ("Kultur\x07samverkan", "Kultursamverkan"),  # control characters are dropped
    ],
)
def test_a_tag_name_is_trimmed_and_cleaned(app, raw, name):
    assert tag_name(raw) == name


@pytest.mark.parametrize("raw", ["", "   ", "x" * 61, "rem\u202eiss", "a\u200bb"])
def test_an_empty_long_or_disguised_tag_name_is_refused(app, raw):
    with pytest.raises(DomainError) as refused:
        tag_name(raw)
    assert refused.value.field == "name"


def test_names_differing_only_in_case_or_spacing_are_one_tag(db, secretary):
    first = find_or_create_tag("Remiss", secretary)
    assert find_or_create_tag("  REMISS ", secretary) is first
    assert find_or_create_tag("remiss", secretary) is first
    assert count(db, Tag) == 1
    assert first.name == "Remiss"  # as first written
    assert fold("Straße") == fold("STRASSE")


def test_tagging_an_inquiry_twice_keeps_one_link_and_one_event(db, secretary):
    inquiry = InquiryFactory()
    assert tag_inquiry(inquiry, "Kultursamverkansmodellen", secretary) is not None
    assert tag_inquiry(inquiry, "kultursamverkansmodellen", secretary) is None
    assert [t.name for t in tags_of_inquiry(inquiry)] == ["Kultursamverkansmodellen"]
    events = db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.inquiry_id == inquiry.id)
    ).all()
    assert [(e.kind, e.data["tag"]) for e in events] == [("tag_added", "Kultursamverkansmodellen")]
    assert count(db, AuditLog, AuditLog.action == "inquiry_tagged") == 1


def test_untagging_is_on_the_timeline_and_keeps_the_tag(db, secretary):
    inquiry = InquiryFactory()
    tag = tag_inquiry(inquiry, "remiss", secretary)
    untag_inquiry(inquiry, tag, secretary)
    assert tags_of_inquiry(inquiry) == []
    assert count(db, Tag) == 1
    kinds = db.session.scalars(
        select(TimelineEvent.kind).where(TimelineEvent.inquiry_id == inquiry.id)
    ).all()
    assert sorted(kinds) == ["tag_added", "tag_removed"]


def test_someone_with_jav_cannot_tag(db, secretary):
    from crm.inquiries.services import declare_conflict

    inquiry = InquiryFactory()
    declare_conflict(inquiry, secretary, "Jag sitter i styrelsen")
    with pytest.raises(NotPermitted):
        tag_inquiry(inquiry, "remiss", secretary)


def test_only_organisation_editors_tag_organisations(db, secretary):
    organisation = OrganisationFactory()
    with pytest.raises(NotPermitted):
        tag_organisation(organisation, "remiss", UserFactory(role="chair"))
    tag_organisation(organisation, "remiss", secretary)
    assert [t.name for t in tags_of_organisation(organisation)] == ["remiss"]


def test_rename_changes_name_and_key(db, secretary):
    tag = find_or_create_tag("remis", secretary)
    rename_tag(tag, "Remiss", secretary)
    assert (tag.name, tag.key) == ("Remiss", "remiss")
    assert count(db, AuditLog, AuditLog.action == "tag_renamed") == 1


def test_rename_to_only_another_case_is_allowed(db, secretary):
    tag = find_or_create_tag("remiss", secretary)
    rename_tag(tag, "REMISS", secretary)
    assert tag.name == "REMISS"


def test_rename_into_an_existing_tag_is_refused_and_points_to_merge(db, secretary):
    tag = find_or_create_tag("remis", secretary)
    find_or_create_tag("Remiss", secretary)
    with pytest.raises(DomainError) as refused:
        rename_tag(tag, "remiss", secretary)
    assert "Slå ihop" in refused.value.message
    assert tag.name == "remis"


def test_merge_moves_every_use_once_and_removes_the_source(db, secretary):
    both, only_source, only_target = InquiryFactory(), InquiryFactory(), InquiryFactory()
    organisation = OrganisationFactory()
    source = tag_inquiry(both, "remis", secretary)
    target = tag_inquiry(both, "remiss", secretary)
    tag_inquiry(only_source, "remis", secretary)
    tag_inquiry(only_target, "remiss", secretary)
    tag_organisation(organisation, "remis", secretary)
    result = merge_tags(source, target, secretary)
    assert (result.inquiries_moved, result.inquiries_had_both) == (1, 1)
    assert (result.organisations_moved, result.organisations_had_both) == (1, 0)
    assert count(db, Tag) == 1
    assert count(db, inquiry_tags) == 3  # one per inquiry, no duplicate on `both`
    assert count(db, inquiry_tags, inquiry_tags.c.tag_id == target.id) == 3
    assert count(db, organisation_tags, organisation_tags.c.tag_id == target.id) == 1
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "tag_merged"))
    assert entry.details["source"] == "remis"
    assert entry.details["inquiries_moved"] == 1


def test_a_tag_cannot_be_merged_into_itself(db, secretary):
    tag = find_or_create_tag("remiss", secretary)
    with pytest.raises(DomainError):
        merge_tags(tag, tag, secretary)


def test_delete_removes_every_use_and_is_audited(db, secretary):
    inquiry, organisation = InquiryFactory(), OrganisationFactory()
    tag = tag_inquiry(inquiry, "remiss", secretary)
    tag_organisation(organisation, "remiss", secretary)
    assert usage_of(tag) == (1, 1)
    assert delete_tag(tag, secretary) == (1, 1)
    assert count(db, Tag) == 0
    assert count(db, inquiry_tags) == 0
    assert count(db, organisation_tags) == 0
    assert count(db, AuditLog, AuditLog.action == "tag_deleted") == 1


def test_tags_of_many_inquiries_come_in_one_statement(db, secretary, count_queries):
    inquiries = [InquiryFactory() for _ in range(4)]
    for inquiry in inquiries[:3]:
        tag_inquiry(inquiry, "remiss", secretary)
        tag_inquiry(inquiry, "Folk och Kultur 2027", secretary)
    with count_queries() as counted:
        found = tags_by_inquiry([inquiry.id for inquiry in inquiries])
    assert counted() == 1
    assert [t.name for t in found[inquiries[0].id]] == ["Folk och Kultur 2027", "remiss"]
    assert found[inquiries[3].id] == []


def test_the_list_filter_keeps_the_tag_cleaned_and_in_its_args(app):
    from crm.inquiries.queries import InquiryFilters

    filters = InquiryFilters.from_args({"tag": "  Folk  och\x00 Kultur ", "status": "new"})
    assert filters.tag == "Folk och Kultur"
    assert filters.as_args() == {"status": "new", "tag": "Folk och Kultur"}
    assert filters.audited_args()["tag"] == "Folk och Kultur"
    assert InquiryFilters.from_args({"tag": "x" * 500}).tag == "x" * 60


@pytest.mark.parametrize("owner", ["inquiry", "organisation"])
def test_a_link_made_concurrently_counts_as_already_there_not_a_500(
    db, secretary, monkeypatch, owner
):
    """Two people add the same tag at once: both pass the "has it?" check, the second insert
    meets the primary key. That is "already had it", and the transaction stays usable."""
    from crm.tags import services

    if owner == "inquiry":
        subject, table, column = InquiryFactory(), inquiry_tags, "inquiry_id"
        act, action = tag_inquiry, "inquiry_tagged"
    else:
        subject, table, column = OrganisationFactory(), organisation_tags, "organisation_id"
        act, action = tag_organisation, "organisation_tagged"
    tag = find_or_create_tag("remiss", secretary)

    calls = []

    def twin_got_there_first(*args):
        calls.append(args)
        if len(calls) > 1:  # asked again after the refused insert: now it is there
            return True
        db.session.execute(table.insert().values({column: subject.id, "tag_id": tag.id}))
        return False

    monkeypatch.setattr(services, "_has", twin_got_there_first)
    assert act(subject, "Remiss", secretary) is None
    assert count(db, table, table.c.tag_id == tag.id) == 1
    assert count(db, AuditLog, AuditLog.action == action) == 0
    assert count(db, Tag) == 1  # the session still works after the refused insert


def test_a_rename_racing_a_new_tag_of_that_name_is_refused_not_a_500(db, secretary, monkeypatch):
    """The other tag is made after our "is the name free?" check: the unique key refuses the
    rename, which then reads as the ordinary refusal, and the session stays usable."""
    from crm.tags import services

    tag = find_or_create_tag("remis", secretary)
    find_or_create_tag("Remiss", secretary)
    monkeypatch.setattr(services, "tag_by_key", lambda key: None)  # the check saw no twin
    with pytest.raises(DomainError) as refused:
        rename_tag(tag, "remiss", secretary)
    assert refused.value.field == "name"
    assert count(db, AuditLog, AuditLog.action == "tag_renamed") == 0
    assert sorted(db.session.scalars(select(Tag.key))) == ["remis", "remiss"]


@pytest.mark.parametrize("way", ["delete", "merge_away"])
def test_jav_cannot_be_side_stepped_through_the_register(db, secretary, way):
    """Someone with jäv may not take a tag off that inquiry (untag refuses them); deleting the
    tag, or merging it into another, would do exactly that, so those refuse too, naming the
    inquiry, and nothing changes."""
    from crm.inquiries.services import declare_conflict

    chair = UserFactory(role="chair")
    conflicted = InquiryFactory()
    source = tag_inquiry(conflicted, "Prioriterad", chair)
    target = find_or_create_tag("Viktig", chair)
    declare_conflict(conflicted, secretary, "Jag sitter i styrelsen")
    act = {
        "delete": lambda: delete_tag(source, secretary),
        "merge_away": lambda: merge_tags(source, target, secretary),
    }[way]
    with pytest.raises(NotPermitted) as refused:
        act()
    assert conflicted.reference in refused.value.message
    assert [t.name for t in tags_of_inquiry(conflicted)] == ["Prioriterad"]
    assert count(db, Tag) == 2


def test_the_register_acts_for_someone_whose_jav_is_elsewhere(db, secretary):
    from crm.inquiries.services import declare_conflict

    chair = UserFactory(role="chair")
    tagged, conflicted = InquiryFactory(), InquiryFactory()
    source = tag_inquiry(tagged, "Prioriterad", chair)
    kept = tag_inquiry(conflicted, "Viktig", chair)
    declare_conflict(conflicted, secretary, "Jävig")
    # merging into a tag the jäv inquiry has leaves that inquiry as it was
    assert merge_tags(source, kept, secretary).inquiries_moved == 1
    assert delete_tag(find_or_create_tag("Oanvänd", chair), secretary) == (0, 0)


@pytest.mark.parametrize("way", ["rename", "merge"])
def test_saved_views_follow_a_renamed_or_merged_tag(db, secretary, way):
    """A view "Remisser" (tag=remiss) must still show the remisser after the tag is renamed
    or merged away, not silently nothing."""
    from crm.inquiries.queries import InquiryFilters
    from crm.saved_views.queries import filters_of
    from crm.saved_views.services import save_view

    source = find_or_create_tag("remiss", secretary)
    target = find_or_create_tag("Remissvar", secretary)
    mine = save_view("Remisser", InquiryFilters(tag="REMISS", status="new"), False, secretary)
    other = save_view("Andra", InquiryFilters(tag="annat"), True, secretary)
    if way == "rename":
        target = None
        rename_tag(source, "Remiss 2027", secretary)
        expected = "Remiss 2027"
    else:
        merge_tags(source, target, secretary)
        expected = "Remissvar"
    assert filters_of(mine).as_args() == {"status": "new", "tag": expected}
    assert filters_of(other).tag == "annat"


@pytest.mark.parametrize("way", ["delete", "merge_away"])
def test_who_may_not_untag_organisations_may_not_delete_or_merge_their_tags(db, secretary, way):
    """The chair may not take a tag off an organisation (organisation:edit); deleting or
    merging away a tag that organisations have would do it for all of them."""
    organisation = OrganisationFactory()
    source = tag_organisation(organisation, "Nätverk", secretary)
    target = find_or_create_tag("Partner", secretary)
    chair = UserFactory(role="chair")
    with pytest.raises(NotPermitted):
        untag_organisation(organisation, source, chair)
    act = {
        "delete": lambda: delete_tag(source, chair),
        "merge_away": lambda: merge_tags(source, target, chair),
    }[way]
    with pytest.raises(NotPermitted):
        act()
    assert [t.name for t in tags_of_organisation(organisation)] == ["Nätverk"]
    assert delete_tag(find_or_create_tag("Bara förfrågningar", secretary), chair) == (0, 0)
