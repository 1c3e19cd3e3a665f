"""The organiser's back office for courses, and the admin's vocabulary lists."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from frikomport.competence import catalogue
from frikomport.courses import attachments, queries, services, vocabulary
from frikomport.courses.forms import (
    AttachmentForm,
    CancelForm,
    CourseForm,
    LocationForm,
    VocabularyForm,
    add_empty_session_rows,
    course_data,
    fill_course_form,
    vocabulary_choices,
)
from frikomport.courses.models import Category, CourseState, Location, ServiceArea
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.inputs import int_arg, single_line
from frikomport.permissions import Permission, ensure
from frikomport.tenancy.blueprints import tenant_blueprint
from frikomport.viewhelpers import flash_form_errors, render_form, run_service

bp = tenant_blueprint("course_admin", __name__)

MAX_PAGE = 1000  # 50,000 courses; a larger number shows the last page
MAX_SEARCH = 200
KIND = 'any("categories", "service-areas", "locations")'
VOCABULARY_TITLES = {
    "categories": _l("Categories"),
    "service-areas": _l("Service areas"),
    "locations": _l("Locations"),
}


@bp.before_request
@login_required
def require_course_rights():
    ensure(current_user, Permission.MANAGE_COURSES, g.organisation)


def _course(course_id: int):
    return services.get_course_for_management(db.session, current_user, g.organisation,
                                              course_id)


def _course_form(**kwargs) -> CourseForm:
    form = CourseForm(**kwargs)
    organisation = g.organisation
    form.category.choices = vocabulary_choices(
        vocabulary.list_items(db.session, organisation, Category), _("– none –"))
    form.service_area.choices = vocabulary_choices(
        vocabulary.list_items(db.session, organisation, ServiceArea), _("– none –"))
    form.location.choices = vocabulary_choices(
        vocabulary.list_items(db.session, organisation, Location), _("– none –"))
    form.competences.choices = [(competence.id, competence)
                                for competence in catalogue.usable(db.session, organisation)]
    return form


def _create_course(form: CourseForm):
    course = services.create_course(db.session, current_user, g.organisation, course_data(form))
    catalogue.set_granted(db.session, current_user, course, form.competences.data or [])
    return course


def _update_course(course, form: CourseForm) -> None:
    services.update_course(db.session, current_user, course, course_data(form))
    catalogue.set_granted(db.session, current_user, course, form.competences.data or [])


@bp.get("/admin/courses")
def course_list():
    """The organisation's courses, a page at a time, by state and title."""
    state = request.args.get("state")
    chosen = CourseState(state) if state in CourseState._value2member_map_ else None
    text = single_line(request.args.get("q", ""))[:MAX_SEARCH]
    listing = queries.organisation_courses(
        db.session, g.organisation, chosen, text,
        page=int_arg(request.args, "page", 1, 1, MAX_PAGE))
    return render_template("course_admin/list.html", organisation=g.organisation,
                           listing=listing, state=chosen, text=text, CourseState=CourseState,
                           action_form=Form())


@bp.route("/admin/courses/new", methods=["GET", "POST"])
def new_course():
    form = _course_form()
    if request.method == "GET":
        form.content_language.data = g.organisation.language
        form.contact_name.data = current_user.name
        form.contact_email.data = current_user.email
        add_empty_session_rows(form)
    if form.validate_on_submit() and (created := run_service(form, lambda: _create_course(form))):
        flash(_("The draft is saved. Publish it when it is ready."), "success")
        return redirect(url_for(".edit_course", course_id=created.value.id))
    return render_form("course_admin/form.html", form, organisation=g.organisation, course=None)


@bp.route("/admin/courses/<int:course_id>/edit", methods=["GET", "POST"])
def edit_course(course_id: int):
    course = _course(course_id)
    form = _course_form()
    if request.method == "GET":
        fill_course_form(form, course)
    if form.validate_on_submit() and run_service(form, lambda: _update_course(course, form)):
        flash(_("The course is saved."), "success")
        return redirect(url_for(".edit_course", course_id=course.id))
    return render_form("course_admin/form.html", form, organisation=g.organisation,
                       course=course, attachment_form=AttachmentForm(), action_form=Form())


def _course_action(course_id: int, action, success: str, target: str = ".edit_course"):
    course = _course(course_id)
    form = Form()
    if form.validate_on_submit() and run_service(form, lambda: action(course)):
        flash(success, "success")
    else:
        flash_form_errors(form)
    return redirect(url_for(target, course_id=course.id))


@bp.post("/admin/courses/<int:course_id>/publish")
def publish_course(course_id: int):
    return _course_action(course_id, lambda c: services.publish_course(
        db.session, current_user, c), _("The course is published."))


