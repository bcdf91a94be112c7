"""The dashboard's bar charts leave room for their labels: none is cut at the left edge."""

import pytest

from crm.choices import Category, OrganisationType
from crm.reports.charts import CHAR_WIDTH, horizontal_bars


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("choices", [Category, OrganisationType], ids=["category", "type"])
def test_every_label_fits_its_column(app, lang, choices):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(lang):
        labels = [choice.label for choice in choices]
        chart = horizontal_bars([(label, index) for index, label in enumerate(labels)])
    shown = [label[: chart["label_chars"]] for label in labels]
    # the label is drawn right-aligned ending 8 px before the bars
    assert all(len(label) * CHAR_WIDTH <= chart["label_width"] - 8 for label in shown)
    assert chart["width"] > chart["label_width"]


def test_a_very_long_label_is_shortened_not_cut(app):
    chart = horizontal_bars([("x" * 80, 3), ("kort", 1)])
    assert chart["label_width"] >= chart["label_chars"] * CHAR_WIDTH
    assert chart["label_width"] < 80 * CHAR_WIDTH


def test_a_chart_with_any_link_is_no_image(app):
    """An image must not contain links (axe: nested-interactive): whether the SVG is role=img
    depends on every bar, not only the first (a län code no longer known has no link)."""
    from flask import render_template_string

    source = (
        '{% from "macros/charts.html" import bar_chart %}{{ bar_chart("c", "T", "D", chart, "L") }}'
    )
    with app.test_request_context():
        mixed = render_template_string(
            source, chart=horizontal_bars([("Okänt län", 5, None), ("Uppsala", 2, "/x")])
        )
        plain = render_template_string(source, chart=horizontal_bars([("A", 5), ("B", 2)]))
    assert 'href="/x"' in mixed
    assert 'role="img"' not in mixed
    assert 'role="img"' in plain
