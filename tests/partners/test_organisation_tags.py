"""The register filters by tag and shows each organisation's tags (issue 18: "tags on
inquiries and organisations, with filter")."""

from crm.partners.queries import OrganisationFilters, list_organisations
from crm.tags.services import tag_organisation
from tests.factories import OrganisationFactory


def test_the_register_filters_by_a_tag_in_any_case(client, db, login_as):
    me = login_as("secretary_general")
    jamtli, vasa, other = (OrganisationFactory(name=n) for n in ("Jamtli", "Vasamuseet", "Annat"))
    with client.application.test_request_context():
        tag_organisation(jamtli, "Folk och Kultur 2027", me)
        tag_organisation(vasa, "folk och kultur 2027", me)
        tag_organisation(other, "Remiss", me)
    db.session.commit()

    rows, _ = list_organisations(OrganisationFilters.from_args({"tag": "FOLK OCH KULTUR 2027"}))
    assert {organisation.name for organisation, *_ in rows} == {"Jamtli", "Vasamuseet"}

    page = client.get("/organisations?tag=folk+och+kultur+2027").text
    assert "Jamtli" in page
    assert "Annat" not in page
    assert 'value="folk och kultur 2027"' in page  # the filter is kept in its field
    assert '<a class="tag" href="/organisations?tag=Folk+och+Kultur+2027">' in page


def test_the_register_loads_all_tags_of_a_page_at_once(db, login_as, statements_for):
    me = login_as("secretary_general")
    OrganisationFactory()

    def add(n):
        for organisation in OrganisationFactory.create_batch(n):
            tag_organisation(organisation, f"Etikett {organisation.id % 3}", me)
        db.session.commit()

    from flask import current_app

    with current_app.test_request_context():
        add(2)
    few = statements_for("/organisations")
    with current_app.test_request_context():
        add(20)
    assert statements_for("/organisations") == few
