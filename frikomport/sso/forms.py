from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField, TextAreaField, URLField
from wtforms.validators import InputRequired, Length, Optional

from frikomport.forms import Form, strip
from frikomport.sso.models import DEFAULT_EMAIL_CLAIM, DEFAULT_SCOPES


class LinkForm(Form):
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=128)])
    confirm = BooleanField(_l("Yes, I want to log in to this account through this "
                              "organisation's login from now on"),
                           validators=[InputRequired(message=_l(
                               "Tick the box to connect the account."))])


class ProviderForm(Form):
    enabled = BooleanField(_l("Single sign-on is switched on"), default=True)
    label = StringField(_l("Name on the login button"), filters=[strip],
                        validators=[Optional(), Length(max=100)],
                        description=_l("Empty: the organisation's name."))
    issuer = URLField(_l("Issuer"), filters=[strip],
                      validators=[InputRequired(), Length(max=300)],
                      description=_l("The provider's address; the portal reads "
                                     "/.well-known/openid-configuration under it."))
    client_id = StringField(_l("Client id"), filters=[strip],
                            validators=[InputRequired(), Length(max=200)])
    client_secret = PasswordField(_l("Client secret"), validators=[Optional(),
                                                                    Length(max=500)])
    scopes = StringField(_l("Scopes"), filters=[strip], default=DEFAULT_SCOPES,
                         validators=[InputRequired(), Length(max=300)])
    email_claim = StringField(_l("Claim with the e-mail address"), filters=[strip],
                              default=DEFAULT_EMAIL_CLAIM,
                              validators=[InputRequired(), Length(max=64)],
                              description=_l("Usually email; upn or preferred_username for "
                                             "some Entra ID set-ups."))
    # Not "domains": with obj=provider, WTForms would fill it from the relationship.
    domain_names = TextAreaField(_l("E-mail domains the provider vouches for"),
                            validators=[Optional(), Length(max=2000)],
                            description=_l("One per line, such as kongsberg.kommune.no. "
                                           "People with such an address are sent to this "
                                           "login. A new domain counts once the site's "
                                           "administrator has approved it."))
    allow_local_passwords = BooleanField(
        _l("People of these domains may still log in with a password"), default=True)
