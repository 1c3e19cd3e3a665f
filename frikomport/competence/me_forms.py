"""Forms of "My competence" and of the approval of external certificates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from frikomport.forms import Form, strip


def _competence_id(value):
    return int(value) if value not in (None, "") else None


class ExternalCertificateForm(Form):
    competence = SelectField(_l("Competence"), coerce=_competence_id,
                             validators=[InputRequired()])
    title = StringField(_l("Name of the certificate or course"), filters=[strip],
                        validators=[InputRequired(), Length(max=200)])
    issuer = StringField(_l("Issued by"), filters=[strip],
                         validators=[InputRequired(), Length(max=200)],
                         description=_l("The school, course provider or authority."))
    achieved_on = DateField(_l("Date achieved"), validators=[InputRequired()],
                            description=_l("The certificate counts from this day."))
    file = FileField(_l("The certificate"), validators=[FileRequired()],
                     description=_l("A PDF, or a PNG or JPEG picture, at most 5 MB."))

    def set_competences(self, competences, empty_label) -> None:
        self.competence.choices = [SelectChoice("", empty_label), *(
            SelectChoice(str(c.id), c.name) for c in competences)]


class DecisionForm(Form):
    """Approve or reject: which button was pressed, and an optional note to the person."""

    note = StringField(_l("Note to the person"), filters=[strip],
                       validators=[Optional(), Length(max=300)])
