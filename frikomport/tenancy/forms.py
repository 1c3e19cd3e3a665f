import re

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp, ValidationError

from frikomport.accounts.forms import new_password_fields
from frikomport.billing.orgnumber import is_valid_org_number, normalise_org_number
from frikomport.forms import Form, strip
from frikomport.i18n import language_choices
from frikomport.tenancy.models import Role
from frikomport.tenancy.services import EDITABLE_FIELDS

ROLE_LABELS = {
    Role.EMPLOYEE: _l("Employee"),
    Role.ORGANISER: _l("Course organiser"),
    Role.ADMIN: _l("Administrator"),
}


def role_choices():
    return [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]


NINE_DIGITS = re.compile(r"[0-9]{9}")


def _org_number(_form, field) -> None:
    """Nine digits (spaces allowed, as Enhetsregisteret prints them) with a valid check
    digit: a typo is refused here rather than bounced by the buyer's EHF access point."""
    digits = field.data.replace(" ", "")
    if not NINE_DIGITS.fullmatch(digits):
        raise ValidationError(_l("An organisation number has 9 digits."))
    if not is_valid_org_number(digits):
        raise ValidationError(_l("This is not a valid organisation number: the last digit (the "
                                 "check digit) does not match. Check the number in "
                                 "Enhetsregisteret."))


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

    # Invoicing (issue 13) ---------------------------------------------------------------
    org_number = StringField(
        _l("Organisation number"), filters=[strip], validators=[Optional(), _org_number],
        render_kw={"inputmode": "numeric"},
        description=_l("9 digits, from Enhetsregisteret. Spaces are fine."))
    invoice_email = EmailField(
        _l("Invoice e-mail"), filters=[strip],
        validators=[Optional(), Email(check_deliverability=False), Length(max=254)],
        description=_l("Where invoices to you are sent by e-mail when you do not receive EHF."))
    receives_ehf = BooleanField(
        _l("Receives invoices as EHF"),
        description=_l("Invoices to you go through the PEPPOL network to 0192 followed by your "
                       "organisation number, straight into your finance system. Tick only if "
                       "you are registered in ELMA to receive EHF."))
    buyer_reference = StringField(
        _l("Buyer reference"), filters=[strip], validators=[Optional(), Length(max=100)],
        description=_l("Put on every invoice to you, so your finance office can route it "
                       "(e.g. a cost centre)."))
    invoice_street = StringField(
        _l("Invoice address"), filters=[strip], validators=[Optional(), Length(max=200)],
        description=_l("Street and number, or PO box."))
    invoice_postcode = StringField(
        _l("Postcode"), filters=[strip], render_kw={"inputmode": "numeric"},
        validators=[Optional(), Regexp(r"^[0-9]{4}$",
                                       message=_l("A Norwegian postcode has 4 digits."))])
    invoice_city = StringField(_l("Post town"), filters=[strip],
                               validators=[Optional(), Length(max=100)])
    vat_registered = BooleanField(
        _l("Registered for VAT"),
        description=_l("Tick if the organisation is in the VAT register "
                       "(Merverdiavgiftsregisteret). Course fees carry no VAT either way; "
                       "this decides how your invoices say why."))

    def validate_receives_ehf(self, field) -> None:
        if field.data and not self.org_number.data:
            raise ValidationError(_l("EHF invoices are addressed to the organisation number: "
                                     "fill it in to receive EHF."))

    def organisation_fields(self) -> dict[str, str | bool | None]:
        """The editable fields as the service takes them (it strips the text and makes
        the checkboxes booleans); the org number as its nine digits."""
        fields = {name: getattr(self, name).data for name in EDITABLE_FIELDS}
        if fields["org_number"]:
            fields["org_number"] = normalise_org_number(fields["org_number"])
        return fields


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
