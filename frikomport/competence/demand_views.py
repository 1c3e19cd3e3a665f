"""The region's demand for competences (/region/competence-demand), and inviting the
people who need what a course grants (from the course's back office)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from frikomport.competence import demand, invitations
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.tenancy.scoping import get_organisation
from frikomport.viewhelpers import render_form, run_service

bp = Blueprint("competence_demand", __name__)


def _months(values) -> tuple[int, str | None]:
    """The months asked for, and a message if that was not a number from 1 to 24 (the
    page then shows the nearest one, or the default)."""
    raw = (values.get("months") or "").strip()
    if not raw:
        return demand.MONTHS_DEFAULT, None
    try:
        asked = int(raw)
    except ValueError:
        asked = None
    months = demand.MONTHS_DEFAULT if asked is None else demand.months_in_range(asked)
    if asked == months:
        return months, None
    return months, _("Choose from %(first)d to %(last)d months. Showing %(months)d months.",
                     first=demand.MONTHS_MIN, last=demand.MONTHS_MAX, months=months)


@bp.get("/region/competence-demand")
@login_required
def region_page():
    months, message = _months(request.args)
    found = demand.demand(db.session, current_user, months)
    return render_template("competence/demand.html", demand=found, months=months,
                           message=message, limits=(demand.MONTHS_MIN, demand.MONTHS_MAX))


@bp.route("/o/<slug>/admin/courses/<int:course_id>/invite-needing", methods=["GET", "POST"])
@login_required
def invite_needing(slug: str, course_id: int):
    """GET: how many would be invited, by organisation; POST: invite them."""
    g.organisation = get_organisation(db.session, slug)
    months, message = _months(request.form if request.method == "POST" else request.args)
    form = Form()
    if form.validate_on_submit():
        sent = run_service(form, lambda: invitations.invite_needing(
            db.session, current_user, g.organisation, course_id, months))
        if sent:
            flash(ngettext("%(num)d invitation sent.", "%(num)d invitations sent.",
                           sent.value), "success")
            return redirect(url_for(".invite_needing", slug=slug, course_id=course_id,
                                    months=months))
    found = invitations.preview(db.session, current_user, g.organisation, course_id, months)
    return render_form("competence/demand_invite.html", form, preview=found, months=months,
                       message=message, organisation=g.organisation,
                       limits=(demand.MONTHS_MIN, demand.MONTHS_MAX))
