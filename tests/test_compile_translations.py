"""`manage.py compile_translations` (run by `make install`): .po -> .mo in pure Python, only when changed."""

import gettext
import os

import pytest
from django.core.management import call_command

from tests.catalogs import write_catalog


@pytest.fixture
def locale(tmp_path, settings):
    settings.LOCALE_PATHS = [tmp_path]
    return tmp_path


def _read(mo) -> gettext.GNUTranslations:
    with open(mo, "rb") as handle:
        return gettext.GNUTranslations(handle)


def test_it_compiles_every_catalog_leaving_out_fuzzy_entries(locale):
    po = write_catalog(locale, "django", {"Save": "Сохранить", "Maybe": "Возможно"}, fuzzy=("Maybe",))
    js = write_catalog(locale, "djangojs", {"stock": "в наличии"})
    call_command("compile_translations", verbosity=0)
    catalog = _read(po.with_suffix(".mo"))
    assert catalog.gettext("Save") == "Сохранить"
    assert catalog.gettext("Maybe") == "Maybe"  # fuzzy: English until a translator confirms it
    assert _read(js.with_suffix(".mo")).gettext("stock") == "в наличии"


def test_it_writes_a_mo_only_when_its_po_is_newer(locale):
    po = write_catalog(locale, "django", {"Save": "Сохранить"})
    call_command("compile_translations", verbosity=0)
    mo = po.with_suffix(".mo")
    os.utime(mo, (1_000_000_000, 2_000_000_000))
    os.utime(po, (1_000_000_000, 1_900_000_000))
    call_command("compile_translations", verbosity=0)
    assert mo.stat().st_mtime == 2_000_000_000  # untouched
    write_catalog(locale, "django", {"Save": "Записать"})  # a translator changed it: newer than the .mo
    os.utime(po, (1_000_000_000, 2_050_000_000))
    call_command("compile_translations", verbosity=0)
    assert _read(mo).gettext("Save") == "Записать"
    os.utime(mo, (1_000_000_000, 2_100_000_000))
    call_command("compile_translations", "--force", verbosity=0)
    assert mo.stat().st_mtime != 2_100_000_000
