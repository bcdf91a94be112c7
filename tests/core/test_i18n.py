"""The fast language look-ups give exactly what Flask-Babel's own give, `force_locale` included."""

from __future__ import annotations

import pytest
from flask import render_template_string, session
from flask_babel import force_locale, get_locale, gettext

from crm import i18n
from crm.i18n import language, translations

TEMPLATE = (
    "{{ _('Organisation') }}|{{ _('Inkom') }}|{{ ngettext('%(num)d fil', '%(num)d filer', 2) }}"
)


def test_the_language_is_the_default_then_the_chosen_one(app):
    with app.test_request_context("/"):
        assert language() == "sv"
    with app.test_request_context("/"):
        session["lang"] = "en"
        assert language() == "en" == str(get_locale())


@pytest.mark.parametrize("outer", ["sv", "en"])
def test_force_locale_wins_inside_and_ends_outside(app, outer):
    inner = "en" if outer == "sv" else "sv"
    with app.test_request_context("/"):
        session["lang"] = outer
        assert language() == outer  # the request's choice is made and kept first
        with force_locale(inner):
            assert language() == inner
            assert translations().ugettext("Inkom") == gettext("Inkom")
        assert language() == outer
        assert translations().ugettext("Inkom") == gettext("Inkom")


def test_templates_translate_as_flask_babel_does_in_both_languages(app):
    with app.test_request_context("/"):
        with force_locale("sv"):
            swedish = render_template_string(TEMPLATE)
        with force_locale("en"):
            english = render_template_string(TEMPLATE)
            assert english.split("|")[0] == gettext("Organisation")
    assert swedish.startswith("Organisation|Inkom|")
    assert english.startswith("Organisation|Received|")
    assert swedish != english


def test_template_translations_escape_what_they_format(app):
    with app.test_request_context("/"):
        rendered = render_template_string(
            "{{ _('Kontakt tillagd: %(name)s', name=name) }}", name="<b>x</b>"
        )
    assert "&lt;b&gt;x&lt;/b&gt;" in rendered


def test_outside_a_request_the_default_language_is_used(app):
    with app.app_context():
        assert language() == "sv"


@pytest.mark.parametrize(
    ("code", "message"), [("sv", "Inte ett giltigt val"), ("en", "Not a valid choice.")]
)
def test_wtforms_own_messages_follow_the_language(app, code, message):
    from flask_wtf import FlaskForm
    from wtforms import SelectField

    from crm.core.forms import options

    class Choice(FlaskForm):
        pick = SelectField(choices=options([("a", "A")]))

    with app.test_request_context("/", method="POST", data={"pick": "b"}):
        session["lang"] = code
        form = Choice(meta={"csrf": False})
        assert not form.validate()
        assert form.pick.errors == [message]


# What Jinja's own newstyle callables do, in HTML (autoescaped) and in text (mail bodies).
JINJA_CASES = [
    "{{ _('Inkom') }}",
    "{{ _('Kontakt tillagd: %(name)s', name=name) }}",
    "{{ gettext('Kontakt tillagd: %(name)s', name=name) }}",
    "{{ _('100%% klart') }}",  # always a format string: %% is %
    "{% trans %}Inkom{% endtrans %}",
    "{% trans who=name %}Hej {{ who }}{% endtrans %}",
    "{% trans count=n %}{{ count }} fil{% pluralize %}{{ count }} filer{% endtrans %}",
    "{{ ngettext('%(num)d fil', '%(num)d filer', n) }}",
    "{{ ngettext('%(num)d fil av %(of)s', '%(num)d filer av %(of)s', n, of=name) }}",
    "{{ _('Inkom') ~ name }}",
]


@pytest.mark.parametrize("autoescape", [True, False], ids=["html", "text"])
@pytest.mark.parametrize("source", JINJA_CASES)
@pytest.mark.parametrize("code", ["sv", "en"])
def test_the_one_call_template_gettext_renders_as_jinjas_own(app, source, autoescape, code):
    """crm.i18n replaces Jinja's `_`, `gettext` and `ngettext` with one-call versions; a
    plain Jinja environment with its own newstyle callables over the same catalogue must
    render every case alike."""
    from jinja2 import Environment

    reference = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)  # noqa: S701
    reference.install_gettext_callables(
        gettext=lambda string: translations().ugettext(string),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
    )
    ours = app.jinja_env.overlay(autoescape=autoescape)
    values = {"name": "<b>Åsa & co</b>", "n": 3}
    with app.test_request_context("/"), force_locale(code):
        expected = reference.from_string(source).render(values)
        rendered = ours.from_string(source).render(values)
    assert rendered == expected
    assert ours.globals["_"] is ours.globals["gettext"] is i18n._template_gettext
