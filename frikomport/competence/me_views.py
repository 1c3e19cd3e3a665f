"""My competence: what a person holds, external certificates and their approval."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from frikomport.competence import external, mine
from frikomport.competence.me_forms import DecisionForm, ExternalCertificateForm
from frikomport.errors import DomainError, NotFoundError
from frikomport.extensions import db
from frikomport.forms import Form
from frikomport.permissions import led_unit_ids, role_in
from frikomport.tenancy.scoping import get_organisation
from frikomport.viewhelpers import flash_form_errors, render_form, run_service

bp = Blueprint("my_competence", __name__)

DECISIONS = {"approve": True, "reject": False}


def _upload_form(**kwargs) -> ExternalCertificateForm:
    form = ExternalCertificateForm(**kwargs)
    form.set_competences(external.competence_choices(db.session, current_user),
                         _("– choose –"))
    return form


def _overview_page(form: ExternalCertificateForm):
    return render_form("competence/me.html", form, action_form=Form(),
                       overview=mine.overview(db.session, current_user),
                       can_upload=external.deciding_organisation(current_user) is not None,
                       deciding=external.deciding_organisations(current_user))


@bp.get("/me/competence")
@login_required
def overview():
    return _overview_page(_upload_form())


def _upload_of(form: ExternalCertificateForm) -> external.Upload:
    """The form's upload with the file read here, once: run_service may run the service
    twice (a lost lock race), and the stream would be empty the second time. One byte
    more than allowed is read so that the service can tell a file is too large."""
    return external.Upload(
        competence_id=form.competence.data, title=form.title.data, issuer=form.issuer.data,
        achieved_on=form.achieved_on.data, filename=form.file.data.filename or "",
        data=form.file.data.stream.read(external.MAX_FILE_BYTES + 1))


@bp.post("/me/competence/external")
@login_required
def upload():
    form = _upload_form()
    sent = _upload_of(form) if form.validate_on_submit() else None
    if sent is not None and run_service(
            form, lambda: external.add_external(db.session, current_user, sent)):
        flash(_("The certificate is added. It counts when your organisation has "
                "approved it."), "success")
        return redirect(url_for(".overview"))
    return _overview_page(form)


@bp.post("/me/competence/external/<int:record_id>/delete")
@login_required
def delete(record_id: int):
    form = Form()
    if form.validate_on_submit() and run_service(
            form, lambda: external.delete_own(db.session, current_user, record_id)):
        flash(_("The certificate is deleted."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for(".overview"))


@bp.get("/me/competence/external/<int:record_id>/file")
@login_required
def certificate_file(record_id: int):
    """The uploaded file, always as a download (never shown inline: it is not ours)."""
    record = external.file_for_viewer(db.session, current_user, record_id)
    path = external.stored_path(record)
    if not path.is_file():
        raise NotFoundError()
    return send_file(path, mimetype=record.content_type, as_attachment=True,
                     download_name=record.filename or "kompetansebevis", max_age=0)


# Approvals ------------------------------------------------------------------------------

@bp.get("/o/<slug>/admin/competence/approvals")
@login_required
def approvals(slug: str):
    organisation = get_organisation(db.session, slug)
    rows = external.pending(db.session, current_user, organisation)
    return render_form("competence/approvals.html", DecisionForm(), organisation=organisation,
                       rows=rows[:external.PENDING_SHOWN],
                       more=len(rows) > external.PENDING_SHOWN)


@bp.post("/o/<slug>/admin/competence/approvals/<int:record_id>")
@login_required
def decide(slug: str, record_id: int):
    organisation = get_organisation(db.session, slug)
    form = DecisionForm()
    decision = request.form.get("decision", "")
    if decision not in DECISIONS:
        raise DomainError(_("Choose whether to approve or reject the certificate."))
    if form.validate_on_submit() and (done := run_service(form, lambda: external.decide(
            db.session, current_user, organisation, record_id, DECISIONS[decision],
            form.note.data or ""))):
        record = done.value
        names = {"competence": record.competence.name, "name": record.user.name}
        flash(_("Approved: %(competence)s for %(name)s.", **names) if DECISIONS[decision]
              else _("Rejected: %(competence)s for %(name)s.", **names), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for(".approvals", slug=organisation.slug))


# For templates ----------------------------------------------------------------------------

@bp.app_context_processor
def leadership_helpers():
    """``leads_units_in(organisation)``: does the logged-in person lead a unit there? It
    reads their leaderships only if they are a member there (a leader always is), so the
    pages that ask cost outsiders nothing; the menu on every page never asks."""
    def leads_units_in(organisation) -> bool:
        return (role_in(current_user, organisation) is not None
                and bool(led_unit_ids(current_user, organisation.id)))
    return {"leads_units_in": leads_units_in}
