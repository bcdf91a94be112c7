"""Forms for tags: field validation only; the name rules live in `tags.services.tag_name`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from crm.core.forms import options
from crm.core.idempotency import OnceForm
from crm.tags.models import NAME_MAX
from crm.validation import clean_line


class TagForm(OnceForm):
    """Put a tag on an inquiry or an organisation; `list` names the <datalist> of tags."""

    name = StringField(
        _l("Lägg till etikett"),
        id="tag-name",
        filters=[clean_line],
        validators=[
            DataRequired(_l("Skriv etikettens namn.")),
            Length(max=NAME_MAX, message=_l("Högst %(max)d tecken.")),
        ],
        render_kw={"list": "tag-names", "autocomplete": "off", "maxlength": NAME_MAX},
    )


class UntagForm(OnceForm):
    """The small button that takes one tag off."""


class RenameTagForm(OnceForm):
    name = StringField(
        _l("Nytt namn"),
        filters=[clean_line],
        validators=[
            DataRequired(_l("Skriv etikettens namn.")),
            Length(max=NAME_MAX, message=_l("Högst %(max)d tecken.")),
        ],
        render_kw={"maxlength": NAME_MAX},
    )


class MergeTagForm(OnceForm):
    target = SelectField(
        _l("Slå ihop med"),
        validators=[InputRequired(_l("Välj etiketten att slå ihop med."))],
        validate_choice=False,
    )
    # Set by the confirmation page: the first post only shows what will happen.
    confirmed = HiddenField()

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.target.choices = options(
            [("", _l("Välj …")), *((str(tag.id), tag.name) for tag in targets)]
        )
        self._ids = {str(tag.id) for tag in targets}

    def validate_target(self, field):
        if field.data not in self._ids:
            raise ValidationError(_l("Välj etiketten att slå ihop med."))


class DeleteTagForm(OnceForm):
    """Confirmed on its own page, which says how many inquiries and organisations lose it."""
