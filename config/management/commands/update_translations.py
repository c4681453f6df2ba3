"""`manage.py update_translations` (`make messages`): refresh locale/<lang>/LC_MESSAGES/django.po and
djangojs.po from the source with Django's makemessages (needs GNU gettext), for translators to fill in.

The folders below are not ours to translate (or hold no UI); the completeness test
(tests/test_translations.py) extracts with the same list, so both see the same strings.
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

IGNORE_PATTERNS = [
    ".venv",
    "node_modules",
    "tests",
    "bench",
    "sandbox",
    "var",
    "docs",
    "static/vendor",
    "*.egg-info",
]
DOMAINS = ("django", "djangojs")


def make_messages(*, locales: list[str], verbosity: int = 1) -> None:
    """makemessages for both domains, keeping every location (translators need the context)."""
    for domain in DOMAINS:
        call_command(
            "makemessages",
            locale=locales,
            domain=domain,
            ignore_patterns=IGNORE_PATTERNS,
            verbosity=verbosity,
        )


class Command(BaseCommand):
    help = "Update the .po files of every language but English from the source (django and djangojs)."

    def handle(self, *args, **options) -> None:
        locales = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
        make_messages(locales=locales, verbosity=options["verbosity"])
