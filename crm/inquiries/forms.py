"""Staff forms on inquiries. Each action form carries the version the user saw."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Form,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import HiddenInput

from crm.choices import Channel, Priority
from crm.conversation.services import BODY_MAX
from crm.core.forms import options
from crm.core.idempotency import OnceForm
from crm.inquiries.services import CONTACT_CHANNELS, CONTACT_SUMMARY_MAX, COUNTERPART_REFERENCE_MAX
from crm.public.forms import InquiryFields
from crm.timeutil import local_now, local_zone
from crm.validation import clean_line, clean_text


class VersionedForm(OnceForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class StatusForm(VersionedForm):
    status = SelectField(
        _l("Ny status"), validators=[InputRequired(_l("Välj ny status."))], validate_choice=False
    )
    confirm_spam = BooleanField(_l("Ja, det är skräp. Ta bort personuppgifterna nu."))

    def __init__(self, *args, allowed=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = options((status.value, status.label) for status in allowed)
        self._allowed = {status.value for status in allowed}

    def validate_status(self, field):
        if field.data not in self._allowed:
            raise ValidationError(_l("Välj en av de tillåtna statusarna."))
        if field.data == "spam" and not self.confirm_spam.data:
            raise ValidationError(_l("Bekräfta att förfrågan är skräp."))


class PriorityForm(VersionedForm):
    priority = SelectField(
        _l("Prioritet"), validators=[InputRequired(_l("Välj prioritet."))], validate_choice=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.priority.choices = options(Priority.choices())

    def validate_priority(self, field):
        if field.data not in {p.value for p in Priority}:
            raise ValidationError(_l("Välj ett av alternativen."))


class AssignForm(VersionedForm):
    assignee = SelectField(
        _l("Ansvarig"), validators=[InputRequired(_l("Välj en ansvarig."))], validate_choice=False
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee.choices = options((str(user.id), user.name) for user in candidates)
        self._ids = {str(user.id) for user in candidates}

    def validate_assignee(self, field):
        if field.data not in self._ids:
            raise ValidationError(_l("Välj generalsekreteraren eller ordföranden."))


class ConflictForm(VersionedForm):
    reason = TextAreaField(
        _l("Varför är du jävig?"),
        filters=[clean_text],
        validators=[DataRequired(_l("Skriv varför du är jävig.")), Length(max=1000)],
        render_kw={"rows": 3},
    )


class ReplyForm(OnceForm):
    body = TextAreaField(
        _l("Svar till avsändaren"),
        id="reply-body",
        filters=[clean_text],
        validators=[DataRequired(_l("Skriv ett svar.")), Length(max=BODY_MAX)],
        render_kw={"rows": 6},
    )
    files = MultipleFileField(_l("Bilagor"), id="reply-files")


class AcknowledgeForm(OnceForm):
    """The submitter's answer is read and needs no reply."""


