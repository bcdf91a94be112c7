"""Reply templates' rules, called directly: placeholders, language, who manages which."""

from datetime import date

import pytest
from sqlalchemy import func, select

from crm.errors import DomainError, NotPermitted
from crm.models import AuditLog, ReplyTemplate
from crm.reply_templates.queries import templates_for, visible_template
from crm.reply_templates.services import (
    DEFAULTS,
    PLACEHOLDERS,
    create_template,
    delete_template,
    expand,
    may_manage,
    render_for,
    reply_language,
    seed_templates,
    unknown_placeholders,
    update_template,
)
from tests.factories import InquiryFactory, UserFactory

VALUES = {
    "kontakt": "Anna Andersson",
    "referens": "SAM-2026-0042",
    "organisation": "Exempelmuseet",
    "handläggare": "Greta Generalsekreterare",
    "datum": "2 december 2026",
}


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


@pytest.fixture
def secretary(db):
    return UserFactory(role="secretary_general", name="Greta Generalsekreterare")


# ---- placeholders ------------------------------------------------------------------------


def test_every_placeholder_is_filled_in():
    text = "Hej {kontakt} på {organisation}! Om {referens}, {datum}. /{handläggare}"
    assert expand(text, VALUES) == (
        "Hej Anna Andersson på Exempelmuseet! Om SAM-2026-0042, 2 december 2026. "
        "/Greta Generalsekreterare"
    )


@pytest.mark.parametrize(
    "text",
    ["{", "}", "{}", "{{kontakt}", "{ kontakt }", "{okänd}", "}{", "a {b c} d", "{0}", "{x!r}",
     "%(kontakt)s", "{kontakt", "kontakt}"],
)  # fmt: skip
def test_stray_braces_and_unknown_words_stay_as_written_and_never_raise(text):
    assert expand(text, VALUES) == text.replace("{kontakt}", "Anna Andersson")


def test_a_placeholder_without_a_value_stays_visible():
    assert expand("Hej {kontakt}, {datum}", {**VALUES, "kontakt": "", "datum": None}) == (
        "Hej {kontakt}, {datum}"
    )


def test_a_value_is_never_expanded_again():
    assert expand("{kontakt}", {**VALUES, "kontakt": "{referens}"}) == "{referens}"


def test_unknown_placeholders_are_found_once_in_order():
    assert unknown_placeholders("{namn} {kontakt} {Kontakt} {namn} { } {") == ["namn", "Kontakt"]
    assert unknown_placeholders(" ".join(f"{{{name}}}" for name in PLACEHOLDERS)) == []


# ---- language -----------------------------------------------------------------------------


def test_the_reply_is_in_the_submitters_language_else_swedish(ctx, db, secretary, monkeypatch):
    monkeypatch.setattr("crm.reply_templates.services.local_today", lambda: date(2026, 12, 2))
    template = ReplyTemplate(
        name="t", text_sv="Hej {kontakt}, {datum}", text_en="Dear {kontakt}, {datum}"
    )
    english = InquiryFactory(language="en")
    assert reply_language(english) == "en"
    assert render_for(template, english, secretary) == "Dear Anna Andersson, 2 December 2026"
    unknown = InquiryFactory(language=None)
    assert reply_language(unknown) == "sv"
    assert render_for(template, unknown, secretary) == "Hej Anna Andersson, 2 december 2026"
    # a language chosen by the writer wins; nonsense is ignored
    assert render_for(template, unknown, secretary, "en").startswith("Dear")
    assert render_for(template, english, secretary, "xx").startswith("Dear")


def test_without_english_text_the_swedish_is_used(ctx, db, secretary, monkeypatch):
    monkeypatch.setattr("crm.reply_templates.services.local_today", lambda: date(2026, 12, 2))
    template = ReplyTemplate(name="t", text_sv="Hej {kontakt}, {datum}", text_en=None)
    assert render_for(template, InquiryFactory(language="en"), secretary) == (
        "Hej Anna Andersson, 2 december 2026"
    )


def test_the_writer_is_the_handlaggare_not_the_assignee(ctx, db, secretary):
    chair = UserFactory(role="chair", name="Olof Ordförande")
    inquiry = InquiryFactory(assignee_id=chair.id)
    template = ReplyTemplate(name="t", text_sv="{handläggare}")
    assert render_for(template, inquiry, secretary) == "Greta Generalsekreterare"


# ---- saving ------------------------------------------------------------------------------


def test_an_unknown_placeholder_is_refused_beside_its_field(ctx, db, secretary):
    with pytest.raises(DomainError) as refused:
        create_template("Tack", "Hej {kontakt}", "Dear {contact}", secretary, shared=True)
    assert refused.value.field == "text_en"
    assert "{contact}" in refused.value.message
    with pytest.raises(DomainError) as refused:
        create_template("Tack", "Hej {namn}", None, secretary, shared=True)
    assert refused.value.field == "text_sv"
    assert db.session.scalar(select(func.count()).select_from(ReplyTemplate)) == 0


