"""Account basics on Django's auth views: log in, change a password, reset a forgotten one by email."""

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import ngettext

from projects.activity.notifications import recipient_languages
from projects.activity.tasks import send_notification
from projects.teams.forms import LoginForm
from projects.throttle import Throttled, throttle_check, throttle_fail, throttle_key
from studio_site.accounts import account_slowdown_clear, browser_remember, client_ip


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm

    def form_valid(self, form):
        response = super().form_valid(form)
        # This browser is now one of the account's usual places: guesses from elsewhere never delay it.
        browser_remember(self.request, response, form.get_user().get_username())
        return response


class StudioPasswordResetForm(PasswordResetForm):
    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        # Through the worker like every other studio email: the page answers in the
        # same time whether or not the address has an account, and a slow SMTP
        # server never holds (or fails) the request.
        # In the account's own language, which the browser asking for the reset may not speak.
        user = context["user"]
        with translation.override(recipient_languages([user])[user.pk]):
            subject = "".join(render_to_string(subject_template_name, context).splitlines())
            body = render_to_string(email_template_name, context)
        send_notification.delay_on_commit(user.pk, subject, body)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = StudioPasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def post(self, request, *args, **kwargs):
        key = throttle_key("password-reset", client_ip(request))
        try:
            throttle_check(keys=[key])
        except Throttled as exc:
            error = ngettext("Too many reset requests; try again in %(count)d minute.",
                             "Too many reset requests; try again in %(count)d minutes.", exc.minutes)
            context = self.get_context_data(form=self.get_form(), error=error % {"count": exc.minutes})
            return self.render_to_response(context, status=429)
        throttle_fail(key=key, limit=settings.PASSWORD_RESET_LIMIT, minutes=settings.LOGIN_COOLOFF_MINUTES)
        # The link in the email must be absolute: the public address when one is set.
        base_url = settings.PUBLIC_BASE_URL or request.build_absolute_uri("/")
        self.extra_email_context = {"base_url": base_url.rstrip("/")}
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever proved they own the mailbox is let back in before the cool-off ends, and this
        # browser becomes one of the account's usual places, which guesses from elsewhere never delay.
        username = form.user.get_username()
        axes_reset(username=username)
        account_slowdown_clear(username)
        browser_remember(self.request, response, username)
        return response