class ContactForm(OnceForm):
    """A contact with the submitter made outside Samverka ("Registrera kontakt")."""

    channel = SelectField(
        _l("Hur?"), validators=[InputRequired(_l("Välj ett av alternativen."))],
        validate_choice=False,
    )  # fmt: skip
    summary = TextAreaField(
        _l("Vad gällde kontakten?"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Skriv vad kontakten gällde.")),
            Length(max=CONTACT_SUMMARY_MAX, message=_l("Högst %(max)d tecken.")),
        ],
        render_kw={"rows": 3},
    )
    happened_at = DateTimeLocalField(
        _l("När?"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        validators=[InputRequired(_l("Ange dag och tid som ÅÅÅÅ-MM-DD TT:MM."))],
        invalid_value_message=_l("Ange dag och tid som ÅÅÅÅ-MM-DD TT:MM."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = options(
            (channel.value, CHANNEL_WORDING.get(channel, channel.label))
            for channel in CONTACT_CHANNELS
        )
        if self.happened_at.data is None and not self.happened_at.raw_data:
            self.happened_at.data = local_now().replace(second=0, microsecond=0, tzinfo=None)

    def validate_channel(self, field):
        if field.data not in {channel.value for channel in CONTACT_CHANNELS}:
            raise ValidationError(_l("Välj ett av alternativen."))

    def moment(self) -> datetime:
        """When it happened: the field is Swedish wall-clock time; the answer is UTC."""
        return self.happened_at.data.replace(tzinfo=local_zone()).astimezone(UTC)


# The channel's own label, unless a contact needs it said more precisely.
CHANNEL_WORDING = {Channel.EMAIL: _l("E-post skickad utanför Samverka")}


class OrganisationLinkForm(VersionedForm):
    action = HiddenField()
    organisation_name = StringField(
        _l("Organisation i registret"), filters=[clean_line], validators=[Length(max=200)]
    )


class CounterpartReferenceForm(VersionedForm):
    """The counterpart's own case number; empty clears it."""

    counterpart_reference = StringField(
        _l("Motpartens diarienummer"),
        filters=[clean_line],
        validators=[Length(max=COUNTERPART_REFERENCE_MAX)],
        render_kw={"autocomplete": "off"},
    )


class UseTemplateForm(Form):
    """Fill the reply with a template: a GET to the detail page, so no CSRF and no id."""

    mall = SelectField(
        _l("Svarsmall"), id="reply-template", validators=[InputRequired()], validate_choice=False
    )
    sprak = SelectField(
        _l("Svarets språk"), id="reply-language", validators=[InputRequired()],
        validate_choice=False,
    )  # fmt: skip

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.mall.choices = options(
            (str(t.id), t.name if t.shared else _l("%(name)s (egen)", name=t.name))
            for t in templates
        )
        self.sprak.choices = options([("sv", _l("svenska")), ("en", _l("engelska"))])


class LogInquiryForm(InquiryFields):
    channel = SelectField(
        _l("Hur kom förfrågan?"),
        validators=[InputRequired(_l("Välj ett av alternativen."))],
        validate_choice=False,
    )
    send_receipt = BooleanField(_l("Skicka kvitto med statuslänk till avsändaren"))
    # The unsorted e-mail this inquiry is made from, if any.
    from_mail = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = options(
            (c.value, c.label) for c in Channel if c is not Channel.WEB_FORM
        )
        # The public form speaks to the submitter; staff write about someone else.
        self.contact_name.label.text = _l("Kontaktpersonens namn")
        self.message.label.text = _l("Vad vill de samarbeta om?")
        self.addressee.label.text = _l("Vem ville de nå?")
        _say_when_missing(self.contact_name, _l("Ange kontaktpersonens namn."))
        _say_when_missing(self.email, _l("Ange kontaktpersonens e-postadress."))

    def validate_channel(self, field):
        if field.data not in {c.value for c in Channel} or field.data == Channel.WEB_FORM:
            raise ValidationError(_l("Välj ett av alternativen."))


def _say_when_missing(field, message) -> None:
    """Another "required" message on this form's copy of a field (the validators in the
    class are shared with the public form, so they are replaced, never changed)."""
    field.validators = [
        DataRequired(message) if isinstance(validator, DataRequired) else validator
        for validator in field.validators
    ]


class BulkForm(OnceForm):
    """Massåtgärd on the inquiries ticked in the list; the button pressed names the action."""

    selected = SelectMultipleField(_l("Markerade förfrågningar"), validate_choice=False)
    action = HiddenField()
    assignee = SelectField(_l("Ny ansvarig"), id="bulk-assignee", validate_choice=False)
    status = SelectField(_l("Ny status"), id="bulk-status", validate_choice=False)
    confirm_final = BooleanField(
        _l("Ja, ändra status för alla markerade även om det avslutar dem"), id="bulk-confirm"
    )
    tag = StringField(
        _l("Etikett"), id="bulk-tag", filters=[clean_line],
        render_kw={"list": "tag-names", "autocomplete": "off"},
    )  # fmt: skip
    next = HiddenField()

    def __init__(self, *args, candidates=(), **kwargs):
        from crm.inquiries.bulk import BULK_STATUSES

        super().__init__(*args, **kwargs)
        self.assignee.choices = options(
            [("", _l("Välj …")), *((str(user.id), user.name) for user in candidates)]
        )
        self._ids = {str(user.id) for user in candidates}
        self.status.choices = options(
            [("", _l("Välj …")), *((status.value, status.label) for status in BULK_STATUSES)]
        )
        self._statuses = {status.value for status in BULK_STATUSES}

    def validate_selected(self, field):
        from crm.inquiries.bulk import BULK_MAX
        from crm.validation import database_id

        ids = [database_id(value) for value in field.data or []]
        if not ids:
            raise ValidationError(_l("Markera minst en förfrågan."))
        if None in ids:
            raise ValidationError(_l("Markeringen är ogiltig. Ladda om sidan och försök igen."))
        if len(set(ids)) > BULK_MAX:
            raise ValidationError(_l("Högst %(max)d förfrågningar åt gången.", max=BULK_MAX))
        field.ids = list(dict.fromkeys(ids))

    def validate_action(self, field):
        if field.data not in {"assign", "status", "tag"}:
            raise ValidationError(_l("Välj en åtgärd."))

    def validate_assignee(self, field):
        if self.action.data == "assign" and field.data not in self._ids:
            raise ValidationError(_l("Välj generalsekreteraren eller ordföranden."))

    def validate_status(self, field):
        if self.action.data != "status":
            return
        if field.data not in self._statuses:
            raise ValidationError(_l("Välj en av de tillåtna statusarna."))

    def validate_confirm_final(self, field):
        from crm.inquiries.statuses import FINAL_STATUSES

        final = {status.value for status in FINAL_STATUSES}
        if self.action.data == "status" and self.status.data in final and not field.data:
            raise ValidationError(_l("Bekräfta att statusen ska ändras för alla markerade."))

    def validate_tag(self, field):
        if self.action.data == "tag" and not field.data:
            raise ValidationError(_l("Skriv etikettens namn."))
