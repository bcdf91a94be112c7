"""Read forms out of a page the way a browser would submit them."""

from __future__ import annotations

from html.parser import HTMLParser


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._textarea: tuple[dict, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action"), "fields": [], "texts": []})
        elif not self.forms:
            return
        elif tag == "input" and attributes.get("type") == "hidden":
            self.forms[-1]["fields"].append((attributes.get("name"), attributes.get("value", "")))
        elif tag == "textarea":
            self._textarea = (attributes, "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea = (self._textarea[0], self._textarea[1] + data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None and self.forms:
            attributes, text = self._textarea
            self.forms[-1]["texts"].append((attributes, text))
            self._textarea = None


def forms(page: str) -> list[dict]:
    """Every form: its action, its hidden fields [(name, value)] and its textareas."""
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def form_posting_to(page: str, action: str) -> dict:
    matching = [form for form in forms(page) if form["action"] == action]
    assert len(matching) == 1, f"expected one form posting to {action}, found {len(matching)}"
    return matching[0]


def without_csrf(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in fields if name != "csrf_token"]


def csrf_token(page: str) -> str:
    for form in forms(page):
        for name, value in form["fields"]:
            if name == "csrf_token":
                return value
    raise AssertionError("no CSRF token on the page")
