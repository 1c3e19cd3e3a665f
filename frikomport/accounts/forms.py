from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TelField
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional

from frikomport.forms import Form, strip


def _email_field():
    return EmailField(_l("E-mail address"), filters=[strip],
                      validators=[InputRequired(), Email(check_deliverability=False),
                                  Length(max=254)])


def new_password_fields():
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=128)],
                             description=_l("At least 10 characters. A short sentence is easy "
                                            "to remember and hard to guess."))
    confirm = PasswordField(_l("Repeat the password"), validators=[
        InputRequired(), EqualTo("password", message=_l("The passwords are not the same."))])
    return password, confirm


class LoginForm(Form):
    """E-mail first: without a password the address decides the way on (its
    organisation's single sign-on, or the password step)."""

    email = _email_field()
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=1024)])
    remember = BooleanField(_l("Keep me logged in on this device"))


def optional_int(value):
    """Coerce a choice to an id; the empty "choose" option gives None."""
    return int(value) if value not in (None, "") else None


class SignupForm(Form):
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=200)])
    email = _email_field()
    phone = TelField(_l("Mobile phone"), validators=[Optional(), Length(max=40)])
    organisation = SelectField(
        _l("Employer"), coerce=optional_int,
        validators=[InputRequired(message=_l("Choose the organisation you work for."))],
        description=_l("The municipality or organisation you work for."))


class ForgotPasswordForm(Form):
    email = _email_field()


class ResetPasswordForm(Form):
    password, confirm = new_password_fields()


class ProfileForm(Form):
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=200)])
    phone = TelField(_l("Mobile phone"), validators=[Optional(), Length(max=40)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=200)])
    locale = SelectField(_l("Language"))


class ChangePasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[InputRequired()])
    password, confirm = new_password_fields()
