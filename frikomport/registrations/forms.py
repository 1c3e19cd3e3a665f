from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, StringField, TelField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional

from frikomport.forms import Form, strip


class RegisterForm(Form):
    comment = TextAreaField(_l("Comment to the organiser"),
                            validators=[Optional(), Length(max=2000)],
                            description=_l("The organiser of the course reads it. Do not write "
                                           "health information, such as allergies, unless the "
                                           "course needs it (for example because a meal is "
                                           "served)."))
    own_reference = StringField(
        _l("Your reference for the invoice"), validators=[Optional(), Length(max=100)],
        description=_l("For example your cost centre or resource number. It is put on the "
                       "invoice, so your employer knows who it is for."))


class GuestRegisterForm(RegisterForm):
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=200)])
    email = EmailField(_l("E-mail address"), filters=[strip], validators=[
        InputRequired(), Email(check_deliverability=False), Length(max=254)])
    phone = TelField(_l("Mobile phone"), validators=[InputRequired(), Length(max=40)])
    employer = StringField(_l("Employer"), validators=[InputRequired(), Length(max=200)])


class EmailParticipantsForm(Form):
    subject = StringField(_l("Subject"), validators=[InputRequired(), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[InputRequired(), Length(max=10000)])
    include_waitlisted = BooleanField(_l("Also send to those on the waiting list"))
