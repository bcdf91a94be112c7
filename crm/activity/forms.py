"""Forms for notes and follow-ups, on inquiries and organisations alike."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from crm.choices import Recurrence
from crm.core.forms import options
from crm.core.idempotency import OnceForm
from crm.validation import clean_line, clean_text


class NoteForm(OnceForm):
    body = TextAreaField(
        _l("Intern anteckning"),
        id="note-body",
        filters=[clean_text],
        validators=[DataRequired(_l("Skriv en anteckning.")), Length(max=5000)],
        render_kw={"rows": 3},
    )
    files = MultipleFileField(_l("Bilagor"), id="note-files")


class FollowUpForm(OnceForm):
    title = StringField(
        _l("Vad ska göras?"),
        filters=[clean_line],
        validators=[DataRequired(_l("Skriv vad som ska göras.")), Length(max=200)],
    )
    due_on = DateField(
        _l("Senast"),
        validators=[InputRequired(_l("Ange ett datum som ÅÅÅÅ-MM-DD."))],
    )
    owner = SelectField(
        _l("Ansvarig"), validators=[InputRequired(_l("Välj en ansvarig."))], validate_choice=False
    )
    recurrence = SelectField(
        _l("Upprepas"),
        validators=[InputRequired(_l("Välj ett av alternativen."))],
        validate_choice=False,
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner.choices = options((str(user.id), user.name) for user in candidates)
        self.recurrence.choices = options(Recurrence.choices())
        self._ids = {str(user.id) for user in candidates}

    def validate_owner(self, field):
        if field.data not in self._ids:
            raise ValidationError(_l("Välj en ansvarig."))

    def validate_recurrence(self, field):
        if field.data not in {r.value for r in Recurrence}:
            raise ValidationError(_l("Välj ett av alternativen."))


class RescheduleForm(OnceForm):
    due_on = DateField(
        _l("Nytt datum"), validators=[InputRequired(_l("Ange ett datum som ÅÅÅÅ-MM-DD."))]
    )
