"""The register's rules, called directly: name keys, matching, saving, merging, contacts."""

import pytest
from sqlalchemy import func, select

from crm.activity.models import FollowUp, Note, TimelineEvent
from crm.errors import DomainError
from crm.models import AuditLog, Contact, Inquiry, Organisation
from crm.partners import services
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Sörmlands Museum", "sörmlands museum"),
        ("  SÖRMLANDS   museum AB ", "sörmlands museum"),
        ("Kulturlyftet ideell förening", "kulturlyftet"),
        ("Bygdens Ek. för.", "bygdens"),
        ("Föreningen Ab-Ba", "föreningen ab ba"),
        ("Abba", "abba"),  # a name that only ends in a suffix's letters keeps them
    ],
)
def test_normalise_name(name, key):
    assert services.normalise_name(name) == key


@pytest.mark.parametrize(
    ("email", "domain"),
    [("a@Museum.SE", "museum.se"), ("a@gmail.com", None), ("a@outlook.se", None), ("nope", None)],
)
def test_email_domain_of(email, domain):
    assert services.email_domain_of(email) == domain


def test_matching_prefers_number_then_name_then_a_unique_domain(db):
    by_number = OrganisationFactory(name="Numret", org_number="556036-0793")
    by_name = OrganisationFactory(name="Namnet")
    by_domain = OrganisationFactory(name="Domänen", email_domain="domanen.se")
    match = services.match_organisation
    assert match("556036-0793", "Namnet", "a@domanen.se") == by_number
    assert match(None, "NAMNET ab", "a@domanen.se") == by_name
    assert match(None, "Okänd", "a@domanen.se") == by_domain
    assert match(None, "Okänd", "a@gmail.com") is None
    assert match("212000-1355", "Okänd", "a@annat.se") is None


def test_a_domain_shared_by_two_organisations_matches_neither(db):
    OrganisationFactory(email_domain="region.se")
    OrganisationFactory(email_domain="region.se")
    assert services.match_organisation(None, "Okänd", "a@region.se") is None


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("", None),
        ("www.Museum.se", "https://www.museum.se"),
        ("http://museum.se/om/", "http://museum.se/om"),
        ("https://museum.se:8443/x", "https://museum.se:8443/x"),
    ],
)
def test_normalise_website(given, stored):
    assert services.normalise_website(given) == stored


@pytest.mark.parametrize(
    "given", ["ftp://museum.se", "museum", "museum .se", "javascript:alert(1)"]
)
def test_normalise_website_refuses_what_is_no_web_address(given):
    with pytest.raises(DomainError) as refused:
        services.normalise_website(given)
    assert refused.value.field == "website"


def organisation_values(**overrides):
    return {"name": "Kulturens hus", "type": "museum", "relationship": "prospect", **overrides}


def test_save_keeps_names_and_numbers_unique(db):
    actor = UserFactory()
    first = services.save_organisation(None, organisation_values(org_number="556036-0793"), actor)
    with pytest.raises(DomainError) as same_name:
        services.save_organisation(None, organisation_values(name="KULTURENS HUS ab"), actor)
    assert same_name.value.field == "name"
    with pytest.raises(DomainError) as same_number:
        services.save_organisation(
            None, organisation_values(name="Annat", org_number="556036-0793"), actor
        )
    assert same_number.value.field == "org_number"
    # saving an organisation under its own name and number is no clash
    services.save_organisation(first, organisation_values(org_number="556036-0793"), actor)
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1
    actions = db.session.scalars(select(AuditLog.action)).all()
    assert actions.count("organisation_created") == 1
    assert actions.count("organisation_updated") == 1


def test_merge_moves_everything_and_keeps_what_the_survivor_lacks(db):
    actor = UserFactory()
    survivor = OrganisationFactory(name="Jamtli")
    duplicate = OrganisationFactory(
        name="Jamtli stiftelse", org_number="556036-0793", website="https://jamtli.com"
    )
    inquiry = InquiryFactory(organisation_id=duplicate.id)
    db.session.add_all(
        [
            Contact(organisation_id=duplicate.id, name="Kim"),
            Note(organisation_id=duplicate.id, author_id=actor.id, body="n"),
            FollowUp(title="f", due_on=inquiry.created_at.date(), organisation_id=duplicate.id),
        ]
    )
    db.session.commit()
    moved = services.merge_organisations(survivor, duplicate, actor)
    db.session.expire_all()  # the merge moves rows in bulk, past the session's copies
    assert moved["inquiries"] == moved["contacts"] == moved["notes"] == moved["follow_ups"] == 1
    assert db.session.get(Inquiry, inquiry.id).organisation_id == survivor.id
    assert db.session.get(Organisation, survivor.id).org_number == "556036-0793"
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1
    merged = db.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "merged"))
    assert merged.organisation_id == survivor.id


def test_an_organisation_cannot_be_merged_with_itself(db):
    organisation = OrganisationFactory()
    with pytest.raises(DomainError):
        services.merge_organisations(organisation, organisation, UserFactory())


def test_create_from_an_inquiry_refuses_a_duplicate_name(db):
    actor = UserFactory()
    inquiry = InquiryFactory(organisation_name="Nya föreningen", email="a@nyaforeningen.se")
    created = services.create_organisation_from_inquiry(inquiry, actor)
    assert (created.name, created.email_domain) == ("Nya föreningen", "nyaforeningen.se")
    again = InquiryFactory(organisation_name="NYA FÖRENINGEN", email="b@gmail.com")
    with pytest.raises(DomainError) as refused:
        services.create_organisation_from_inquiry(again, actor)
    assert refused.value.field == "organisation_name"


def test_contacts_are_added_changed_and_removed_on_the_record(db):
    actor = UserFactory()
    organisation = OrganisationFactory()
    contact = services.add_contact(
        organisation, {"name": "Kim", "email": "kim@museum.se", "title": ""}, actor
    )
    assert contact.title is None  # empty stays empty, not ""
    services.update_contact(contact, {"name": "Kim K", "phone": "070-1"}, actor)
    assert (contact.name, contact.email, contact.phone) == ("Kim K", None, "070-1")
    services.remove_contact(contact, actor)
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
    kinds = db.session.scalars(
        select(TimelineEvent.kind).where(TimelineEvent.organisation_id == organisation.id)
    ).all()
    assert kinds == ["contact_added", "contact_removed"]
