from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from crm.choices import Addressee, Category, OrganisationType
from crm.core.forms import options
from crm.core.idempotency import OnceForm
from crm.validation import clean_line

ANY = ("", _l("Alla"))


def _optional_choices(enum_cls):
    return options([ANY, *enum_cls.choices()])


class RoutingRuleForm(OnceForm):
    name = StringField(
        _l("Namn på regeln"),
        filters=[clean_line],
        validators=[DataRequired(_l("Ge regeln ett namn.")), Length(max=120)],
    )
    addressee = SelectField(_l("Önskad mottagare"), validate_choice=False)
    category = SelectField(_l("Vad gäller det?"), validate_choice=False)
    organisation_type = SelectField(_l("Typ av organisation"), validate_choice=False)
    organisation_name = StringField(
        _l("Organisation"),
        filters=[clean_line],
        validators=[Length(max=200)],
        description=_l("Exakt namn på en organisation i registret, eller tomt för alla."),
    )
    target_user_id = SelectField(
        _l("Skicka till"),
        validators=[InputRequired(_l("Välj generalsekreteraren eller ordföranden."))],
        validate_choice=False,
    )
    active = BooleanField(_l("Regeln används"), default=True)

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.addressee.choices = _optional_choices(Addressee)
        self.category.choices = _optional_choices(Category)
        self.organisation_type.choices = _optional_choices(OrganisationType)
        self.target_user_id.choices = options(
            [("", _l("Välj …")), *((str(user.id), user.name) for user in targets)]
        )
        self._target_ids = {str(user.id) for user in targets}

    def validate_addressee(self, field):
        _optional_member(field, Addressee)

    def validate_category(self, field):
        _optional_member(field, Category)

    def validate_organisation_type(self, field):
        _optional_member(field, OrganisationType)

    def validate_target_user_id(self, field):
        if field.data not in self._target_ids:
            raise ValidationError(_l("Välj generalsekreteraren eller ordföranden."))


def _optional_member(field, enum_cls):
    if field.data and field.data not in {member.value for member in enum_cls}:
        raise ValidationError(_l("Välj ett av alternativen."))
