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
