"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 128

# OWASP's argon2id configuration (19 MiB, 2 passes, 1 lane). argon2-cffi's own default
# (64 MiB, 4 lanes) made every log-in hold 64 MiB: a web worker with four threads could need
# 256 MiB for log-ins alone. Stored hashes with other parameters are renewed at log-in.
# A cheap profile keeps the test suite fast.
_PROFILES = {
    "default": {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1},
    "test": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}


def _hasher() -> PasswordHasher:
    profile = current_app.config.get("ARGON2_PROFILE", "default")
    return _hasher_for(profile)


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher(**_PROFILES[profile])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> tuple[bool, str | None]:
    """Check a password; also return a new hash when the parameters have changed."""
    hasher = _hasher()
    try:
        hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False, None
    if hasher.check_needs_rehash(stored_hash):
        return True, hasher.hash(password)
    return True, None


# ASVS 2.1.7: refuse passwords that are easy to guess, judged by Dropbox's zxcvbn estimator
# rather than a fixed list. Score 4 means at least 10^10 guesses. Score 3 is not enough:
# zxcvbn adds 10^4 guesses for every piece after the first, so any three pieces score 3,
# however weak each is ("Sommar" + "2024" + "!!!").
MIN_SCORE = 4

# zxcvbn's dictionaries are English; Swedish words are only known through the user inputs, and
# only in the spelling given, so each is also given with å, ä, ö folded.
_FOLD = str.maketrans("åäö", "aao")

# zxcvbn 4.5.0 knows years only up to 2019 and takes 2024 for four random digits.
_YEARS = tuple(str(year) for year in range(2020, 2051))

# zxcvbn searches its dictionaries for every substring, and its l33t matcher does so again for
# every reading of the l33t characters ("1" as i or l, "7" as l or t …): up to 736 readings.
# A 128-character string of such characters took 13 s, and zxcvbn's default max_length of 72
# still allowed 4 s. So only the longest prefix that keeps the work near this many look-ups is
# judged: 88 characters of an ordinary password, down to MIN_LENGTH; about 30 ms at most. An
# attacker must guess the prefix too; only a pattern running past the cut is seen less well.
_WORK_BUDGET = 8_000

# zxcvbn keeps the user inputs in a module-level dictionary during a call; threads take turns.
_zxcvbn_lock = threading.Lock()


def _variants(phrases: Iterable[str]) -> list[str]:
    """Each phrase, without its spaces, and each of its words, also folded; in order, once."""
    words: dict[str, None] = {}
    for phrase in phrases:
        phrase = " ".join(phrase.casefold().split())
        for form in (phrase, phrase.replace(" ", ""), *phrase.split()):
            if len(form) >= 3:
                words[form] = None
                words[form.translate(_FOLD)] = None
    return list(words)


@cache
def guessable_words() -> tuple[str, ...]:
    """Recent years and Swedish and council words (crm/data/swedish-password-words.txt)."""
    text = resources.files("crm.data").joinpath("swedish-password-words.txt").read_text("utf-8")
    lines = (line.strip() for line in text.splitlines())
    words = _variants(line for line in lines if line and not line.startswith("#"))
    return (*_YEARS, *words)


def _personal_words(email: str | None, name: str | None) -> list[str]:
    phrases = []
    if email:
        email = email.strip()
        local, _at, domain = email.partition("@")
        phrases += [email, local, domain]
        # "asa.oberg" also as "asa oberg": the variants add asaoberg, asa and oberg.
        phrases += [re.sub(r"[\W_]+", " ", part) for part in (local, domain)]
    if name:
        phrases.append(name)
    return _variants(phrases)


def _judged_part(password: str) -> str:
    from zxcvbn.matching import L33T_TABLE, enumerate_l33t_subs, relevant_l33t_subtable

    length = len(password)
    while length > MIN_LENGTH:
        table = relevant_l33t_subtable(password[:length], L33T_TABLE)
        readings = len(enumerate_l33t_subs(table))
        if (1 + readings) * length * (length + 1) // 2 <= _WORK_BUDGET:
            break
        fits = math.isqrt(2 * _WORK_BUDGET // (1 + readings))
        length = max(MIN_LENGTH, min(length - 1, fits))
    return password[:length]


def too_guessable(password: str, email: str | None = None, name: str | None = None) -> bool:
    """Whether zxcvbn scores the password below MIN_SCORE, knowing the user and Swedish words."""
    # Imported on first use: its dictionaries hold 11 MB, and most requests set no password.
    from zxcvbn import zxcvbn

    user_inputs = list(dict.fromkeys([*_personal_words(email, name), *guessable_words()]))
    judged = _judged_part(unicodedata.normalize("NFC", password))
    with _zxcvbn_lock:
        result = zxcvbn(judged, user_inputs=user_inputs, max_length=MAX_LENGTH)
    return result["score"] < MIN_SCORE


def password_problems(
    password: str, email: str | None = None, name: str | None = None
) -> list[str]:
    """Why the password is refused; empty when it is acceptable.

    Guessability is judged only when the simple rules pass: one message at a time is enough.
    zxcvbn's own feedback is English and is not shown.
    """
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Lösenordet måste ha minst %(n)d tecken.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_("Lösenordet får ha högst %(n)d tecken.", n=MAX_LENGTH))
    if email and password.strip().casefold() == email.strip().casefold():
        problems.append(_("Lösenordet får inte vara din e-postadress."))
    if not problems and too_guessable(password, email, name):
        problems.append(
            _("Lösenordet är för lätt att gissa. Använd en längre fras med flera ovanliga ord.")
        )
    return problems
