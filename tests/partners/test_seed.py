"""The seed gives standing partners and member museums their websites and e-mail domains, so
mail from a partner's domain finds the partner from the first day; it never undoes staff's work."""

import pytest
from sqlalchemy import select

from crm.models import Organisation
from crm.partners import services
from tests.factories import OrganisationFactory

SEED = services.load_partner_seed()


def named(db, name):
    return db.session.scalar(
        select(Organisation).where(Organisation.name_key == services.normalise_name(name))
    )


def test_the_seed_has_usable_websites_and_distinct_organisation_domains():
    domains = [entry["email_domain"] for entry in SEED if entry.get("email_domain")]
    assert len(domains) == len(set(domains))
    assert not set(domains) & services.PUBLIC_MAIL_DOMAINS
    for entry in SEED:
        if entry.get("website"):
            assert services.normalise_website(entry["website"]) == entry["website"], entry["name"]
        if entry.get("email_domain"):
            assert entry["email_domain"] == entry["email_domain"].lower().strip()
            assert "." in entry["email_domain"]
            assert "@" not in entry["email_domain"]


@pytest.mark.parametrize(
    ("address", "name"),
    [
        ("anna.andersson@raa.se", "Riksantikvarieämbetet"),
        ("kansli@SverigesMuseer.se", "Sveriges Museer"),
        ("intendent@jamtli.com", "Jamtli"),
        ("info@kulturen.com", "Kulturen i Lund"),
    ],
)
def test_mail_from_a_partners_domain_matches_the_partner(db, address, name):
    services.seed_partners()
    found = services.match_organisation(None, "Ett namn som inte finns", address)
    assert found is not None
    assert found.name == name


def test_seeding_fills_what_existing_records_lack_and_runs_again_as_a_no_op(db):
    raa = OrganisationFactory(name="Riksantikvarieämbetet", type="government_agency")
    created, _follow_ups, filled = services.seed_partners()
    assert created == len(SEED) - 1
    assert filled == 2
    assert (raa.website, raa.email_domain) == ("https://www.raa.se", "raa.se")
    assert services.seed_partners()[::2] == (0, 0)


def test_seeding_never_replaces_what_staff_entered(db):
    jamtli = OrganisationFactory(
        name="Jamtli", website="https://jamtli.example", email_domain="jamtli.example"
    )
    services.seed_partners()
    assert (jamtli.website, jamtli.email_domain) == ("https://jamtli.example", "jamtli.example")


def test_a_domain_another_organisation_already_has_is_not_given_twice(db):
    other = OrganisationFactory(name="Stiftelsen Jamtli förr", email_domain="jamtli.com")
    services.seed_partners()
    jamtli = named(db, "Jamtli")
    assert jamtli.email_domain is None
    assert jamtli.website == "https://www.jamtli.com"
    assert services.match_organisation(None, "Okänd", "a@jamtli.com") == other
