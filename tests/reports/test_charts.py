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
