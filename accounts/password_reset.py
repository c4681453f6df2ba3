"""Password reset that cannot be turned into a mail cannon: at most a few mails per client address and
per account each hour. The page answers the same whether or not a mail went out, as Django's does for
unknown addresses, so the limit tells nobody which addresses have accounts."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import translation

from accounts.client_ip import client_ip

WINDOW_SECONDS = 3600


def _take(key: str, limit: int) -> bool:
    """Count one mail against `key` for the hour; False once `limit` mails were counted."""
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
        used = 1
    return used <= limit


class ResetForm(PasswordResetForm):
    """Django's reset form; each mail speaks the language its recipient chose (else the page's)."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs) -> None:
        language = getattr(context.get("user"), "language", "") or translation.get_language()
        with translation.override(language):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class LimitedPasswordResetView(auth_views.PasswordResetView):
    """Django's reset view, sending only while the address and the account are under their hourly limits."""

    form_class = ResetForm

    def form_valid(self, form) -> HttpResponse:
        email = form.cleaned_data["email"].strip().lower()
        # Both counters move on every request, so a sprayer cannot learn which one stopped it.
        address_ok = _take(f"pwreset:ip:{client_ip(self.request)}", settings.PASSWORD_RESET_MAILS_PER_ADDRESS)
        account_ok = _take(f"pwreset:account:{email}", settings.PASSWORD_RESET_MAILS_PER_ACCOUNT)
        if address_ok and account_ok:
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())
