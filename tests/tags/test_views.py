"""Tags through HTTP: on the detail pages, in the list, and the tag register."""

from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from crm.activity.models import TimelineEvent
from crm.models import AuditLog, Tag
from crm.tags.models import inquiry_tags
from crm.tags.services import find_or_create_tag, tag_inquiry, tag_organisation
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory


def count(db, table, *where):
    return db.session.scalar(select(func.count()).select_from(table).where(*where))


def test_tag_and_untag_an_inquiry_on_its_page(client, db, login_as):
    login_as("chair")
    inquiry = InquiryFactory()
    find_or_create_tag("Folk och Kultur 2027", None)
    db.session.commit()
    reference, inquiry_id = inquiry.reference, inquiry.id
    page = client.get(f"/inquiries/{reference}").text
    assert '<datalist id="tag-names"><option value="Folk och Kultur 2027">' in page
    response = client.post(f"/inquiries/{reference}/tags", data={"name": " remiss "})
    assert response.status_code == 302
    page = client.get(f"/inquiries/{reference}").text
    assert '<span class="tag">remiss</span>' in page
    tag_id = db.session.scalar(select(Tag.id).where(Tag.key == "remiss"))
    response = client.post(f"/inquiries/{reference}/tags/{tag_id}/remove")
    assert response.status_code == 302
    assert count(db, inquiry_tags) == 0
    kinds = db.session.scalars(
        select(TimelineEvent.kind).where(TimelineEvent.inquiry_id == inquiry_id)
    ).all()
    assert {"tag_added", "tag_removed"} <= set(kinds)
    timeline = client.get(f"/inquiries/{reference}").text
    assert "Etikett tillagd: remiss" in timeline
    assert "Etikett borttagen: remiss" in timeline


def test_a_bad_tag_name_is_422_beside_the_field(client, db, login_as):
    login_as("secretary_general")
    inquiry = InquiryFactory()
    db.session.commit()
    response = client.post(f"/inquiries/{inquiry.reference}/tags", data={"name": "x" * 61})
    assert response.status_code == 422
    assert 'id="tag-name-error"' in response.text
    assert count(db, Tag) == 0


def test_board_sees_tags_but_no_tag_form(client, db, login_as):
    me = UserFactory(role="secretary_general")
    inquiry = InquiryFactory()
    tag_inquiry(inquiry, "remiss", me)
    db.session.commit()
    login_as("board")
    page = client.get(f"/inquiries/{inquiry.reference}").text
    assert '<span class="tag">remiss</span>' in page
    assert f"/inquiries/{inquiry.reference}/tags" not in page
    assert (
        client.post(f"/inquiries/{inquiry.reference}/tags", data={"name": "x"}).status_code == 403
    )


def test_tag_an_organisation(client, db, login_as):
    login_as("secretary_general")
    organisation = OrganisationFactory()
    db.session.commit()
    path = f"/organisations/{organisation.id}"
    assert client.post(f"{path}/tags", data={"name": "Remiss"}).status_code == 302
    assert '<span class="tag">Remiss</span>' in client.get(path).text


def test_list_shows_tags_and_filters_by_tag_in_any_case(client, db, login_as):
    me = login_as("secretary_general")
    tagged, other = InquiryFactory(subject="Märkt"), InquiryFactory(subject="Omärkt")
    tag_inquiry(tagged, "Kultursamverkansmodellen", me)
    db.session.commit()
    page = client.get("/inquiries").text
    assert ">Kultursamverkansmodellen</a>" in page
    filtered = client.get("/inquiries?tag=kultursamverkansmodellen").text
    assert tagged.reference in filtered
    assert other.reference not in filtered
    # a row's tag leads to the list as it is, narrowed to that tag
    kept = client.get("/inquiries?category=exhibition&status=new").text
    assert (
        '<a class="tag" href="/inquiries?status=new&amp;category=exhibition'
        '&amp;tag=Kultursamverkansmodellen">'
    ) in kept


def test_register_lists_usage_renames_merges_and_deletes(client, db, login_as):
    me = login_as("secretary_general")
    first, second = InquiryFactory(), InquiryFactory()
    source = tag_inquiry(first, "remis", me)
    tag_inquiry(second, "remis", me)
    target = tag_inquiry(second, "Remiss", me)
    db.session.commit()
    source_id, target_id = source.id, target.id
    page = client.get("/taggar").text
    assert ">remis</a>" in page
    assert ">Remiss</a>" in page

    # rename into an existing tag: refused, pointing to merge
    refused = client.post(f"/taggar/{source_id}/namn", data={"name": "REMISS"})
    assert refused.status_code == 422
    assert "Slå ihop etiketterna i stället" in refused.text

    # merge: first a page that says what will happen, nothing changed yet
    confirm = client.post(f"/taggar/{source_id}/sla-ihop", data={"target": target_id})
    assert confirm.status_code == 200
    assert "2 förfrågningar och 0 organisationer" in confirm.text
    assert count(db, Tag) == 2
    done = client.post(
        f"/taggar/{source_id}/sla-ihop", data={"target": target_id, "confirmed": "1"}
    )
    assert done.status_code == 302
    after = client.get("/taggar").text
    assert "1 förfrågningar och 0 organisationer fick ”Remiss”; 1 hade redan båda" in after
    assert count(db, Tag) == 1
    assert count(db, inquiry_tags, inquiry_tags.c.tag_id == target_id) == 2

    # delete, with a confirmation page first
    assert "2 förfrågningar" in client.get(f"/taggar/{target_id}/ta-bort").text
    assert client.post(f"/taggar/{target_id}/ta-bort").status_code == 302
    assert count(db, Tag) == 0
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"tag_merged", "tag_deleted"} <= actions


