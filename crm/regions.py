"""Sweden's 21 län and 'hela landet', from the shipped regions.json."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

WHOLE_COUNTRY = "00"


@cache
def regions() -> dict[str, str]:
    """Region code → name, in the order of the file (län by code, then the whole country).
    The län keep their Swedish names in English too (they are names); "Hela landet" is
    translated when shown."""
    from flask_babel import lazy_gettext as _l

    text = resources.files("crm.data").joinpath("regions.json").read_text("utf-8")
    names = {entry["code"]: entry["name"] for entry in json.loads(text)["regions"]}
    names[WHOLE_COUNTRY] = _l("Hela landet")
    return names


def region_name(code: str | None) -> str:
    return str(regions().get(code or "", ""))
