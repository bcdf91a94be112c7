from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from crm.auth.permissions import Role
from crm.core.forms import options
from crm.core.idempotency import OnceForm
from crm.validation import clean_line


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-postadress"),
        filters=[clean_line],
        validators=[DataRequired(_l("Ange din e-postadress.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Lösenord"),
        validators=[DataRequired(_l("Ange ditt lösenord.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Nuvarande lösenord"),
        validators=[DataRequired(_l("Ange ditt nuvarande lösenord.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("Nytt lösenord"),
        validators=[DataRequired(_l("Ange ett nytt lösenord.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Upprepa det nya lösenordet"),
        validators=[DataRequired(_l("Upprepa lösenordet.")),
                    EqualTo("new_password", _l("Lösenorden är inte lika."))],
        render_kw={"autocomplete": "new-password"},
    )  # fmt: skip


class InviteUserForm(OnceForm):
    name = StringField(
        _l("Namn"),
        filters=[clean_line],
        validators=[DataRequired(_l("Ange ett namn.")), Length(max=120)],
        render_kw={"autocomplete": "off"},
    )
    email = EmailField(
        _l("E-postadress"),
        filters=[clean_line],
        validators=[DataRequired(_l("Ange en e-postadress.")), Length(max=254)],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(
        _l("Roll"), choices=[], validate_choice=False,
        validators=[InputRequired(_l("Välj en roll."))],
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = options(Role.choices())


class RoleForm(OnceForm):
    role = SelectField(
        _l("Roll"), choices=[], validate_choice=False,
        validators=[InputRequired(_l("Välj en roll."))],
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = options(Role.choices())


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-postadress"),
        filters=[clean_line],
        validators=[DataRequired(_l("Ange din e-postadress.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Nytt lösenord"),
        validators=[DataRequired(_l("Ange ett lösenord.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Upprepa lösenordet"),
        validators=[DataRequired(_l("Upprepa lösenordet.")),
                    EqualTo("password", _l("Lösenorden är inte lika."))],
        render_kw={"autocomplete": "new-password"},
    )  # fmt: skip


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Kod"),
        validators=[DataRequired(_l("Skriv koden.")), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True},
    )


class EnrolTwoFactorForm(FlaskForm):
    code = StringField(
        _l("Kod från appen"),
        validators=[DataRequired(_l("Skriv koden.")), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(
        _l("Lösenord"),
        validators=[DataRequired(_l("Ange ditt lösenord.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        _l("Kod från appen eller en reservkod"),
        validators=[DataRequired(_l("Skriv koden.")), Length(max=20)],
        render_kw={"autocomplete": "one-time-code"},
    )


class TwoFactorPolicyForm(OnceForm):
    roles = SelectMultipleField(
        _l("Kräv tvåstegsverifiering för"), choices=[],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.roles.choices = options(Role.choices())
