"""`manage.py compile_translations`: locale/*/LC_MESSAGES/*.po -> .mo with polib, no gettext tools needed.

`make install` runs it, so `make run` and `make test` always speak the committed translations. A .mo is
written only when its .po is newer (or with --force); fuzzy and untranslated entries are left out, as
msgfmt does, so they fall back to English.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


def catalogs(roots: list[Path]) -> list[Path]:
    """Every .po under the locale folders, sorted."""
    return sorted(po for root in roots for po in Path(root).glob("*/LC_MESSAGES/*.po"))


def compile_catalog(po: Path, *, force: bool = False) -> bool:
    """Write `po`'s .mo beside it when it is missing or older (or `force`); whether it was written."""
    mo = po.with_suffix(".mo")
    if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return False
    polib.pofile(str(po)).save_as_mofile(str(mo))
    return True


class Command(BaseCommand):
    help = "Compile the project's .po translations into .mo files (only those that changed)."
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="Compile every catalog, changed or not.")

    def handle(self, *args, force: bool = False, **options) -> None:
        written = [po for po in catalogs(list(settings.LOCALE_PATHS)) if compile_catalog(po, force=force)]
        for po in written:
            self.stdout.write(f"compiled {po.with_suffix('.mo')}")
        if options["verbosity"] > 1 and not written:
            self.stdout.write("translations are up to date")
