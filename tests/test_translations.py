"""Russian is complete: every string of ours is in locale/ru, translated, confirmed and well-formed.

(a) Every entry of locale/ru/LC_MESSAGES/django.po and djangojs.po is translated and not fuzzy; plural
    entries have Russian's three forms; the placeholders of each translation are those of its English.
(b) Extracting the source's strings again (Django's makemessages, with the ignore list `make messages`
    uses, into a temporary copy) finds no msgid the committed catalogs lack: a new English string
    without its translation fails here. This needs GNU gettext (xgettext); CI installs it (.ci/run) and
    must not skip, a machine without it skips (b) only.
"""

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

from config.management.commands.update_translations import DOMAINS, IGNORE_PATTERNS

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGE = "ru"
PLURALS = 3
# %(name)s, %s, %d (not %%), and {name} / {0} / {} of str.format.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")
SOURCES = (".py", ".html", ".txt", ".js")


def _catalog_path(domain: str) -> Path:
    return LOCALE / LANGUAGE / "LC_MESSAGES" / f"{domain}.po"


def _catalog(domain: str) -> polib.POFile:
    path = _catalog_path(domain)
    if not path.exists():
        pytest.fail(
            f"{path.relative_to(settings.BASE_DIR)} is missing: run `make messages` and translate every entry",
            pytrace=False,
        )
    return polib.pofile(str(path))


def _placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text.replace("%%", "")))


def _name(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt}|{entry.msgid}" if entry.msgctxt else entry.msgid


def _problems(po: polib.POFile) -> list[str]:
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        name = repr(_name(entry))[:120]
        if entry.fuzzy:
            problems.append(f"fuzzy: {name}")
            continue
        if entry.msgid_plural:
            forms = [entry.msgstr_plural.get(i, "") for i in range(PLURALS)]
            if not any(forms):
                problems.append(f"untranslated (plural, {PLURALS} forms): {name}")
                continue
            if len(entry.msgstr_plural) != PLURALS or not all(forms):
                problems.append(f"needs {PLURALS} plural forms, has {sum(map(bool, forms))}: {name}")
                continue
            # Form 0 also says 21, 31...: every form carries the plural's placeholders.
            expected = set(_placeholders(entry.msgid_plural))
            for index, form in enumerate(forms):
                if set(_placeholders(form)) != expected:
                    problems.append(f"placeholders of form {index} differ from the English: {name}")
        elif not entry.msgstr:
            problems.append(f"untranslated: {name}")
        elif _placeholders(entry.msgstr) != _placeholders(entry.msgid):
            problems.append(f"placeholders differ from the English: {name} -> {entry.msgstr!r}")
    return problems


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_entry_is_translated_confirmed_and_keeps_its_placeholders(domain):
    po = _catalog(domain)
    plural_forms = po.metadata.get("Plural-Forms", "")
    assert f"nplurals={PLURALS};" in plural_forms.replace(" ", ""), (
        f"{domain}.po: Plural-Forms is {plural_forms!r}"
    )
    problems = _problems(po)
    assert not problems, f"{len(problems)} problems in {domain}.po:\n" + "\n".join(problems)


def _copy_sources(destination: Path) -> None:
    """The files makemessages reads, without the folders it is told to ignore (and without locale/)."""
    root = Path(settings.BASE_DIR)
    skipped = {pattern for pattern in IGNORE_PATTERNS if "/" not in pattern} | {".git", "locale"}
    nested = [pattern for pattern in IGNORE_PATTERNS if "/" in pattern]
    for folder, dirs, files in os.walk(root):
        relative = Path(folder).relative_to(root)
        dirs[:] = [
            d
            for d in dirs
            if not any(Path(d).match(p) for p in skipped)
            and not d.startswith(".")
            and str(relative / d) not in nested
        ]
        for name in files:
            if name.endswith(SOURCES):
                target = destination / relative / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(folder) / name, target)


def test_the_catalogs_hold_every_string_of_the_source(tmp_path, monkeypatch, settings):
    if shutil.which("xgettext") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("xgettext is missing and CI=true: install gettext (.ci/run does)")
        pytest.skip("xgettext is missing (apt-get install gettext)")
    source = tmp_path / "source"
    _copy_sources(source)
    settings.LOCALE_PATHS = [source / "locale"]
    monkeypatch.chdir(source)
    call_command(
        "makemessages", locale=[LANGUAGE], domain="django", ignore_patterns=IGNORE_PATTERNS, verbosity=0
    )
    call_command(
        "makemessages", locale=[LANGUAGE], domain="djangojs", ignore_patterns=IGNORE_PATTERNS, verbosity=0
    )
    missing = []
    for domain in DOMAINS:
        extracted_path = source / "locale" / LANGUAGE / "LC_MESSAGES" / f"{domain}.po"
        extracted = (
            {_name(e): e for e in polib.pofile(str(extracted_path))} if extracted_path.exists() else {}
        )
        committed_path = _catalog_path(domain)
        committed = (
            {_name(e) for e in polib.pofile(str(committed_path)) if not e.obsolete}
            if committed_path.exists()
            else set()
        )
        for name in sorted(set(extracted) - committed):
            where = ", ".join(f"{file}:{line}" for file, line in extracted[name].occurrences[:2])
            missing.append(f"{domain}: {name!r}  ({where})")
    assert not missing, (
        f"{len(missing)} strings of the source are not in locale/{LANGUAGE} (run `make messages`, then translate):\n"
        + "\n".join(missing)
    )
