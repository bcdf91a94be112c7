"""One contact per organisation and address; saving an inquiry's submitter as a contact."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm.errors import DomainError, NotPermitted
from crm.models import AuditLog, Contact
from crm.partners import services
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory


def contacts(db, **where):
    query = select(func.count()).select_from(Contact)
    for name, value in where.items():
        query = query.where(getattr(Contact, name) == value)
    return db.session.scalar(query)


@pytest.mark.parametrize("again", ["kim@museum.se", "KIM@Museum.SE", " Kim@museum.se "])
def test_the_same_address_twice_at_one_organisation_is_refused_beside_the_field(db, again):
    actor = UserFactory()
    organisation = OrganisationFactory()
    services.add_contact(organisation, {"name": "Kim", "email": "kim@museum.se"}, actor)
    with pytest.raises(DomainError) as refused:
        services.add_contact(organisation, {"name": "Kim igen", "email": again}, actor)
    assert refused.value.field == "email"
    assert "Kim är redan kontakt här" in refused.value.message
    assert contacts(db) == 1


def test_the_same_address_at_another_organisation_and_contacts_without_address_are_fine(db):
    actor = UserFactory()
    first, second = OrganisationFactory(), OrganisationFactory()
    services.add_contact(first, {"name": "Kim", "email": "kim@museum.se"}, actor)
    services.add_contact(second, {"name": "Kim", "email": "kim@museum.se"}, actor)
    services.add_contact(first, {"name": "Utan adress"}, actor)
    services.add_contact(first, {"name": "Också utan"}, actor)
    assert contacts(db) == 4


def test_changing_a_contact_to_a_colleagues_address_is_refused_its_own_is_not(db):
    actor = UserFactory()
    organisation = OrganisationFactory()
    kim = services.add_contact(organisation, {"name": "Kim", "email": "kim@museum.se"}, actor)
    services.add_contact(organisation, {"name": "Alex", "email": "alex@museum.se"}, actor)
    services.update_contact(kim, {"name": "Kim K", "email": "KIM@museum.se"}, actor)
    with pytest.raises(DomainError) as refused:
        services.update_contact(kim, {"name": "Kim", "email": "Alex@museum.se"}, actor)
    assert refused.value.field == "email"
    db.session.rollback()


def test_the_database_refuses_a_duplicate_whatever_the_case(db):
    organisation = OrganisationFactory()
    db.session.add(Contact(organisation_id=organisation.id, name="A", email="a@museum.se"))
    db.session.flush()
    db.session.add(Contact(organisation_id=organisation.id, name="B", email="A@MUSEUM.SE"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_folded_address_follows_every_change(db):
    contact = Contact(name="A", email="Ab@Museum.se")
    assert contact.email_key == "ab@museum.se"
    contact.email = None
    assert contact.email_key is None


def test_merging_keeps_a_person_at_both_organisations_once(db):
    actor = UserFactory()
    survivor, duplicate = OrganisationFactory(), OrganisationFactory()
    services.add_contact(survivor, {"name": "Kim", "email": "kim@museum.se"}, actor)
    services.add_contact(
        duplicate, {"name": "Kim K", "email": "KIM@museum.se", "phone": "070-123 45 67"}, actor
    )
    services.add_contact(duplicate, {"name": "Alex", "email": "alex@museum.se"}, actor)
    db.session.commit()
    services.merge_organisations(survivor, duplicate, actor)
    db.session.expire_all()
    rows = db.session.scalars(select(Contact).order_by(Contact.name)).all()
    assert [(c.name, c.organisation_id, c.phone) for c in rows] == [
        ("Alex", survivor.id, None),
        ("Kim", survivor.id, "070-123 45 67"),
    ]


# ---- the submitter as a contact ------------------------------------------------------------


def test_the_submitter_becomes_a_contact_once(db):
    actor = UserFactory(role="secretary_general")
    organisation = OrganisationFactory()
    inquiry = InquiryFactory(
        organisation_id=organisation.id, contact_name="Sara Sändare", email="Sara@museum.se",
        phone="070-111 22 33",
    )  # fmt: skip
    contact = services.save_submitter_as_contact(inquiry, actor)
    assert (contact.name, contact.email, contact.phone) == (
        "Sara Sändare", "Sara@museum.se", "070-111 22 33",
    )  # fmt: skip
    assert db.session.scalar(select(AuditLog.action).order_by(AuditLog.id.desc())) == (
        "contact_added"
    )
    with pytest.raises(DomainError) as again:
        services.save_submitter_as_contact(inquiry, actor)
    assert again.value.field is None  # shown above the button, which has no field
    assert "redan kontakt" in again.value.message


@pytest.mark.parametrize("role", ["chair", "board"])
def test_only_those_who_edit_both_may_save_the_submitter(db, role):
    inquiry = InquiryFactory(organisation_id=OrganisationFactory().id)
    with pytest.raises(NotPermitted):
        services.save_submitter_as_contact(inquiry, UserFactory(role=role))
    assert contacts(db) == 0


def test_an_inquiry_without_organisation_has_no_one_to_save_to(db):
    with pytest.raises(DomainError):
        services.save_submitter_as_contact(InquiryFactory(), UserFactory())


# ---- through HTTP ----------------------------------------------------------------------------


def test_the_button_saves_the_submitter_and_then_says_so(client, db, login_as):
    login_as("secretary_general")
    organisation = OrganisationFactory(name="Sändarmuseet")
    inquiry = InquiryFactory(organisation_id=organisation.id, contact_name="Sara Sändare")
    path = f"/inquiries/{inquiry.reference}"
    assert "Spara avsändaren som kontakt" in client.get(path).text
    response = client.post(f"{path}/spara-kontakt", data={"submission_id": "x" * 22})
    assert response.status_code == 302
    assert response.headers["Location"] == path
    page = client.get(path).text
    assert "Sara Sändare är kontakt där." in page
    assert "Spara avsändaren som kontakt" not in page
    assert contacts(db, organisation_id=organisation.id) == 1


def test_no_button_without_an_organisation_or_for_the_chair(client, db, login_as):
    login_as("chair")
    linked = InquiryFactory(organisation_id=OrganisationFactory().id)
    assert "Spara avsändaren som kontakt" not in client.get(f"/inquiries/{linked.reference}").text
    assert client.post(f"/inquiries/{linked.reference}/spara-kontakt").status_code == 403
    client.post("/logout")
    login_as("secretary_general")
    unlinked = InquiryFactory()
    page = client.get(f"/inquiries/{unlinked.reference}").text
    assert "Spara avsändaren som kontakt" not in page
    response = client.post(f"/inquiries/{unlinked.reference}/spara-kontakt")
    assert response.status_code == 422
    assert "Koppla förfrågan till en organisation först." in response.text


def test_a_duplicate_address_on_the_record_is_a_form_error(client, db, login_as):
    login_as("secretary_general")
    organisation = OrganisationFactory()
    path = f"/organisations/{organisation.id}/contacts"
    client.post(path, data={"name": "Karin", "email": "karin@museum.se"})
    response = client.post(path, data={"name": "Karin igen", "email": "KARIN@museum.se"})
    assert response.status_code == 422
    assert 'id="email-error"' in response.text
    assert "Karin är redan kontakt här med den e-postadressen." in response.text
    assert contacts(db) == 1


def test_a_secretary_general_with_jaev_may_not_save_the_submitter(client, db, login_as):
    """Jäv: the inquiry's data is not theirs to act on, the register's button included."""
    from crm.inquiries.services import declare_conflict

    user = login_as("secretary_general")
    inquiry = InquiryFactory(organisation_id=OrganisationFactory().id)
    declare_conflict(inquiry, user, "Min syster skrev den.")
    db.session.commit()
    path = f"/inquiries/{inquiry.reference}"
    assert "Spara avsändaren som kontakt" not in client.get(path).text
    response = client.post(f"{path}/spara-kontakt", data={"submission_id": "y" * 22})
    assert response.status_code == 403
    assert contacts(db) == 0


def test_an_anonymised_inquirys_submitter_is_not_saved(db):
    from crm.privacy.services import anonymise_inquiry

    actor = UserFactory(role="secretary_general")
    inquiry = InquiryFactory(organisation_id=OrganisationFactory().id)
    anonymise_inquiry(inquiry, actor, reason="erasure_request")
    with pytest.raises(DomainError, match="borttagna"):
        services.save_submitter_as_contact(inquiry, actor)
    assert contacts(db) == 0
