"""The dashboard's bar charts: each bar's length is its share of the largest, labels are whole
text (never cut), and a row that links is a plain link named by what it shows."""

from flask import render_template_string

from crm.reports.charts import horizontal_bars

SOURCE = (
    '{% from "macros/charts.html" import bar_chart %}{{ bar_chart("c", "T", "D", chart, "L") }}'
)


def test_each_bar_is_its_share_of_the_largest():
    chart = horizontal_bars([("a", 8), ("b", 2), ("c", 0)])
    assert [bar.share for bar in chart["bars"]] == [100, 25, 0]
    assert horizontal_bars([("tomt", 0)])["bars"][0].share == 0  # no division by zero


def test_labels_are_drawn_whole_and_rows_link_by_their_text(app):
    long_label = "Ideell organisation eller förening med ett mycket långt namn"
    with app.test_request_context():
        html = render_template_string(
            SOURCE, chart=horizontal_bars([(long_label, 13, "/inquiries?x=1"), ("Annan", 3)])
        )
    assert f'<span class="bar-label">{long_label}</span>' in html  # not shortened
    assert '<a href="/inquiries?x=1" class="bar-row chart-link">' in html
    assert "aria-label=" not in html.split("<details>")[0]  # the name is the visible text
    assert '<rect width="100.0"' in html
    assert '<rect width="23.1"' in html
    assert 'style="' not in html  # the CSP allows no inline styles


def test_a_chart_with_no_rows_says_so(app):
    with app.test_request_context():
        html = render_template_string(SOURCE, chart=horizontal_bars([]))
    assert "Inga uppgifter för perioden." in html
