"""Enumerations stored as readable strings, each with a translated Swedish label."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

_LABELS: dict[type, dict] = {}


class Choice(StrEnum):
    """A StrEnum whose members know their translated label."""

    @property
    def label(self) -> str:
        # Pages show the same few labels on every row: translate each once per language.
        return _translated(type(self), self.value, str(get_locale() or ""))

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]


@lru_cache(maxsize=2048)
def _translated(enum_cls: type, value: str, locale: str) -> str:
    return str(_LABELS[enum_cls][enum_cls(value)])


def labelled(labels: dict):
    """Class decorator attaching one label per member; a missing label fails at import."""

    def attach(enum_cls):
        missing = set(enum_cls) - set(labels)
        if missing:
            raise TypeError(f"{enum_cls.__name__} lacks labels for {sorted(missing)}")
        _LABELS[enum_cls] = {enum_cls(key): value for key, value in labels.items()}
        return enum_cls

    return attach


@labelled(
    {
        "web_form": _l("Webbformulär"),
        "email": _l("E-post"),
        "phone": _l("Telefon"),
        "meeting": _l("Möte"),
        "other": _l("Annat"),
    }
)
class Channel(Choice):
    WEB_FORM = "web_form"
    EMAIL = "email"
    PHONE = "phone"
    MEETING = "meeting"
    OTHER = "other"


@labelled(
    {
        "museum": _l("Museum"),
        "government_agency": _l("Myndighet"),
        "municipality_region": _l("Kommun eller region"),
        "university": _l("Universitet eller högskola"),
        "civil_society": _l("Ideell organisation eller förening"),
        "company": _l("Företag"),
        "other": _l("Annan"),
    }
)
class OrganisationType(Choice):
    MUSEUM = "museum"
    GOVERNMENT_AGENCY = "government_agency"
    MUNICIPALITY_REGION = "municipality_region"
    UNIVERSITY = "university"
    CIVIL_SOCIETY = "civil_society"
    COMPANY = "company"
    OTHER = "other"


@labelled(
    {
        "exhibition": _l("Utställning"),
        "research": _l("Forskning"),
        "education": _l("Utbildning och lärande"),
        "digital_heritage": _l("Digitalt kulturarv"),
        "policy_dialogue": _l("Kulturpolitisk dialog"),
        "event_conference": _l("Evenemang eller konferens"),
        "funding_project": _l("Finansiering eller projekt"),
        "other": _l("Annat"),
    }
)
class Category(Choice):
    EXHIBITION = "exhibition"
    RESEARCH = "research"
    EDUCATION = "education"
    DIGITAL_HERITAGE = "digital_heritage"
    POLICY_DIALOGUE = "policy_dialogue"
    EVENT_CONFERENCE = "event_conference"
    FUNDING_PROJECT = "funding_project"
    OTHER = "other"


@labelled(
    {
        "secretary_general": _l("Generalsekreteraren"),
        "chair": _l("Ordföranden"),
        "no_preference": _l("Ingen preferens"),
    }
)
class Addressee(Choice):
    SECRETARY_GENERAL = "secretary_general"
    CHAIR = "chair"
    NO_PREFERENCE = "no_preference"


@labelled({"low": _l("Låg"), "normal": _l("Normal"), "high": _l("Hög")})
class Priority(Choice):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


@labelled(
    {
        "member": _l("Medlemsmuseum"),
        "prospect": _l("Möjlig partner"),
        "active_partner": _l("Aktiv partner"),
        "former_partner": _l("Tidigare partner"),
    }
)
class Relationship(Choice):
    MEMBER = "member"
    PROSPECT = "prospect"
    ACTIVE_PARTNER = "active_partner"
    FORMER_PARTNER = "former_partner"


@labelled({"none": _l("Ingen"), "yearly": _l("Varje år")})
class Recurrence(Choice):
    NONE = "none"
    YEARLY = "yearly"
