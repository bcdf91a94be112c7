"""The public inquiry form. Field validation only; the rules live in services."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError
from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from crm.choices import Addressee, Category, OrganisationType
from crm.conversation.services import BODY_MAX
from crm.core.forms import options
from crm.core.idempotency import OnceForm
from crm.inquiries.intake import IntakeData
from crm.regions import regions
from crm.validation import clean_line, clean_text, normalise_email, normalise_org_number

PHONE = re.compile(r"^\+?[0-9 ()\-]{6,25}$")


def _blank_choice(pairs) -> list:
    return options([("", _l("Välj …")), *pairs])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def validate_email_syntax(form, field):
    try:
        field.data = normalise_email(field.data)
    except EmailNotValidError:
        raise ValidationError(
            _l("Ange en giltig e-postadress, till exempel namn@exempel.se.")
        ) from None


def validate_org_number(form, field):
    if not field.data:
        field.data = None
        return
    normalised = normalise_org_number(field.data)
    if normalised is None:
        raise ValidationError(
            _l("Ange organisationsnumret som NNNNNN-NNNN. Kontrollera siffrorna.")
        )
    field.data = normalised


def validate_phone(form, field):
    if field.data and (not PHONE.match(field.data) or sum(c.isdigit() for c in field.data) < 6):
        raise ValidationError(_l("Ange ett telefonnummer med siffror, till exempel 070-123 45 67."))


class InquiryFields(OnceForm):
    """Fields shared by the public form and staff's 'log an inquiry' form."""

    organisation_name = StringField(
        _l("Organisationens namn"),
        filters=[clean_line],
        validators=[
            DataRequired(_l("Ange organisationens namn.")),
            Length(max=200, message=_l("Högst %(max)d tecken.")),
        ],
        render_kw={"autocomplete": "organization"},
    )
    organisation_type = SelectField(
        _l("Typ av organisation"),
        choices=_blank_choice(OrganisationType.choices()),
        validators=[InputRequired(_l("Välj typ av organisation."))],
        validate_choice=False,
    )
    organisation_number = StringField(
        _l("Organisationsnummer"),
        filters=[clean_line],
        validators=[Optional(), Length(max=20), validate_org_number],
    )
    contact_name = StringField(
        _l("Ditt namn"),
        filters=[clean_line],
        validators=[
            DataRequired(_l("Ange ditt namn.")),
            Length(max=200, message=_l("Högst %(max)d tecken.")),
        ],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("E-postadress"),
        filters=[clean_line],
        validators=[
            DataRequired(_l("Ange din e-postadress.")),
            Length(max=254, message=_l("Högst %(max)d tecken.")),
            validate_email_syntax,
        ],
        render_kw={"autocomplete": "email"},
    )
    phone = StringField(
        _l("Telefon"),
        filters=[clean_line],
        validators=[
            Optional(),
            Length(max=40, message=_l("Högst %(max)d tecken.")),
            validate_phone,
        ],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    category = SelectField(
        _l("Vad gäller det?"),
        choices=_blank_choice(Category.choices()),
        validators=[InputRequired(_l("Välj vad förfrågan gäller."))],
        validate_choice=False,
    )
    regions = MultiCheckboxField(_l("Län som berörs"), choices=[], validate_choice=False)
    subject = StringField(
        _l("Rubrik"),
        filters=[clean_line],
        validators=[
            DataRequired(_l("Skriv en kort rubrik.")),
            Length(max=200, message=_l("Rubriken får ha högst %(max)d tecken.")),
        ],
    )
    message = TextAreaField(
        _l("Beskriv ert förslag"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Beskriv vad ni vill samarbeta om.")),
            Length(max=5000, message=_l("Texten får ha högst %(max)d tecken.")),
        ],
        render_kw={"rows": 8},
    )
    addressee = RadioField(
        _l("Vem vill du helst ska ta emot förfrågan?"),
        choices=[],
        default=Addressee.NO_PREFERENCE.value,
        validators=[InputRequired(_l("Välj mottagare."))],
        validate_choice=False,
    )
    files = MultipleFileField(_l("Bilagor"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labels are translated per request, so choices are built here, not at import.
        self.regions.choices = options(regions().items())
        self.addressee.choices = options(Addressee.choices())
        self.organisation_type.choices = _blank_choice(OrganisationType.choices())
        self.category.choices = _blank_choice(Category.choices())

    def intake_data(self) -> IntakeData:
        """What the form says about the new inquiry, for `submit_inquiry`."""
        return IntakeData(
            organisation_name=self.organisation_name.data,
            organisation_type=OrganisationType(self.organisation_type.data),
            organisation_number=self.organisation_number.data,
            contact_name=self.contact_name.data,
            email=self.email.data,
            phone=self.phone.data,
            category=Category(self.category.data),
            regions=self.regions.data or [],
            subject=self.subject.data,
            message=self.message.data,
            addressee=Addressee(self.addressee.data),
            consent=bool(getattr(self, "consent", None) and self.consent.data),
        )

    def validate_organisation_type(self, field):
        _check_choice(field, OrganisationType)

    def validate_category(self, field):
        _check_choice(field, Category)

    def validate_addressee(self, field):
        _check_choice(field, Addressee)

    def validate_regions(self, field):
        known = regions()
        if any(code not in known for code in field.data or []):
            raise ValidationError(_l("Välj län i listan."))


def _check_choice(field, enum_cls):
    if field.data not in {member.value for member in enum_cls}:
        raise ValidationError(_l("Välj ett av alternativen."))


class PublicInquiryForm(InquiryFields):
    consent = BooleanField(
        _l("Jag har läst hur samarbetsrådet behandlar mina personuppgifter."),
        validators=[DataRequired(_l("Bekräfta att du har läst integritetsmeddelandet."))],
    )
    # Spam traps: a field people never see and a signed time the form was shown.
    website = StringField(_l("Lämna det här fältet tomt"))
    started = HiddenField()


class WithdrawForm(OnceForm):
    pass


class StatusReplyForm(OnceForm):
    """The submitter answers on their status page."""

    body = TextAreaField(
        _l("Ditt svar"),
        id="answer-body",
        filters=[clean_text],
        validators=[DataRequired(_l("Skriv ditt svar.")), Length(max=BODY_MAX)],
        render_kw={"rows": 6},
    )
    files = MultipleFileField(_l("Bilagor"), id="answer-files")
