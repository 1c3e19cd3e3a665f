from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from frikomport.billing.money import KronerField
from frikomport.courses.models import Course, Visibility
from frikomport.courses.services import MAX_CAPACITY, CourseData
from frikomport.forms import Form, RowForm, RowList, strip
from frikomport.i18n import language_choices
from frikomport.timeutil import local_to_utc, naive_local_to_utc, to_local

VISIBILITY_LABELS = {
    Visibility.PUBLIC: _l("Public – everyone can see it"),
    Visibility.REGION: _l("Region – logged-in employees of all organisations"),
    Visibility.INTERNAL: _l("Internal – only our own employees"),
}
EXTRA_SESSION_ROWS = 2


class SessionForm(RowForm):
    """One date with start and end time. A completely empty row is ignored.

    The row is checked as a whole in :meth:`validate`: the fields' own ``Optional()``
    stops their validation when they are empty, so an empty end time must be caught here.
    """

    day = DateField(_l("Date"), validators=[Optional()])
    starts = TimeField(_l("Start time"), validators=[Optional()])
    ends = TimeField(_l("End time"), validators=[Optional()])

    def is_empty(self) -> bool:
        return not (self.day.data or self.starts.data or self.ends.data)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.is_empty():
            return True
        if not (self.day.data and self.starts.data and self.ends.data):
            self.ends.errors.append(_l("Fill in date, start and end – or leave the row empty."))
            return False
        if self.ends.data <= self.starts.data:
            self.ends.errors.append(_l("The session must end after it starts."))
            return False
        return True


def _optional_id(value):
    return int(value) if value not in (None, "", "0", 0) else None


class CourseForm(Form):
    """The fields are declared in the order the page shows them: the error summary lists
    errors in this order."""

    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    content_language = SelectField(
        _l("Written in"), choices=language_choices, validate_choice=False,  # checked by the service
        description=_l("The language you write the course in. Screen readers read it in "
                       "that language."))
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=500)],
                            description=_l("One or two sentences shown in lists and search."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)],
                                description=_l("Markdown: **bold**, *italic*, lists with -, "
                                               "links as [text](https://…)."))
    category = SelectField(_l("Category"), coerce=_optional_id, validate_choice=True)
    service_area = SelectField(_l("Service area"), coerce=_optional_id)
    target_group = StringField(_l("Target group"), validators=[Optional(), Length(max=300)])
    instructor = StringField(_l("Instructor"), validators=[Optional(), Length(max=200)])
    # Choices (id, Competence) are set by the view from the catalogue; the service checks
    # the ids, so an id that is not the region's or the host's own gets its message.
    competences = SelectMultipleField(
        _l("Competences the course gives"), coerce=int, validate_choice=False,
        description=_l("Each participant marked as attended gets them recorded, valid from "
                       "the course's last day."))
    location = SelectField(_l("Location"), coerce=_optional_id)
    sessions = RowList(FormField(SessionForm), row_label=_l("Session %(number)d"),
                       label=_l("Sessions"), min_entries=1)
    capacity = IntegerField(_l("Number of seats"), validators=[
        InputRequired(), NumberRange(min=0, max=MAX_CAPACITY)])
    fee_host_ore = KronerField(_l("Fee for our own employees (NOK)"), default=0,
                               description=_l("0 means free."))
    fee_region_ore = KronerField(
        _l("Fee for employees of other organisations in the portal (NOK)"), default=0)
    fee_guest_ore = KronerField(_l("Fee for guests (NOK)"), default=0,
                                description=_l("Only when guests may register."))
    free_cancellation_until = DateTimeLocalField(
        _l("Free cancellation until"), validators=[Optional()],
        description=_l("Participants who cancel themselves after this still pay the fee. "
                       "Empty: cancelling is free as long as it is allowed."))
    charge_no_shows = BooleanField(_l("Participants who do not come pay the fee"),
                                   default=True)
    reserved_seats = IntegerField(
        _l("Seats reserved for our own employees"), default=0,
        validators=[InputRequired(), NumberRange(min=0, max=MAX_CAPACITY)])
    reserved_until = DateTimeLocalField(_l("Reserved until"), validators=[Optional()],
                                        description=_l("After this the seats are open to all."))
    registration_opens_at = DateTimeLocalField(_l("Registration opens"),
                                               validators=[Optional()])
    registration_closes_at = DateTimeLocalField(_l("Registration closes"),
                                                validators=[Optional()])
    cancellation_deadline = DateTimeLocalField(
        _l("Participants can cancel until"), validators=[Optional()],
        description=_l("Empty: until the course starts. Organisers can always cancel."))
    visibility = SelectField(_l("Who can see the course"),
                             choices=[SelectChoice(v.value, label)
                                      for v, label in VISIBILITY_LABELS.items()],
                             default=Visibility.REGION.value)
    allow_guests = BooleanField(_l("People without an account may register as guests"))
    requires_approval = BooleanField(_l("The organiser approves each registration"))
    ask_for_comment = BooleanField(
        _l("Participants may write a comment when they register"), default=True,
        description=_l("Turn it off when you do not need to know anything beyond name and "
                       "employer: then nobody is asked, and nothing is stored."))
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=200)])
    contact_email = EmailField(_l("Contact e-mail"), filters=[strip], validators=[
        Optional(), Email(check_deliverability=False), Length(max=254)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])

    def validate_reserved_seats(self, field):
        if self.capacity.data is not None and field.data and field.data > self.capacity.data:
            raise ValidationError(_l("Cannot reserve more seats than the course has."))

    def validate_registration_closes_at(self, field):
        opens = self.registration_opens_at.data
        if opens and field.data and field.data <= opens:
            raise ValidationError(_l("Registration must close after it opens."))


class CancelForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=2000)],
                           description=_l("Sent by e-mail to everyone registered."))


class AttachmentForm(Form):
    file = FileField(_l("File"), validators=[FileRequired()],
                     description=_l("PDF, Office, OpenDocument or image, at most 10 MB."))


class VocabularyForm(Form):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])


class LocationForm(VocabularyForm):
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    room = StringField(_l("Room"), validators=[Optional(), Length(max=120)])
    capacity = IntegerField(_l("Seats in the room"), validators=[
        Optional(), NumberRange(min=1, max=MAX_CAPACITY)])
    map_url = URLField(_l("Map link"), validators=[
        Optional(), Length(max=500),
        Regexp(r"^https?://", message=_l("The address must start with https:// or http://."))])


def vocabulary_choices(items, empty_label) -> list[SelectChoice]:
    return [SelectChoice("", empty_label),
            *(SelectChoice(str(item.id), item.name) for item in items)]


def course_data(form: CourseForm) -> CourseData:
    """Turn a validated form (Oslo wall-clock times) into service input (UTC)."""
    sessions = [
        (local_to_utc(row.day.data, row.starts.data), local_to_utc(row.day.data, row.ends.data))
        for row in form.sessions if not row.form.is_empty()
    ]
    return CourseData(
        title=form.title.data, summary=form.summary.data or "",
        description=form.description.data or "", category_id=form.category.data,
        service_area_id=form.service_area.data, location_id=form.location.data,
        target_group=form.target_group.data or "", instructor=form.instructor.data or "",
        contact_name=form.contact_name.data or "", contact_email=form.contact_email.data or "",
        contact_phone=form.contact_phone.data or "", fee_host_ore=form.fee_host_ore.data,
        fee_region_ore=form.fee_region_ore.data, fee_guest_ore=form.fee_guest_ore.data,
        free_cancellation_until=naive_local_to_utc(form.free_cancellation_until.data),
        charge_no_shows=form.charge_no_shows.data,
        capacity=form.capacity.data, reserved_seats=form.reserved_seats.data or 0,
        reserved_until=naive_local_to_utc(form.reserved_until.data),
        registration_opens_at=naive_local_to_utc(form.registration_opens_at.data),
        registration_closes_at=naive_local_to_utc(form.registration_closes_at.data),
        visibility=Visibility(form.visibility.data), allow_guests=form.allow_guests.data,
        requires_approval=form.requires_approval.data,
        ask_for_comment=form.ask_for_comment.data,
        cancellation_deadline=naive_local_to_utc(form.cancellation_deadline.data),
        content_language=form.content_language.data or "", sessions=sessions,
    )


def _naive_local(value):
    local = to_local(value)
    return local.replace(tzinfo=None) if local else None


def fill_course_form(form: CourseForm, course: Course) -> None:
    """Show a course in the form, in Oslo time, with a few empty session rows to add more."""
    for name in ("title", "summary", "description", "target_group", "instructor",
                 "contact_name", "contact_email", "contact_phone", "fee_host_ore",
                 "fee_region_ore", "fee_guest_ore", "charge_no_shows", "capacity",
                 "reserved_seats", "allow_guests", "requires_approval",
                 "ask_for_comment", "content_language"):
        getattr(form, name).data = getattr(course, name)
    form.category.data = course.category_id
    form.service_area.data = course.service_area_id
    form.location.data = course.location_id
    form.competences.data = [grant.competence_id for grant in course.competence_grants]
    form.visibility.data = course.visibility.value
    for name in ("reserved_until", "registration_opens_at", "registration_closes_at",
                 "cancellation_deadline", "free_cancellation_until"):
        getattr(form, name).data = _naive_local(getattr(course, name))
    while form.sessions.entries:
        form.sessions.pop_entry()
    for course_session in course.sessions:
        start, end = to_local(course_session.starts_at), to_local(course_session.ends_at)
        form.sessions.append_entry({"day": start.date(), "starts": start.time(),
                                    "ends": end.time()})
    add_empty_session_rows(form)


def add_empty_session_rows(form: CourseForm) -> None:
    for _ in range(EXTRA_SESSION_ROWS):
        form.sessions.append_entry()
