"""Property-based fuzzing through HTTP: never a 5xx, never a stored row from an invalid form."""

import re

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


# ---- every GET route, every parameter ----------------------------------------------------------

ODD = st.one_of(
    text.map(lambda value: value[:60]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from([str(2**63), "²", "١٢", "\x00", "a\x00b", "-1", "0", "..", "%2e%2e%2f",
                     "\r\nSet-Cookie: x=1", " ", "SAM-2026-0001", "SAM-9999-99999999999999"]),
)  # fmt: skip
PARAMS = [*FILTERS, "next", "hela", "mail", "action", "actor", "date", "page", "lang", "token"]


def get_routes(app) -> list:
    return sorted(
        (rule for rule in app.url_map.iter_rules()
         if "GET" in rule.methods and rule.endpoint != "static"),
        key=lambda rule: rule.rule,
    )  # fmt: skip


def path_with(rule, values: list[str]) -> str:
    from urllib.parse import quote

    path, pieces = rule.rule, iter(values)
    for argument in sorted(rule.arguments):
        pattern = re.compile(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{argument}>")
        path = pattern.sub(quote(next(pieces, "x"), safe=""), path)
    return path


@pytest.mark.parametrize("role", ["anonymous", "secretary_general", "admin"])
def test_every_get_route_answers_odd_parameters_without_a_5xx(app, client, db, login_as, role):
    """Every GET route, with odd path values and query parameters (huge ids, non-ASCII
    digits, NUL bytes, line breaks), as a visitor and as two roles: never a server error, and
    a streamed answer (the CSV) is whole."""
    if role != "anonymous":
        login_as(role)
    routes = get_routes(app)

    @settings(FUZZ, max_examples=250)
    @given(
        index=st.integers(min_value=0, max_value=len(routes) - 1),
        values=st.lists(ODD, min_size=2, max_size=2),
        params=st.dictionaries(st.sampled_from(PARAMS), ODD, max_size=3),
    )
    def probe(index, values, params):
        path = path_with(routes[index], values)
        response = client.get(path, query_string=params)
        body = response.get_data()  # a stream that breaks off raises here
        assert response.status_code < 500, (path, params, body[:200])

    probe()
