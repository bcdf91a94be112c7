"""Likely duplicates: suggested, never merged without a person; the page stays bounded."""

from crm.models import Contact
from crm.partners.queries import duplicate_suggestions
from tests.factories import OrganisationFactory


def test_organisations_sharing_a_domain_or_a_name_but_for_spaces(db):
    first = OrganisationFactory(name="Jamtli", email_domain="jamtli.com")
    second = OrganisationFactory(name="Jamtli stiftelse", email_domain="jamtli.com")
    spaced = OrganisationFactory(name="Jam tli")
    OrganisationFactory(name="Ensam", email_domain="ensam.se")
    found = duplicate_suggestions()
    assert found.same_domain == [[first, second]]
    assert found.similar_name == [[first, spaced]]


def test_contacts_sharing_an_address_across_organisations_or_a_name_within_one(db):
    museum, region = OrganisationFactory(name="Museet"), OrganisationFactory(name="Regionen")
    kim_museum = Contact(organisation_id=museum.id, name="Kim", email="kim@exempel.se")
    kim_region = Contact(organisation_id=region.id, name="Kim R", email="KIM@exempel.se")
    alex = Contact(organisation_id=museum.id, name="Alex Berg", email="alex@museet.se")
    alex_again = Contact(organisation_id=museum.id, name="alex berg")
    alex_elsewhere = Contact(organisation_id=region.id, name="Alex Berg")
    db.session.add_all([kim_museum, kim_region, alex, alex_again, alex_elsewhere])
    db.session.commit()
    found = duplicate_suggestions()
    assert found.shared_address == [[kim_museum, kim_region]]
    assert found.same_name_contacts == [[alex, alex_again]]
    assert found.same_domain == found.similar_name == []


def test_nothing_alike_suggests_nothing(db):
    OrganisationFactory(name="Ett", email_domain="ett.se")
    OrganisationFactory(name="Två", email_domain="tva.se")
    assert not duplicate_suggestions()


def test_the_page_links_each_suggestion_into_the_merge(client, db, login_as):
    login_as("secretary_general")
    first = OrganisationFactory(name="Jamtli", email_domain="jamtli.com")
    OrganisationFactory(name="Jamtli stiftelse", email_domain="jamtli.com")
    page = client.get("/organisations/dubbletter").text
    assert f'href="/organisations/{first.id}/merge?duplicate=Jamtli+stiftelse"' in page
    merge = client.get(f"/organisations/{first.id}/merge?duplicate=Jamtli+stiftelse").text
    assert 'value="Jamtli stiftelse"' in merge  # filled in; the person still confirms
    assert 'href="/organisations/dubbletter"' in client.get("/organisations").text


def test_only_register_editors_see_the_page(client, db, login_as):
    login_as("chair")
    assert client.get("/organisations/dubbletter").status_code == 403


def test_the_page_costs_the_same_with_many_duplicates(db, login_as, statements_for):
    login_as("secretary_general")

    def add(n, start):
        organisations = [
            OrganisationFactory.build(name=f"Dubbel {start + i}", email_domain=f"d{start + i}.se")
            for i in range(n)
        ] + [
            OrganisationFactory.build(name=f"Dub bel {start + i}", email_domain=f"d{start + i}.se")
            for i in range(n)
        ]
        db.session.add_all(organisations)
        db.session.flush()
        for organisation in organisations:
            db.session.add_all([
                Contact(organisation_id=organisation.id, name="Kim", email=f"kim{start}@x.se"),
                Contact(organisation_id=organisation.id, name="kim"),
            ])  # fmt: skip
        db.session.commit()

    add(2, 0)
    small = statements_for("/organisations/dubbletter")
    add(80, 100)
    assert statements_for("/organisations/dubbletter") == small


def test_the_record_names_its_likely_duplicates_with_a_merge_link(client, db, login_as):
    login_as("secretary_general")
    jamtli = OrganisationFactory(name="Jamtli", email_domain="jamtli.com")
    OrganisationFactory(name="Jamtli stiftelse", email_domain="jamtli.com")
    OrganisationFactory(name="Jam tli")
    OrganisationFactory(name="Annat", email_domain="annat.se")
    page = client.get(f"/organisations/{jamtli.id}").text
    panel = page.split('id="dup-title"')[1].split("</section>")[0]
    assert "Jamtli stiftelse" in panel
    assert "Jam tli" in panel
    assert "Annat" not in panel
    assert f"/organisations/{jamtli.id}/merge?duplicate=Jam+tli" in panel


def test_a_reader_sees_the_duplicates_without_merge_links(client, db, login_as):
    login_as("board")
    first = OrganisationFactory(name="Jamtli", email_domain="jamtli.com")
    OrganisationFactory(name="Jamtli stiftelse", email_domain="jamtli.com")
    page = client.get(f"/organisations/{first.id}").text
    assert "Jamtli stiftelse" in page.split('id="dup-title"')[1]
    assert "/merge?" not in page
    alone = OrganisationFactory(name="Ensam", email_domain="ensam.se")
    assert 'id="dup-title"' not in client.get(f"/organisations/{alone.id}").text
