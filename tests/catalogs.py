"""A tiny Russian message catalog for tests that read stored messages in the reader's language.

The project's own `locale/` may not hold a msgid yet (or at all while it is written), so a test names the
few translations it reads, compiles them with polib into a temporary `LOCALE_PATHS` and reads under
`translation.override("ru")`. Changing the setting through pytest-django's `settings` fixture resets
Django's translation caches on the way in and on the way out.
"""

from pathlib import Path

import polib

RUSSIAN_PLURALS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)

# msgid -> msgstr; or (msgid, msgid_plural) -> [three forms]; or (context, msgid) -> msgstr with a context
Entries = dict[str | tuple[str, str], str | list[str]]


def install_russian(settings, directory: Path, entries: Entries, *, contexts: Entries | None = None) -> None:
    """Compile `entries` (and `contexts`: (context, msgid) -> msgstr) as the Russian catalog Django reads."""
    po = polib.POFile()
    po.metadata = {
        "Content-Type": "text/plain; charset=UTF-8",
        "Language": "ru",
        "Plural-Forms": RUSSIAN_PLURALS,
    }
    for key, value in entries.items():
        if isinstance(key, tuple):
            singular, plural = key
            forms = {index: form for index, form in enumerate(value)}
            po.append(polib.POEntry(msgid=singular, msgid_plural=plural, msgstr_plural=forms))
        else:
            po.append(polib.POEntry(msgid=key, msgstr=str(value)))
    for (context, msgid), value in (contexts or {}).items():
        po.append(polib.POEntry(msgctxt=context, msgid=msgid, msgstr=str(value)))
    folder = directory / "ru" / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    po.save_as_mofile(str(folder / "django.mo"))
    settings.LOCALE_PATHS = [str(directory)]
