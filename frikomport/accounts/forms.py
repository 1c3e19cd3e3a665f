from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TelField
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional


def strip(value):
    return value.strip() if isinstance(value, str) else value


def _email_field():
    return EmailField(_l("E-mail address"), filters=[strip],
                      validators=[InputRequired(), Email(check_deliverability=False),
                                  Length(max=254)])


def _new_password_fields():
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(max=128)],
                             description=_l("At least 10 characters. A short sentence is easy "
                                            "to remember and hard to guess."))
    confirm = PasswordField(_l("Repeat the password"), validators=[
        InputRequired(), EqualTo("password", message=_l("The passwords are not the same."))])
    return password, confirm


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(_l("Password"), validators=[InputRequired()])
    remember = BooleanField(_l("Keep me logged in on this device"))


class SignupForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=200)])
    email = _email_field()
    phone = TelField(_l("Mobile phone"), validators=[Optional(), Length(max=40)])
    organisation = SelectField(_l("Employer"), coerce=int, validators=[InputRequired()],
                               description=_l("The municipality or organisation you work for."))
    password, confirm = _new_password_fields()


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password, confirm = _new_password_fields()


class ProfileForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=200)])
    phone = TelField(_l("Mobile phone"), validators=[Optional(), Length(max=40)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=200)])
    locale = SelectField(_l("Language"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired()])
    password, confirm = _new_password_fields()
