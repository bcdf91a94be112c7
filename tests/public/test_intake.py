"""What happens to a valid submission: organisation matching and routing."""

import pytest
from sqlalchemy import select

from crm.models import Inquiry, RoutingRule, TimelineEvent
from tests.factories import OrganisationFactory, UserFactory
from tests.public.helpers import form_data


def submitted(db):
    return db.session.scalar(select(Inquiry).order_by(Inquiry.id.desc()))


@pytest.mark.parametrize(
    ("form", "org_attrs", "matches"),
    [
        (
            {"organisation_number": "556036-0793"},
            {"org_number": "556036-0793", "name": "Annat namn"},
            True,
        ),
        ({"organisation_name": "SÖRMLANDS  museum AB"}, {"name": "Sörmlands museum"}, True),
        (
            {"organisation_name": "Okänd förening", "email": "a@sormlandsmuseum.se"},
            {"name": "Sörmlands museum", "email_domain": "sormlandsmuseum.se"},
            True,
        ),
        (
            {"organisation_name": "Okänd förening", "email": "a@gmail.com"},
            {"name": "Sörmlands museum", "email_domain": "gmail.com"},
            False,
        ),
        ({"organisation_name": "Helt annan förening"}, {"name": "Sörmlands museum"}, False),
    ],
    ids=["org-number", "normalised-name", "e-mail-domain", "webmail-domain-ignored", "no-match"],
)
def test_organisation_matching(app, client, db, form, org_attrs, matches):
    organisation = OrganisationFactory(**org_attrs)
    client.post("/samverkan", data=form_data(app, **form))
    inquiry = submitted(db)
    assert (inquiry.organisation_id == organisation.id) is matches
    if not matches:
        assert inquiry.organisation_id is None


def test_two_organisations_on_one_domain_are_left_for_staff(app, client, db):
    OrganisationFactory(email_domain="region.se")
    OrganisationFactory(email_domain="region.se")
    client.post("/samverkan", data=form_data(app, organisation_name="Ny", email="x@region.se"))
    assert submitted(db).organisation_id is None


def test_name_match_wins_over_many_organisations_on_the_domain(app, client, db):
    """Matching fetches few rows at once: the best match must not fall outside them."""
    for _ in range(5):
        OrganisationFactory(email_domain="kommun.se")
    named = OrganisationFactory(name="Kulturförvaltningen Ås", email_domain="kommun.se")
    numbered = OrganisationFactory(org_number="212000-1355", email_domain="kommun.se")
    client.post(
        "/samverkan",
        data=form_data(app, organisation_name="Kulturförvaltningen Ås", email="x@kommun.se"),
    )
    assert submitted(db).organisation_id == named.id
    client.post(
        "/samverkan",
        data=form_data(
            app,
            organisation_name="Kulturförvaltningen Ås",
            organisation_number="212000-1355",
            email="y@kommun.se",
        ),
    )
    assert submitted(db).organisation_id == numbered.id


def test_submitter_wish_for_the_chair_is_honoured(app, client, db):
    UserFactory(role="secretary_general")
    chair = UserFactory(role="chair")
    client.post("/samverkan", data=form_data(app, addressee="chair"))
    assert submitted(db).assignee_id == chair.id


def test_routing_rule_wins_and_is_named_on_the_timeline(app, client, db):
    UserFactory(role="secretary_general")
    chair = UserFactory(role="chair")
    db.session.add(
        RoutingRule(
            position=1,
            name="Forskning till ordföranden",
            category="research",
            target_user_id=chair.id,
        )
    )
    db.session.commit()
    client.post("/samverkan", data=form_data(app, category="research"))
    inquiry = submitted(db)
    assert inquiry.assignee_id == chair.id
    routed = db.session.scalar(
        select(TimelineEvent).where(
            TimelineEvent.inquiry_id == inquiry.id, TimelineEvent.kind == "routed"
        )
    )
    assert routed.data["rule"] == "Forskning till ordföranden"
    assert routed.data["assignee_id"] == chair.id


def test_without_staff_the_inquiry_waits_unassigned(app, client, db):
    client.post("/samverkan", data=form_data(app))
    assert submitted(db).assignee_id is None


def test_references_count_up_within_the_year(app, client, db):
    for n in range(3):
        client.post("/samverkan", data=form_data(app, email=f"n{n}@exempel.se"))
    references = db.session.scalars(select(Inquiry.reference).order_by(Inquiry.id)).all()
    assert [r.rsplit("-", 1)[1] for r in references] == ["0001", "0002", "0003"]