def test_rename(client, db, login_as):
    login_as("chair")
    tag = find_or_create_tag("remis", None)
    db.session.commit()
    tag_id = tag.id
    assert client.post(f"/taggar/{tag_id}/namn", data={"name": "Remiss"}).status_code == 302
    assert db.session.scalar(select(Tag.name).where(Tag.id == tag_id)) == "Remiss"
    assert count(db, AuditLog, AuditLog.action == "tag_renamed") == 1


@pytest.mark.parametrize("path", ["/taggar", "/taggar/{id}"])
def test_tag_pages_cost_the_same_for_few_and_many_tags(db, login_as, statements_for, path):
    me = login_as("secretary_general")
    organisation = OrganisationFactory()

    def add(n):
        for _ in range(n):
            inquiry = InquiryFactory()
            tag = tag_inquiry(inquiry, f"Etikett {inquiry.id}", me)
            tag_organisation(organisation, tag.name, me)
        db.session.commit()
        return tag

    tag = add(2)
    small = statements_for(path.format(id=tag.id))
    add(20)
    assert statements_for(path.format(id=tag.id)) == small


def test_pages_with_tag_forms_have_unique_ids(client, db, login_as):
    import re
    from collections import Counter

    from crm.inquiries.queries import InquiryFilters
    from crm.saved_views.services import save_view

    me = login_as("secretary_general")
    inquiry, organisation = InquiryFactory(), OrganisationFactory()
    tag = tag_inquiry(inquiry, "remiss", me)
    tag_organisation(organisation, "remiss", me)
    save_view("Nya", InquiryFilters(status="new"), True, me)
    db.session.commit()
    for path in (
        "/inquiries",
        f"/inquiries/{inquiry.reference}",
        f"/organisations/{organisation.id}",
        "/taggar",
        f"/taggar/{tag.id}",
    ):
        page = client.get(path).text
        repeated = [i for i, n in Counter(re.findall(r'\sid="([^"]+)"', page)).items() if n > 1]
        assert repeated == [], path


def test_v5_3_3_a_tag_name_with_markup_shows_as_text_everywhere(client, db, login_as):
    from crm.inquiries.services import declare_conflict

    me = login_as("secretary_general")
    inquiry, refused = InquiryFactory(), InquiryFactory()
    declare_conflict(refused, me, "Jävig")
    other = find_or_create_tag("Annan", me)
    db.session.commit()
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    reference, other_id = inquiry.reference, other.id
    response = client.post(f"/inquiries/{reference}/tags", data={"name": evil})
    assert response.status_code == 302
    tag = db.session.scalar(select(Tag).where(Tag.name == evil))
    pages = [
        client.get(response.location).text,  # the flash and the panel with its × button
        client.get("/inquiries").text,  # the list's column and the datalist
        client.get(f"/inquiries?tag={quote(evil)}").text,
        client.get("/taggar").text,
        client.get(f"/taggar/{tag.id}").text,
        client.get(f"/taggar/{tag.id}/ta-bort").text,
        client.post(f"/taggar/{tag.id}/sla-ihop", data={"target": other_id}).text,
        client.post(f"/taggar/{other_id}/sla-ihop", data={"target": tag.id}).text,
    ]
    bulk = client.post(
        "/inquiries/bulk",
        data={"next": "/inquiries", "selected": [refused.id], "action": "tag", "tag": evil},
    )
    pages.append(client.get(bulk.location).text)
    for page in pages:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("way", ["delete", "merge"])
def test_jav_refuses_delete_and_merge_of_a_tag_on_that_inquiry_with_403(client, db, login_as, way):
    from crm.inquiries.services import declare_conflict

    me = login_as("secretary_general")
    chair = UserFactory(role="chair")
    conflicted = InquiryFactory()
    source = tag_inquiry(conflicted, "Prioriterad", chair)
    target = find_or_create_tag("Viktig", chair)
    declare_conflict(conflicted, me, "Jävig")
    db.session.commit()
    source_id, target_id, reference = source.id, target.id, conflicted.reference
    if way == "delete":
        response = client.post(f"/taggar/{source_id}/ta-bort")
    else:
        response = client.post(
            f"/taggar/{source_id}/sla-ihop", data={"target": target_id, "confirmed": "1"}
        )
    assert response.status_code == 403
    assert f"Du har anmält jäv för {reference}" in response.text
    assert count(db, inquiry_tags, inquiry_tags.c.tag_id == source_id) == 1
    assert count(db, Tag) == 2
