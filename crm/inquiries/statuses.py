"""Inquiry statuses, outcomes, the one table of allowed transitions and the status sets.

Every other module (config, privacy, reports, queries) takes its sets of statuses from here.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from crm.choices import Choice, labelled


@labelled(
    {
        "new": _l("Ny"),
        "triaged": _l("Bedömd"),
        "in_dialogue": _l("I dialog"),
        "on_hold": _l("Pausad"),
        "agreed": _l("Överenskommen"),
        "declined": _l("Avböjd"),
        "withdrawn": _l("Återkallad"),
        "closed": _l("Avslutad"),
        "spam": _l("Skräp"),
    }
)
class Status(Choice):
    NEW = "new"
    TRIAGED = "triaged"
    IN_DIALOGUE = "in_dialogue"
    ON_HOLD = "on_hold"
    AGREED = "agreed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"
    SPAM = "spam"


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.TRIAGED, S.DECLINED, S.WITHDRAWN, S.SPAM}),
    S.TRIAGED: frozenset({S.IN_DIALOGUE, S.DECLINED, S.WITHDRAWN, S.SPAM}),
    S.IN_DIALOGUE: frozenset({S.ON_HOLD, S.AGREED, S.DECLINED, S.WITHDRAWN}),
    S.ON_HOLD: frozenset({S.IN_DIALOGUE, S.DECLINED, S.WITHDRAWN}),
    S.AGREED: frozenset({S.CLOSED}),
    S.DECLINED: frozenset({S.CLOSED, S.TRIAGED}),
    S.WITHDRAWN: frozenset({S.CLOSED}),
    S.CLOSED: frozenset({S.TRIAGED}),
    S.SPAM: frozenset(),
}

OPEN_STATUSES = frozenset({S.NEW, S.TRIAGED, S.IN_DIALOGUE, S.ON_HOLD})
# Statuses that end the work on an inquiry; `closed_at` is set on entering one.
FINAL_STATUSES = frozenset({S.AGREED, S.DECLINED, S.WITHDRAWN, S.CLOSED, S.SPAM})
WITHDRAWABLE_STATUSES = OPEN_STATUSES
# Where the partner is waiting for a first response and its clock runs; `on_hold` pauses it.
AWAITING_RESPONSE_STATUSES = frozenset({S.NEW, S.TRIAGED, S.IN_DIALOGUE})
# A move to one of these ends the partner's wait, so it is their first response.
RESPONDING_STATUSES = frozenset({S.DECLINED, S.SPAM})


@labelled(
    {
        "agreed": _l("Överenskommen"),
        "declined": _l("Avböjd"),
        "withdrawn": _l("Återkallad"),
        "spam": _l("Skräp"),
    }
)
class Outcome(Choice):
    """How an inquiry ended; kept when it is closed, cleared when it is reopened."""

    AGREED = "agreed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    SPAM = "spam"


# The statuses that are an outcome, and the outcome each one records.
OUTCOME_OF: dict[Status, Outcome] = {
    S.AGREED: Outcome.AGREED,
    S.DECLINED: Outcome.DECLINED,
    S.WITHDRAWN: Outcome.WITHDRAWN,
    S.SPAM: Outcome.SPAM,
}
# The outcomes of real inquiries, which the dashboard counts and whose personal data is kept
# for a period set per outcome; spam is neither counted nor kept.
GENUINE_OUTCOMES = (Outcome.AGREED, Outcome.DECLINED, Outcome.WITHDRAWN)


def allowed_next(status: Status) -> list[Status]:
    """The statuses an inquiry may move to next, in workflow order."""
    return [candidate for candidate in Status if candidate in TRANSITIONS[status]]


EXPLANATIONS = {
    Status.NEW: _l("Vi har tagit emot din förfrågan och läser den snart."),
    Status.TRIAGED: _l("Vi har läst din förfrågan och bedömer hur vi kan gå vidare."),
    Status.IN_DIALOGUE: _l("Vi för en dialog om samarbetet."),
    Status.ON_HOLD: _l("Förfrågan är pausad för tillfället. Vi hör av oss när vi kan gå vidare."),
    Status.AGREED: _l("Vi har kommit överens om ett samarbete."),
    Status.DECLINED: _l("Vi har tyvärr inte möjlighet att gå vidare med förfrågan."),
    Status.WITHDRAWN: _l("Förfrågan är återkallad."),
    Status.CLOSED: _l("Ärendet är avslutat."),
    Status.SPAM: _l("Ärendet är avslutat."),
}


def explain(status: Status) -> str:
    """What the status means, in plain words for the submitter."""
    return str(EXPLANATIONS[Status(status)])
