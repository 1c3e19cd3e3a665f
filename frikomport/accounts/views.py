"""Sign-up, log in/out, password reset, e-mail confirmation and the profile page."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from wtforms.fields.choices import SelectChoice

from frikomport.accounts import services, sessions, throttle
from frikomport.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    SignupForm,
)
from frikomport.errors import DomainError
from frikomport.extensions import db, limiter
from frikomport.sso import logout as sso_logout
from frikomport.sso import lookup as sso_lookup
from frikomport.sso import views as sso_views
from frikomport.sso.csp import provider_forms
from frikomport.tenancy.scoping import get_organisation_by_id
from frikomport.tenancy.services import list_organisations
from frikomport.viewhelpers import (
    no_store,
    render_form,
    run_service,
    safe_next_url,
    too_many_attempts,
)

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
@no_store  # ?next= may carry a signed link (an invitation)
@provider_forms
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    next_url = request.args.get("next")
    if form.validate_on_submit():
        email = services.normalise_email(form.email.data)
        provider = sso_lookup.provider_for_email(db.session, email)
        if provider is not None and not (form.password.data and
                                         provider.allow_local_passwords):
            return sso_views.to_provider(provider, next_url, login_hint=email)
        if form.password.data and (response := _password_login(form, email, next_url)):
            return response
    # ?email= comes from the page of a provider that is down: straight to the password.
    if not form.is_submitted() and (given := request.args.get("email", "")[:254]):
        form.email.data = given
    step = "password" if form.email.data and not form.email.errors else "email"
    return render_form("accounts/login.html", form, step=step,
                       providers=sso_lookup.login_providers(db.session))


def _password_login(form: LoginForm, email: str, next_url: str | None):
    """Check the password; the response on success or when throttled, else None (the
    form then carries the error)."""
    ip = request.remote_addr or ""
    if wait := throttle.attempt(ip, email):
        return too_many_attempts(wait)
    user = services.authenticate(db.session, email, form.password.data)
    if user is None:
        db.session.rollback()
        form.form_errors.append(_("Wrong e-mail address or password."))
        return None
    sessions.log_in(db.session, user, remember=form.remember.data)
    throttle.succeeded(ip, email)
    flash(_("Welcome, %(name)s!", name=user.name), "success")
    return redirect(safe_next_url(next_url, url_for("core.index")))


@bp.post("/logout")
def logout():
    offer = None
    if current_user.is_authenticated:
        offer = sso_logout.end_session_offer(db.session, current_user.login_token,
                                             str(get_locale()))
        sessions.end(db.session, current_user.login_token)
        db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    if offer:  # logged in through a provider: offer to log out there too
        session[sso_views.LOGOUT_KEY] = offer
        return redirect(url_for("sso.logged_out"))
    return redirect(url_for("core.index"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@provider_forms
def signup():
    form = SignupForm()
    # The empty first option is chosen until the person picks one: no employer is guessed.
    form.organisation.choices = [SelectChoice("", _("Choose your employer")), *(
        SelectChoice(o.id, o.name) for o in list_organisations(db.session))]
    if form.validate_on_submit():
        if provider := sso_lookup.provider_for_email(db.session, form.email.data):
            # The organisation's login makes the account: no password to choose.
            flash(_("%(name)s logs you in with your work account. Your account in the "
                    "portal is made when you log in.", name=provider.display_name), "info")
            return sso_views.to_provider(provider, None,
                                         services.normalise_email(form.email.data))
        organisation = get_organisation_by_id(db.session, form.organisation.data)
        if run_service(form, lambda: services.sign_up(
            db.session, email=form.email.data, name=form.name.data, organisation=organisation,
            phone=form.phone.data or "", locale=session.get("locale"),
            mail_locale=str(get_locale()),
        )):
            return render_template("accounts/check_email.html", email=form.email.data)
    return render_form("accounts/signup.html", form)


@bp.route("/signup/finish/<token>", methods=["GET", "POST"])
@no_store
def finish_signup(token: str):
    try:
        pending = services.pending_signup(db.session, token)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("accounts.login"))
    if refused := _no_passwords_for(pending["email"]):
        return refused
    form = ResetPasswordForm()
    if form.validate_on_submit() and (created := run_service(
            form, lambda: services.finish_signup(db.session, token, form.password.data))):
        sessions.log_in(db.session, created.value)
        flash(_("Your account is ready. Welcome, %(name)s!", name=created.value.name),
              "success")
        return redirect(url_for("core.index"))
    return render_form("accounts/reset_password.html", form, email=pending["email"],
                       new_account=True)


@bp.get("/confirm/<token>")
@no_store
def confirm_email(token: str):
    try:
        services.confirm_email(db.session, token)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("Thank you! Your e-mail address is confirmed."), "success")
    return redirect(url_for("core.index"))


@bp.post("/confirm/resend")
@login_required
@limiter.limit("5 per hour")
def resend_confirmation():
    if current_user.email_confirmed_at is None:
        services.send_email_confirmation(db.session, current_user)
        db.session.commit()
    flash(_("We have sent you a new confirmation e-mail."), "info")
    return redirect(url_for("accounts.profile"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        if refused := _no_passwords_for(form.email.data):
            return refused
        services.request_password_reset(db.session, form.email.data)
        db.session.commit()
        flash(_("If an account exists for this address, we have sent it a link to choose a "
                "new password. The link is valid for a limited time."), "info")
        return redirect(url_for("accounts.login"))
    return render_form("accounts/forgot_password.html", form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@no_store
def reset_password(token: str):
    try:
        user = services.user_for_reset_token(db.session, token)
    except DomainError as error:
        flash(error.message, "danger")
        return redirect(url_for("accounts.forgot_password"))
    if refused := _no_passwords_for(user.email):
        return refused
    form = ResetPasswordForm()
    if form.validate_on_submit() and run_service(
        form, lambda: services.reset_password(db.session, token, form.password.data)
    ):
        sessions.log_in(db.session, user)
        flash(_("Your password is saved, and you are logged in."), "success")
        return redirect(url_for("core.index"))
    return render_form("accounts/reset_password.html", form, email=user.email,
                       new_account=user.password_hash is None)


def _no_passwords_for(email: str):
    """A redirect to the login page when the address's domain logs in only through its
    organisation's provider (a reset link sent before that rule came must not get round
    it); None when passwords are allowed. The domain decides, not the account, so this
    tells nobody whether the address has one."""
    provider = sso_lookup.provider_for_email(db.session, email)
    if provider is None or provider.allow_local_passwords:
        return None
    flash(_("Addresses of this domain log in through %(name)s, not with a password of the "
            "portal.", name=provider.display_name), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = _profile_form()
    if form.validate_on_submit() and run_service(form, lambda: services.update_profile(
        db.session, current_user, name=form.name.data, phone=form.phone.data or "",
        job_title=form.job_title.data or "", locale=form.locale.data,
    )):
        session.pop("locale", None)  # the saved choice (or the organisation's) applies now
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("accounts.profile"))
    return render_form("accounts/profile.html", form, password_form=ChangePasswordForm())


@bp.post("/profile/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit() and run_service(form, lambda: services.change_password(
        db.session, current_user, form.current.data, form.password.data,
    )):
        flash(_("Your password is changed. Other devices have been logged out."), "success")
        return redirect(url_for("accounts.profile"))
    return render_form("accounts/profile.html", _profile_form(formdata=None), password_form=form)


def _profile_form(**kwargs) -> ProfileForm:
    form = ProfileForm(obj=current_user, **kwargs)
    form.locale.choices = [SelectChoice("", _("The same as my organisation")), *(
        SelectChoice(code, label) for code, label in current_app.config["LANGUAGES"].items())]
    return form
