from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from crm.core.forms import options
from crm.core.idempotency import OnceForm
from crm.reply_templates.models import NAME_MAX, TEXT_MAX
from crm.validation import clean_line, clean_text

SHARED, PERSONAL = "shared", "personal"


class ReplyTemplateForm(OnceForm):
    name = StringField(
        _l("Namn"),
        filters=[clean_line],
        validators=[DataRequired(_l("Ge mallen ett namn.")), Length(max=NAME_MAX)],
    )
    scope = RadioField(_l("Vem ser mallen?"), default=PERSONAL, validate_choice=False)
    text_sv = TextAreaField(
        _l("Text på svenska"),
        filters=[clean_text],
        validators=[DataRequired(_l("Skriv mallens svenska text.")), Length(max=TEXT_MAX)],
        render_kw={"rows": 10},
    )
    text_en = TextAreaField(
        _l("Text på engelska"),
        filters=[clean_text],
        validators=[Length(max=TEXT_MAX)],
        render_kw={"rows": 10},
    )

    def __init__(self, *args, scopes=(), **kwargs):
        super().__init__(*args, **kwargs)
        labels = {SHARED: _l("Alla som svarar (delad)"), PERSONAL: _l("Bara jag (egen)")}
        self.scope.choices = options((scope, labels[scope]) for scope in scopes)
        if len(scopes) == 1 and not self.scope.raw_data:
            self.scope.data = scopes[0]

    def validate_scope(self, field):
        if field.data not in {choice.value for choice in self.scope.choices}:
            raise ValidationError(_l("Välj ett av alternativen."))


class DeleteTemplateForm(OnceForm):
    """Confirm that the template goes."""
