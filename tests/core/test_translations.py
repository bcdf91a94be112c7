"""Every UI string in the code and templates has an English translation."""

import os

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METHODS = [("crm/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def test_english_catalogue_covers_every_string():
    wanted = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(ROOT, METHODS, keywords=KEYWORDS)
    }
    path = os.path.join(ROOT, "translations", "en", "LC_MESSAGES", "messages.po")
    with open(path, "rb") as handle:
        translated = {
            m.id if isinstance(m.id, str) else m.id[0]
            for m in read_po(handle)
            if m.id and m.string and "fuzzy" not in m.flags
        }
    assert len(wanted) > 200
    missing = sorted(wanted - translated)
    assert missing == [], "run `make translations` and translate: " + "; ".join(missing[:10])
