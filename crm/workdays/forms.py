from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from crm.core.idempotency import OnceForm
from crm.validation import clean_line

DATE_FORMAT = _l("Ange ett datum som ÅÅÅÅ-MM-DD.")


class ClosureDayForm(OnceForm):
    """A day to add; whether it may be a closure day is the service's decision."""

    day = DateField(
        _l("Datum"),
        validators=[InputRequired(DATE_FORMAT)],
        invalid_value_message=DATE_FORMAT,
        description=_l("En vardag från och med i dag, till exempel 2026-12-28."),
    )
    reason = StringField(
        _l("Anledning"),
        filters=[clean_line],
        validators=[
            DataRequired(_l("Skriv varför kansliet har stängt.")),
            Length(max=200, message=_l("Skriv högst 200 tecken.")),
        ],
        description=_l("Till exempel ”Klämdag” eller ”Personaldag”."),
    )
