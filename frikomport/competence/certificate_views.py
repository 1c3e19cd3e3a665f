"""Course certificates (kursbevis): the PDF download and the public verification page.

``/verify/<code>`` is open to anyone holding a certificate (an employer reading the QR
code): it says whether the code belongs to a valid certificate and shows only the name,
course, host and date(s), never the e-mail address, competences or hours. Lookups are
rate limited per client address, like the other public lookups.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import StringField
from wtforms.validators import InputRequired, Length, ValidationError

from frikomport.competence import certificates, pdf
from frikomport.extensions import db, limiter
from frikomport.forms import Form

bp = Blueprint("certificates", __name__)

# Shared by the form and the result page: trying codes costs the same either way.
verify_limit = limiter.shared_limit("30 per minute", scope="certificate-verify")
EXAMPLE_CODE = "ABCD-EFGH-JKMN"


def _a_code(_form, field) -> None:
    if not certificates.normalise_code(field.data or ""):
        raise ValidationError(_l("Type the code as it is printed on the certificate: "
                                 "twelve letters and digits."))


class VerifyForm(Form):
    """Sent with GET (it changes nothing), so it has no CSRF token."""

    class Meta:
        csrf = False

    code = StringField(_l("Verification code"),
                       description=_l("For example %(example)s.", example=EXAMPLE_CODE),
                       validators=[InputRequired(), Length(max=40), _a_code])


def _verify_page(form: VerifyForm, status: int, result: str | None = None,
                 certificate=None):
    response = Response(render_template("competence/verify.html", form=form, result=result,
                                        certificate=certificate, certificate_days=pdf.days),
                        status)
    # The page may show a name: not for search engines, nor for any cache.
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/verify")
@verify_limit
def verify_form():
    """The form to type a code from paper; a well-formed code goes to its page."""
    form = VerifyForm(formdata=request.args if "code" in request.args else None)
    if "code" not in request.args:
        return _verify_page(form, 200)
    if form.validate():
        return redirect(url_for(".verify",
                                code=certificates.normalise_code(form.code.data)))
    return _verify_page(form, 400)


@bp.get("/verify/<code>")
@verify_limit
def verify(code: str):
    certificate = certificates.by_code(db.session, code)
    form = VerifyForm(formdata=None, data={"code": code[:40]})
    if certificate is None:
        return _verify_page(form, 404, "unknown")
    if certificate.revoked_at is not None:
        return _verify_page(VerifyForm(formdata=None), 200, "revoked")
    return _verify_page(VerifyForm(formdata=None), 200, "valid", certificate)


@bp.get("/me/certificates/<int:certificate_id>.pdf")
@login_required
def download(certificate_id: int):
    """The owner's own certificate; the host's organisers may download it too."""
    certificate = certificates.for_download(db.session, current_user, certificate_id)
    body, name = pdf.render(certificate), pdf.filename(certificate)
    db.session.commit()  # the audit event of a host's download
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
