"""Every letter's case is folded, by every way a word is looked up.

SQLite's lower() and LIKE fold A–Z only: "ÖREBRO" would be found through the FTS5 index (which
folds every letter) but not by a walk with LIKE, which is used for words under three characters
and for words common enough to walk. `crm.core.sql.contains_word` folds with Python on SQLite
for a word with such letters; these tests take each path with upper-case text and lower-case
words, and the other way round.
"""

import pytest
from sqlalchemy import select

from crm.conversation.models import Direction, Message, MessageChannel
from crm.core.sql import contains_word
from crm.extensions import db as _db
from crm.inquiries import queries as inquiry_queries
from crm.inquiries.models import Inquiry
from crm.inquiries.queries import InquiryFilters, filter_conditions
from crm.models import Contact
from crm.partners.queries import OrganisationFilters, list_organisations
from crm.search.queries import search_everything
from tests.factories import InquiryFactory, OrganisationFactory


class Reader:
    def can(self, _permission):
        return True


@pytest.fixture(params=["index", "walk"])
def path(request, monkeypatch):
    """On SQLite a word matching COMMON rows or more is walked instead of looked up; COMMON=1
    makes every word walk."""
    if request.param == "walk":
        monkeypatch.setattr(inquiry_queries, "COMMON", 1)
    return request.param


@pytest.fixture
def records(db):
    museum = OrganisationFactory(name="ÖREBRO LÄNS MUSEUM", short_name="ÖLM")
    db.session.add(Contact(organisation_id=museum.id, name="ÅSA ÖSTLUND", email="asa@lm.se"))
    upper = InquiryFactory(
        subject="UTSTÄLLNING I ÖREBRO",
        message="Se rubriken.",
        organisation_name="ÅS HEMBYGDSFÖRENING",
    )
    lower = InquiryFactory(
        subject="utställning i östersund", message="Se rubriken.", organisation_name="öns förening"
    )
    InquiryFactory(subject="Något annat", message="Ett prov.", organisation_name="Annan förening")
    db.session.add(
        Message(inquiry_id=lower.id, direction=Direction.INBOUND, channel=MessageChannel.EMAIL,
                body="HÄLSNINGAR FRÅN ÖREBRO")
    )  # fmt: skip
    db.session.commit()
    return {"upper": upper.id, "lower": lower.id}


def listed(term: str) -> set[int]:
    found = filter_conditions(InquiryFilters(q=term), None)
    return set(_db.session.scalars(select(Inquiry.id).where(*found)))


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("örebro", {"upper"}),  # indexed word, text in capitals
        ("ÖSTERSUND", {"lower"}),  # indexed word in capitals, text in lower case
        ("utställning örebro", {"upper"}),
        ("ås", {"upper"}),  # under three characters: never through the index
        ("ÖN", {"lower"}),
        ("utställning", {"upper", "lower"}),
    ],
)
def test_the_list_search_folds_every_letter(records, path, term, found):
    assert listed(term) == {records[key] for key in found}


@pytest.mark.parametrize("term", ["örebro", "ÖREBRO", "Örebro"])
def test_search_everything_folds_every_letter_in_every_group(records, path, term):
    groups = search_everything(term, Reader())
    counts = {name: group.count for name, group in groups.items()}
    assert counts == {"inquiries": 1, "organisations": 1, "contacts": 0, "messages": 1}
    assert search_everything("åsa östlund", Reader())["contacts"].count == 1
    assert search_everything("ölm", Reader())["organisations"].count == 1


@pytest.mark.parametrize("term", ["örebro läns", "ÖREBRO", "ölm", "läns museum"])
def test_the_register_filter_folds_every_letter(records, term):
    rows, _ = list_organisations(OrganisationFilters(q=term))
    assert [organisation.name for organisation, *_ in rows] == ["ÖREBRO LÄNS MUSEUM"]


def test_only_a_word_with_letters_beyond_a_to_z_is_folded_in_python(db):
    """Folding in Python costs about four times SQLite's lower() per row read: a word of A–Z
    letters does not pay for it, and another word only for rows that pass a LIKE first."""
    ascii_sql = str(contains_word(Inquiry.subject, "utstallning").compile(_db.engine))
    swedish_sql = str(contains_word(Inquiry.subject, "utställning").compile(_db.engine))
    assert "fold(" not in ascii_sql
    if _db.engine.dialect.name == "sqlite":
        assert swedish_sql.index("lower(inquiries.subject)") < swedish_sql.index("fold(")
    else:
        assert "fold(" not in swedish_sql


def test_the_rough_pattern_lets_every_spelling_through(db):
    """The LIKE before the fold takes each letter beyond A–Z as any one character."""
    inquiry = InquiryFactory(subject="Om Ålänningar_och 100% ÄLG")
    for word in ["ålänningar_och", "100% älg", "ÅLÄNNINGAR", "r_o"]:
        found = _db.session.scalars(
            select(Inquiry.id).where(contains_word(Inquiry.subject, word.lower()))
        ).all()
        assert found == [inquiry.id], word
    wrong = select(Inquiry.id).where(contains_word(Inquiry.subject, "ålänningarxoch"))
    assert _db.session.scalars(wrong).all() == []
