from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from crm.core.idempotency import OnceForm
from crm.validation import clean_line


class AttachMailForm(OnceForm):
    """Put an unsorted e-mail on an existing inquiry, named by its reference."""

    reference = StringField(
        _l("Referens"),
        filters=[clean_line, lambda value: value.upper() if value else value],
        validators=[DataRequired(_l("Skriv förfrågans referens.")), Length(max=20)],
        render_kw={"placeholder": "SAM-2026-0042", "autocomplete": "off"},
    )


class DiscardMailForm(OnceForm):
    """Keep an unsorted e-mail out of the queue (spam, or nothing to act on)."""


class EmlUploadForm(OnceForm):
    """An e-mail saved from a mail program (.eml), read instead of retyped."""

    eml = FileField(
        _l("E-postmeddelande (.eml)"),
        validators=[FileRequired(_l("Välj en .eml-fil."))],
        render_kw={"accept": ".eml,message/rfc822"},
    )
