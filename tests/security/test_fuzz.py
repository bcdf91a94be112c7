"""Property-based fuzzing through HTTP: never a 5xx, never a stored row from an invalid form."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from crm.models import Inquiry
from tests.public.helpers import form_data

FUZZ = settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
FIELDS = ["organisation_name", "organisation_type", "organisation_number", "contact_name", "email",
          "phone", "category", "subject", "message", "addressee", "consent"]  # fmt: skip


def is_valid(app, data) -> bool:
    """Whether the form itself accepts the data (the oracle for 'nothing stored')."""
    from crm.public.forms import PublicInquiryForm

    with app.test_request_context(method="POST", data=data):
        return PublicInquiryForm(meta={"csrf": False}).validate()


@FUZZ
@given(
    overrides=st.dictionaries(st.sampled_from(FIELDS), text, max_size=6),
    regions=st.lists(st.sampled_from(["01", "12", "00", "99", "", "x"]), max_size=4),
)
def test_public_form_never_fails_and_stores_only_valid_submissions(
    app, client, db, overrides, regions
):
    data = form_data(app, **overrides)
    data["regions"] = regions
    before = db.session.scalar(select(func.count()).select_from(Inquiry))
    response = client.post("/samverkan", data=data)
    assert response.status_code < 500
    stored = db.session.scalar(select(func.count()).select_from(Inquiry)) - before
    if response.status_code == 302:
        assert stored == 1
        assert is_valid(app, data)
    else:
        assert stored == 0


FILTERS = ["q", "status", "assignee", "category", "region", "organisation_type", "year", "overdue",
           "sort", "after", "before", "type", "relationship", "quarter", "delimiter"]  # fmt: skip


PAGES = ["/inquiries", "/organisations", "/pipeline", "/dashboard", "/export/inquiries.csv"]


@settings(FUZZ, max_examples=400)
@given(
    params=st.dictionaries(st.sampled_from(FILTERS), text, max_size=5),
    path=st.sampled_from(PAGES),
)
def test_search_and_filters_never_fail(client, login_as_once, params, path):
    response = client.get(path, query_string=params)
    assert response.status_code == 200


@pytest.fixture
def login_as_once(login_as):
    """One log-in for all of Hypothesis's examples in the test."""
    return login_as("secretary_general")
