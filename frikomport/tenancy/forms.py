from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import EmailField, SelectField, StringField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp

from frikomport.accounts.forms import new_password_fields
from frikomport.forms import Form, strip
from frikomport.i18n import language_choices
from frikomport.tenancy.models import Role

ROLE_LABELS = {
    Role.EMPLOYEE: _l("Employee"),
    Role.ORGANISER: _l("Course organiser"),
    Role.ADMIN: _l("Administrator"),
}


def role_choices():
    return [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]


class OrganisationForm(Form):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])
    description = TextAreaField(_l("About the organisation"),
                                validators=[Optional(), Length(max=5000)])
    contact_email = EmailField(_l("Contact e-mail"), filters=[strip], validators=[
        Optional(), Email(check_deliverability=False), Length(max=254)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    website = URLField(_l("Website"), validators=[
        Optional(), Length(max=300),
        Regexp(r"^https?://", message=_l("The address must start with https:// or http://."))])
    language = SelectField(_l("Written form"), choices=language_choices, default="nb",
                           description=_l("The language of the organisation's pages, of new "
                                          "courses, and of e-mails to staff who have not "
                                          "chosen a language themselves."))
    logo = FileField(_l("Logo"), description=_l("PNG, JPEG, WebP or GIF, at most 2 MB."))

    def organisation_fields(self) -> dict[str, str]:
        return {name: getattr(self, name).data or "" for name in
                ("name", "region", "description", "contact_email", "contact_phone", "website",
                 "language")}


class NewOrganisationForm(OrganisationForm):
    slug = StringField(_l("Short name (used in addresses)"), validators=[
        InputRequired(), Length(min=2, max=64),
        Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
               message=_l("Use only lower-case letters a–z, digits and hyphens."))])


class InviteForm(Form):
    email = EmailField(_l("E-mail address"), filters=[strip], validators=[
        InputRequired(), Email(check_deliverability=False), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)],
                       description=_l("Used to greet the person in the invitation."))
    role = SelectField(_l("Role"), choices=role_choices, default=Role.EMPLOYEE.value)


class AcceptInvitationForm(Form):
    """Only the button (and CSRF)."""


class NewInviteeForm(Form):
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=200)])
    password, confirm = new_password_fields()


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=role_choices)
