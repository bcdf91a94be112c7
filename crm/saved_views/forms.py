from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from crm.core.idempotency import OnceForm
from crm.saved_views.models import NAME_MAX
from crm.validation import clean_line


class SavedViewForm(OnceForm):
    """Spara vyn: the filters come from `next`, the list address the form was on."""

    name = StringField(
        _l("Namn på vyn"),
        id="view-name",
        filters=[clean_line],
        validators=[
            DataRequired(_l("Ge vyn ett namn.")),
            Length(max=NAME_MAX, message=_l("Högst %(max)d tecken.")),
        ],
        render_kw={"maxlength": NAME_MAX},
    )
    shared = BooleanField(_l("Dela med alla som ser förfrågningarna"), id="view-shared")
    next = HiddenField()
