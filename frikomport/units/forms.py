"""Forms of the units back office: a unit's name, and a requirement."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from frikomport.competence.requirements import JOB_TITLE_LENGTH
from frikomport.forms import Form, strip
from frikomport.units.services import NAME_LENGTH


class UnitForm(Form):
    name = StringField(_l("Name of the unit"), filters=[strip],
                       validators=[InputRequired(), Length(max=NAME_LENGTH)])


class RequirementForm(Form):
    competence = SelectField(_l("Competence"), coerce=int, validators=[InputRequired()])
    job_title = StringField(
        _l("Only for the job title"), filters=[strip],
        validators=[Optional(), Length(max=JOB_TITLE_LENGTH)],
        description=_l("Leave it empty to require the competence of everyone in the unit. "
                       "A job title is matched as the people wrote it in their profile, "
                       "ignoring upper and lower case."))

    def offer(self, competences) -> RequirementForm:
        """The competences to choose from: the region's catalogue and the organisation's
        own, each in its group (in the order given within it)."""
        self.competence.choices = [
            SelectChoice(str(c.id), c.name, optgroup=str(
                _l("The region's competences") if c.is_regional else _l("Our own competences")))
            for c in sorted(competences, key=lambda c: not c.is_regional)]
        return self
