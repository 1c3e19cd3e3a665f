"""Organisation pages under /o/<slug>/ and the tenant back office."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from frikomport.audit.sentences import describe, object_names
from frikomport.audit.services import list_events
from frikomport.courses import queries
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.inputs import int_arg, single_line
from frikomport.permissions import Permission, ensure
from frikomport.tenancy import invitations, services
from frikomport.tenancy.blueprints import tenant_blueprint
from frikomport.tenancy.forms import InviteForm, OrganisationForm, RoleForm
from frikomport.tenancy.logos import logo_path, save_logo
from frikomport.tenancy.models import Role
from frikomport.viewhelpers import flash_form_errors, render_form, run_service

bp = tenant_blueprint("tenancy", __name__)
MAX_MEMBER_PAGE = 2000  # 100,000 people; a larger number shows the last page
MAX_MEMBER_SEARCH = 200


@bp.get("/")
def organisation():
    courses = queries.upcoming(db.session, current_user, limit=10, organisation=g.organisation)
    return render_template("tenancy/organisation.html", organisation=g.organisation,
                           courses=courses)


@bp.get("/logo")
def logo():
    path = logo_path(g.organisation)
    if path is None or not path.exists():
        abort(404)
    return send_file(path, mimetype="image/png", max_age=3600)


@bp.get("/admin/")
@login_required
def dashboard():
    ensure(current_user, Permission.VIEW_MEMBERS, g.organisation)
    return render_template("tenancy/dashboard.html", organisation=g.organisation)


@bp.route("/admin/members", methods=["GET", "POST"])
@login_required
def members():
    """The members a page at a time (with the search and role filter in the query
    string), the open invitations, and the invitation form."""
    form = InviteForm()
    if form.validate_on_submit() and run_service(form, lambda: invitations.invite(
        db.session, current_user, g.organisation, email=form.email.data,
        name=form.name.data or "", role=Role(form.role.data),
    )):
        flash(_("An invitation is sent to %(email)s. The person gets access when they "
                "accept it.", email=form.email.data), "success")
        return redirect(url_for(".members"))
    list_args = _member_list_args()
    listing = services.list_members(
        db.session, current_user, g.organisation, list_args.get("q", ""),
        Role(list_args["role"]) if "role" in list_args else None, list_args.get("page", 1))
    return render_form("tenancy/members.html", form, organisation=g.organisation,
                       listing=listing, list_args=list_args, role_form=RoleForm, Role=Role,
                       invitations=invitations.pending(db.session, current_user,
                                                       g.organisation),
                       action_form=Form())


@bp.post("/admin/invitations/<int:invitation_id>/withdraw")
@login_required
def withdraw_invitation(invitation_id: int):
    form = Form()
    if form.validate_on_submit() and run_service(form, lambda: invitations.withdraw(
            db.session, current_user, g.organisation, invitation_id)):
        flash(_("The invitation is withdrawn."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for(".members"))


@bp.post("/admin/members/<int:membership_id>/role")
@login_required
def change_role(membership_id: int):
    membership = services.get_membership(db.session, current_user, g.organisation, membership_id)
    form = RoleForm()
    if form.validate_on_submit() and run_service(form, lambda: services.change_role(
        db.session, current_user, membership, Role(form.role.data),
    )):
        flash(_("The role of %(name)s is changed.", name=membership.user.name), "success")
    else:
        flash_form_errors(form)
    return _back_to_members()


@bp.post("/admin/members/<int:membership_id>/remove")
@login_required
def remove_member(membership_id: int):
    membership = services.get_membership(db.session, current_user, g.organisation, membership_id)
    name = membership.user.name
    form = Form()
    if form.validate_on_submit() and run_service(
        form, lambda: services.remove_member(db.session, current_user, membership)
    ):
        flash(_("%(name)s is no longer a member.", name=name), "success")
    else:
        flash_form_errors(form)
    return _back_to_members()


def _member_list_args() -> dict[str, str | int]:
    """The search, role filter and page of the member list, from the query string (a row
    action carries them, to come back to the same view); junk is left out."""
    args: dict[str, str | int] = {}
    if text := single_line(request.args.get("q", ""))[:MAX_MEMBER_SEARCH]:
        args["q"] = text
    if (role := request.args.get("role", "")) in Role._value2member_map_:
        args["role"] = role
    if (page := int_arg(request.args, "page", 1, 1, MAX_MEMBER_PAGE)) > 1:
        args["page"] = page
    return args


def _back_to_members():
    return redirect(url_for(".members", **_member_list_args()))


@bp.route("/admin/settings", methods=["GET", "POST"])
@login_required
def settings():
    ensure(current_user, Permission.EDIT_ORGANISATION, g.organisation)
    form = OrganisationForm(obj=g.organisation)
    if form.validate_on_submit() and run_service(form, lambda: _save_settings(form)):
        flash(_("The settings are saved."), "success")
        return redirect(url_for(".settings"))
    return render_form("tenancy/settings.html", form, organisation=g.organisation)


def _save_settings(form: OrganisationForm) -> None:
    services.update_organisation(db.session, current_user, g.organisation,
                                 **form.organisation_fields())
    if form.logo.data:
        save_logo(db.session, current_user, g.organisation, form.logo.data.stream)


@bp.get("/admin/audit")
@login_required
def audit():
    events = list_events(db.session, current_user, g.organisation)
    names = object_names(db.session, events)
    return render_template("tenancy/audit.html", organisation=g.organisation,
                           entries=[(event, describe(event, names)) for event in events])
