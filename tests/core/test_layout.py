"""What every page carries in its head: a description for search engines and a favicon that
exists (no 404 in the browser's console)."""

import re


def test_public_pages_have_a_description_and_an_icon_that_is_served(client):
    page = client.get("/samverkan")
    description = re.search(r'<meta name="description" content="([^"]+)">', page.text)
    assert description
    assert "länsmuseer" in description.group(1)
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page.text)
    assert icon
    served = client.get(icon.group(1))
    assert served.status_code == 200
    assert served.content_type.startswith("image/svg+xml")
    assert b"<svg" in served.data


def test_the_description_is_in_the_page_language(client):
    client.post("/language", data={"lang": "en"})
    page = client.get("/samverkan")
    assert re.search(r'<meta name="description" content="[^"]*regional museums', page.text)


def test_staff_pages_fold_the_menu_into_one_details_row_for_phones(client, login_as):
    login_as("secretary_general")
    page = client.get("/inbox").text
    wide = re.search(r'<nav class="container main-nav wide-only".*?</nav>', page, re.S).group(0)
    phone = re.search(
        r'<details class="container phone-menu narrow-only">.*?</details>', page, re.S
    )
    assert phone, "the phone menu is a <details>, so it opens without JavaScript"
    links = re.findall(r'<a href="(/[^"]*)"', wide)
    assert len(links) >= 6
    assert re.findall(r'<a href="(/[^"]*)"', phone.group(0))[: len(links)] == links
    assert "<summary>Meny" in phone.group(0)
    assert page.count('id="wide-search-q"') == page.count('id="phone-search-q"') == 1


def test_the_public_pages_have_no_staff_menu(client):
    page = client.get("/samverkan").text
    assert "phone-menu" not in page
    assert "main-nav" not in page


def test_the_error_summary_lists_errors_that_name_no_field(app):
    """WTForms 3.2+ keeps a form's own errors under the key '' in form.errors; the summary
    must list them, not look up a field called ''."""
    from flask_wtf import FlaskForm
    from wtforms import StringField

    class Form(FlaskForm):
        name = StringField("Namn")

    with app.test_request_context(method="POST", data={"name": ""}):
        form = Form(meta={"csrf": False})
        form.validate()
        form.form_errors.append("Registret har ändrats.")
        form.name.errors = ["Skriv ett namn."]
        assert "" in form.errors or None in form.errors
        html = app.jinja_env.from_string(
            '{% from "macros/forms.html" import error_summary %}{{ error_summary(form) }}'
        ).render(form=form)
    assert "Registret har ändrats." in html
    assert 'href="#name">Namn: Skriv ett namn.' in html