def test_stray_braces_may_be_saved(ctx, db, secretary):
    template = create_template("Kod", "Skriv {  } eller { så här", None, secretary, shared=False)
    assert template.text_sv == "Skriv {  } eller { så här"


@pytest.mark.parametrize(
    ("name", "text_sv", "field"), [("", "x", "name"), ("  ", "x", "name"), ("N", " ", "text_sv")]
)
def test_a_name_and_swedish_text_are_required(ctx, db, secretary, name, text_sv, field):
    with pytest.raises(DomainError) as refused:
        create_template(name, text_sv, "", secretary, shared=False)
    assert refused.value.field == field


def test_create_edit_and_delete_are_audited(ctx, db, secretary):
    template = create_template("Tack", "Hej {kontakt}", "", secretary, shared=True)
    assert template.text_en is None  # empty English means none
    update_template(template, "Tack!", "Hej igen {kontakt}", "Hi {kontakt}", secretary)
    delete_template(template, secretary)
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["reply_template_created", "reply_template_updated", "reply_template_deleted"]
    assert db.session.scalar(select(func.count()).select_from(ReplyTemplate)) == 0


# ---- who may do what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "shared", "allowed"),
    [
        ("secretary_general", True, True), ("secretary_general", False, True),
        ("admin", True, True), ("admin", False, False),
        ("chair", True, False), ("chair", False, True),
        ("board", True, False), ("board", False, False),
    ],
)  # fmt: skip
def test_who_may_create_which_kind(ctx, db, role, shared, allowed):
    user = UserFactory(role=role)
    if allowed:
        template = create_template("M", "Hej", None, user, shared=shared)
        assert template.owner_id == (None if shared else user.id)
    else:
        with pytest.raises(NotPermitted):
            create_template("M", "Hej", None, user, shared=shared)


def test_a_personal_template_is_its_owners_alone(ctx, db, secretary):
    other = UserFactory(role="secretary_general")
    mine = create_template("Min", "Hej", None, secretary, shared=False)
    assert may_manage(mine, secretary)
    assert not may_manage(mine, other)
    assert visible_template(mine.id, other) is None
    assert mine not in templates_for(other)
    with pytest.raises(NotPermitted):
        update_template(mine, "Hans", "Hej", None, other)
    with pytest.raises(NotPermitted):
        delete_template(mine, other)


def test_shared_templates_are_managed_with_template_manage_only(ctx, db, secretary):
    shared = create_template("Delad", "Hej", None, secretary, shared=True)
    chair, admin = UserFactory(role="chair"), UserFactory(role="admin")
    assert shared in templates_for(chair)  # the chair uses it
    assert not may_manage(shared, chair)  # but does not change it
    with pytest.raises(NotPermitted):
        update_template(shared, "Ändrad", "Hej", None, chair)
    assert may_manage(shared, admin)
    update_template(shared, "Ändrad", "Hej", None, admin)
    assert shared.name == "Ändrad"


def test_the_list_has_shared_first_then_own_by_name(ctx, db, secretary):
    chair = UserFactory(role="chair")
    own_b = create_template("B egen", "x", None, chair, shared=False)
    own_a = create_template("A egen", "x", None, chair, shared=False)
    shared = create_template("Z delad", "x", None, secretary, shared=True)
    create_template("Inte din", "x", None, secretary, shared=False)
    assert templates_for(chair) == [shared, own_a, own_b]
    admin = UserFactory(role="admin")
    assert templates_for(admin) == [shared]


# ---- the default set ---------------------------------------------------------------------


def test_seeding_adds_the_defaults_once_and_never_brings_one_back(ctx, db, secretary):
    assert seed_templates() == len(DEFAULTS)
    names = db.session.scalars(select(ReplyTemplate.name).order_by(ReplyTemplate.id)).all()
    assert names == [name for name, _sv, _en in DEFAULTS]
    assert seed_templates() == 0
    first = db.session.scalar(select(ReplyTemplate).order_by(ReplyTemplate.id))
    delete_template(first, secretary)
    assert seed_templates() == 0  # the council's set now: a removed default stays removed
    assert db.session.scalar(select(func.count()).select_from(ReplyTemplate)) == len(DEFAULTS) - 1


def test_removing_every_default_does_not_bring_them_back(ctx, db, secretary):
    """`make run` seeds on every start: a council that removed all the defaults (to start
    from an empty list) must not find them back after the next restart."""
    seed_templates()
    for template in db.session.scalars(select(ReplyTemplate)).all():
        delete_template(template, secretary)
    assert seed_templates() == 0
    assert db.session.scalar(select(func.count()).select_from(ReplyTemplate)) == 0


def test_the_defaults_use_only_known_placeholders():
    for name, text_sv, text_en in DEFAULTS:
        assert unknown_placeholders(text_sv) == [], name
        assert unknown_placeholders(text_en) == [], name


def test_seed_templates_command(runner, db):
    result = runner.invoke(args=["crm", "seed-templates"])
    assert result.exit_code == 0, result.output
    assert f"Seeded {len(DEFAULTS)}" in result.output
    assert "Seeded 0" in runner.invoke(args=["crm", "seed-templates"]).output
