from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import InputRequired

from frikomport.forms import Form


class DeleteAccountForm(Form):
    password = PasswordField(_l("Your password"), validators=[InputRequired()],
                             description=_l("To be sure it is you."))
