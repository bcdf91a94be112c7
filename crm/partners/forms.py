from __future__ import annotations

from email_validator import EmailNotValidError
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from crm.choices import OrganisationType, Relationship
from crm.core.forms import options
from crm.core.idempotency import OnceForm
from crm.public.forms import validate_org_number, validate_phone
from crm.regions import regions
from crm.validation import clean_line, clean_text, normalise_email


class OrganisationForm(OnceForm):
    name = StringField(
        _l("Namn"), filters=[clean_line],
        validators=[DataRequired(_l("Ange organisationens namn.")), Length(max=200)],
    )  # fmt: skip
    short_name = StringField(_l("Förkortning"), filters=[clean_line], validators=[Length(max=60)])
    org_number = StringField(
        _l("Organisationsnummer"), filters=[clean_line],
        validators=[Optional(), Length(max=20), validate_org_number],
    )  # fmt: skip
    type = SelectField(
        _l("Typ"),
        validators=[InputRequired(_l("Välj typ av organisation."))],
        validate_choice=False,
    )
    relationship = SelectField(
        _l("Relation"), validators=[InputRequired(_l("Välj relation."))], validate_choice=False
    )
    website = StringField(_l("Webbplats"), filters=[clean_line], validators=[Length(max=300)])
    email_domain = StringField(
        _l("E-postdomän"), filters=[clean_line], validators=[Length(max=120)],
        description=_l("Till exempel museum.se. Förfrågningar från den domänen kopplas hit."),
    )  # fmt: skip
    region = SelectField(_l("Län"), validate_choice=False)
    description = TextAreaField(
        _l("Beskrivning"),
        filters=[clean_text],
        validators=[Length(max=5000)],
        render_kw={"rows": 4},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type.choices = options([("", _l("Välj …")), *OrganisationType.choices()])
        self.relationship.choices = options([("", _l("Välj …")), *Relationship.choices()])
        self.region.choices = options([("", _l("Inget län")), *regions().items()])

    def validate_type(self, field):
        if field.data not in {t.value for t in OrganisationType}:
            raise ValidationError(_l("Välj ett av alternativen."))

    def validate_relationship(self, field):
        if field.data not in {r.value for r in Relationship}:
            raise ValidationError(_l("Välj ett av alternativen."))

    def validate_region(self, field):
        if field.data and field.data not in regions():
            raise ValidationError(_l("Välj län i listan."))

    def validate_email_domain(self, field):
        domain = (field.data or "").lower().lstrip("@")
        if domain and ("." not in domain or " " in domain or "/" in domain):
            raise ValidationError(_l("Ange bara domänen, till exempel museum.se."))
        field.data = domain or None


class ContactForm(OnceForm):
    name = StringField(
        _l("Namn"), filters=[clean_line],
        validators=[DataRequired(_l("Ange kontaktpersonens namn.")), Length(max=200)],
    )  # fmt: skip
    title = StringField(
        _l("Roll"), id="contact-title", filters=[clean_line], validators=[Length(max=120)]
    )
    email = EmailField(_l("E-postadress"), filters=[clean_line], validators=[Length(max=254)])
    phone = StringField(
        _l("Telefon"), filters=[clean_line], validators=[Optional(), Length(max=40), validate_phone]
    )

    def validate_email(self, field):
        if not field.data:
            field.data = None
            return
        try:
            field.data = normalise_email(field.data)
        except EmailNotValidError:
            raise ValidationError(
                _l("Ange en giltig e-postadress, till exempel namn@exempel.se.")
            ) from None


class MergeForm(OnceForm):
    duplicate = StringField(
        _l("Dubblett att slå ihop hit"), filters=[clean_line],
        validators=[DataRequired(_l("Skriv dubblettens namn.")), Length(max=200)],
    )  # fmt: skip


class SubmitterContactForm(OnceForm):
    """Save an inquiry's submitter as a contact of its organisation (one button, no fields)."""


class ImportForm(OnceForm):
    """A register file to preview before anything is written."""

    file = FileField(
        _l("Fil (.csv eller .xlsx)"),
        validators=[FileRequired(_l("Välj en fil."))],
        render_kw={"accept": ".csv,.xlsx,text/csv"},
    )


class ConfirmImportForm(OnceForm):
    """Write the previewed rows (one button)."""