@bp.post("/admin/courses/<int:course_id>/copy")
def copy_course(course_id: int):
    course = _course(course_id)
    form = Form()
    if form.validate_on_submit() and (copied := run_service(form, lambda: services.copy_course(
            db.session, current_user, course))):
        flash(_("A copy is made as a new draft."), "success")
        return redirect(url_for(".edit_course", course_id=copied.value.id))
    flash_form_errors(form)
    return redirect(url_for(".edit_course", course_id=course.id))


@bp.post("/admin/courses/<int:course_id>/delete")
def delete_course(course_id: int):
    course = _course(course_id)
    form = Form()
    if form.validate_on_submit() and run_service(
            form, lambda: services.delete_draft(db.session, current_user, course)):
        flash(_("The draft is deleted."), "success")
        return redirect(url_for(".course_list"))
    flash_form_errors(form)
    return redirect(url_for(".edit_course", course_id=course.id))


@bp.route("/admin/courses/<int:course_id>/cancel", methods=["GET", "POST"])
def cancel_course(course_id: int):
    course = _course(course_id)
    form = CancelForm()
    if form.validate_on_submit() and run_service(form, lambda: services.cancel_course(
            db.session, current_user, course, form.reason.data)):
        flash(_("The course is cancelled and everyone registered is told by e-mail."),
              "success")
        return redirect(url_for(".course_list"))
    return render_form("course_admin/cancel.html", form, organisation=g.organisation,
                       course=course)


@bp.post("/admin/courses/<int:course_id>/attachments")
def upload_attachment(course_id: int):
    course = _course(course_id)
    form = AttachmentForm()
    if form.validate_on_submit() and run_service(form, lambda: attachments.add_attachment(
            db.session, current_user, course, form.file.data.filename, form.file.data.stream)):
        flash(_("The attachment is added."), "success")
        return redirect(url_for(".edit_course", course_id=course.id))
    course_form = _course_form(formdata=None)
    fill_course_form(course_form, course)
    return render_form("course_admin/form.html", course_form, organisation=g.organisation,
                       course=course, attachment_form=form, action_form=Form())


@bp.post("/admin/courses/<int:course_id>/attachments/<int:attachment_id>/delete")
def delete_attachment(course_id: int, attachment_id: int):
    return _course_action(course_id, lambda c: attachments.delete_attachment(
        db.session, current_user, c, attachment_id), _("The attachment is deleted."))


# Vocabulary (categories, service areas, locations) -------------------------------------

def _vocabulary_model(kind: str):
    ensure(current_user, Permission.MANAGE_TAXONOMY, g.organisation)
    return vocabulary.VOCABULARIES[kind]


def _vocabulary_form(model, **kwargs):
    return (LocationForm if model is Location else VocabularyForm)(**kwargs)


def _vocabulary_fields(form) -> dict:
    fields = {"name": form.name.data}
    if isinstance(form, LocationForm):
        fields |= {"address": form.address.data or "", "room": form.room.data or "",
                   "capacity": form.capacity.data, "map_url": form.map_url.data or ""}
    return fields


@bp.route(f"/admin/<{KIND}:kind>", methods=["GET", "POST"])
def vocabulary_list(kind: str):
    model = _vocabulary_model(kind)
    form = _vocabulary_form(model)
    if form.validate_on_submit() and run_service(form, lambda: vocabulary.save_item(
            db.session, current_user, g.organisation, model, **_vocabulary_fields(form))):
        flash(_("“%(name)s” is added.", name=form.name.data), "success")
        return redirect(url_for(".vocabulary_list", kind=kind))
    items = vocabulary.list_items(db.session, g.organisation, model)
    return render_form("course_admin/vocabulary.html", form, organisation=g.organisation,
                       kind=kind, title=VOCABULARY_TITLES[kind], items=items,
                       action_form=Form())


@bp.route(f"/admin/<{KIND}:kind>/<int:item_id>", methods=["GET", "POST"])
def vocabulary_edit(kind: str, item_id: int):
    model = _vocabulary_model(kind)
    item = vocabulary.get_item(db.session, g.organisation, model, item_id)
    form = _vocabulary_form(model, obj=item)
    if form.validate_on_submit() and run_service(form, lambda: vocabulary.save_item(
            db.session, current_user, g.organisation, model, item_id=item.id,
            **_vocabulary_fields(form))):
        flash(_("The changes are saved."), "success")
        return redirect(url_for(".vocabulary_list", kind=kind))
    return render_form("course_admin/vocabulary_edit.html", form, organisation=g.organisation,
                       kind=kind, title=VOCABULARY_TITLES[kind], item=item)


@bp.post(f"/admin/<{KIND}:kind>/<int:item_id>/delete")
def vocabulary_delete(kind: str, item_id: int):
    model = _vocabulary_model(kind)
    form = Form()
    if form.validate_on_submit() and run_service(form, lambda: vocabulary.delete_item(
            db.session, current_user, g.organisation, model, item_id)):
        flash(_("Deleted."), "success")
    flash_form_errors(form)
    return redirect(url_for(".vocabulary_list", kind=kind))
