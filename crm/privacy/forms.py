"""The admin's forms for requests from individuals."""

from __future__ import annotations

from email_validator import EmailNotValidError
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField
from wtforms.validators import DataRequired, Length, ValidationError

from crm.core.idempotency import OnceForm
from crm.validation import clean_line, normalise_email


def _an_address(form, field):
    try:
        field.data = normalise_email(field.data)
    except EmailNotValidError:
        raise ValidationError(_l("Ange en giltig e-postadress.")) from None


class PersonForm(FlaskForm):
    email = EmailField(
        _l("Personens e-postadress"),
        filters=[clean_line],
        validators=[DataRequired(_l("Ange en e-postadress.")), Length(max=254), _an_address],
        render_kw={"autocomplete": "off"},
    )


class ExportForm(FlaskForm):
    email = HiddenField(validators=[DataRequired(), Length(max=254), _an_address])


class EraseForm(OnceForm):
    email = HiddenField(validators=[DataRequired(), Length(max=254), _an_address])
    confirm = BooleanField(
        _l("Jag har kontrollerat att begäran kommer från personen själv, och att inget skäl "
           "att behålla uppgifterna väger tyngre."),
        validators=[DataRequired(_l("Bekräfta innan uppgifterna raderas."))],
    )  # fmt: skip
