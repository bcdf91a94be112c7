"""Staff forms on inquiries. Each action form carries the version the user saw."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import HiddenInput

from crm.choices import Channel, Priority
from crm.conversation.services import BODY_MAX
from crm.core.forms import options
from crm.core.idempotency import OnceForm
from crm.inquiries.services import CONTACT_CHANNELS, CONTACT_SUMMARY_MAX
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

    def validate_channel(self, field):
        if field.data not in {c.value for c in Channel} or field.data == Channel.WEB_FORM:
            raise ValidationError(_l("Välj ett av alternativen."))
