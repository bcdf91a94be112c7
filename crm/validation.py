"""Small validators shared by forms and CLI commands."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

# Control characters (C0, C1, DEL) except tab and newline; they have no place in form text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_control_characters(value: str) -> str:
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def clean_text(value: str | None) -> str:
    """Normalise text from a form: NFC, no control characters, trimmed."""
    if value is None:
        return ""
    return strip_control_characters(unicodedata.normalize("NFC", value)).strip()


def has_hidden_characters(value: str) -> bool:
    """Whether a name holds control or invisible formatting characters (zero-width, bidi
    overrides): in a name others see, they let one thing pass for another."""
    return any(unicodedata.category(char) in {"Cc", "Cf"} for char in value)


def normalise_email(value: str) -> str:
    """The e-mail address in canonical form, or EmailNotValidError (syntax only, no DNS)."""
    result = validate_email(value.strip(), check_deliverability=False)
    return result.normalized.lower()


def is_valid_email(value: str) -> bool:
    try:
        normalise_email(value)
    except EmailNotValidError:
        return False
    return True


ORG_NUMBER = re.compile(r"^(\d{6})-?(\d{4})$")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def normalise_org_number(value: str) -> str | None:
    """`NNNNNN-NNNN` when the Swedish organisation number is well formed and Luhn-valid."""
    match = ORG_NUMBER.match(value.strip())
    if not match or not luhn_ok(match.group(1) + match.group(2)):
        return None
    return f"{match.group(1)}-{match.group(2)}"


def clean_line(value: str | None) -> str:
    """Like clean_text, for one-line fields: every run of white space becomes one space."""
    return " ".join(clean_text(value).split())


# The largest id a database integer holds (SQLite and PostgreSQL bigint).
MAX_ID = 2**63 - 1
# The largest id our `integer` primary keys hold. Compared one at a time a larger number just
# finds no row, but PostgreSQL casts each value of an IN list to the column's type and refuses
# one that does not fit: ids from a form that go into IN lists are checked against this.
MAX_ROW_ID = 2**31 - 1


def database_id(value: str | None) -> int | None:
    """An id typed into a URL or form, or None when it is no id a row can have. ASCII digits
    only ("²" is a digit to `str.isdigit` but not to `int`) and within a database integer."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdecimal()):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def plausible_year(value: str | None) -> int | None:
    """A year typed into a filter (2000–2100), or None."""
    number = database_id(value)
    return number if number is not None and 2000 <= number <= 2100 else None
