"""Tiny Russian message catalogs for tests that read a page, a mail, a script or a stored message in the
reader's language without depending on the committed locale/ru (which has its own completeness test,
tests/test_translations.py): a test names the few translations it reads, compiles them with polib into a
temporary `LOCALE_PATHS` and reads under Russian. Changing the setting through pytest-django's `settings`
fixture resets Django's translation caches on the way in and on the way out.
"""

from pathlib import Path

import polib

RUSSIAN_PLURALS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)

# The words the language tests look for (pages, mails, the scripts' catalog).
RUSSIAN = {
    "Preferences": "Настройки",
    "Members": "Участники",
    "Reset your simdesk password": "Сброс пароля simdesk",
    "You are invited to %s on simdesk": "Вас приглашают в %s на simdesk",
}
RUSSIAN_JS = {"stock": "в наличии"}

# msgid -> msgstr; or (msgid, msgid_plural) -> [three forms]
Entries = dict[str | tuple[str, str], str | list[str]]


def _catalog(entries: Entries, contexts: Entries | None = None, fuzzy: tuple[str, ...] = ()) -> polib.POFile:
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
            flags = ["fuzzy"] if key in fuzzy else []
            po.append(polib.POEntry(msgid=key, msgstr=str(value), flags=flags))
    for (context, msgid), value in (contexts or {}).items():
        po.append(polib.POEntry(msgctxt=context, msgid=msgid, msgstr=str(value)))
    return po


def write_catalog(folder: Path, domain: str, entries: Entries, *, fuzzy: tuple[str, ...] = ()) -> Path:
    """folder/ru/LC_MESSAGES/<domain>.po (and nothing else): the .po path."""
    path = folder / "ru" / "LC_MESSAGES" / f"{domain}.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    _catalog(entries, fuzzy=fuzzy).save(str(path))
    return path


def install_russian(
    settings,
    directory: Path,
    entries: Entries | None = None,
    *,
    contexts: Entries | None = None,
    js: Entries | None = None,
) -> None:
    """Compile `entries` (default: RUSSIAN, with RUSSIAN_JS for the scripts) and `contexts` ((context, msgid)
    -> msgstr) as the Russian catalogs Django reads."""
    folder = directory / "ru" / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    if entries is None:
        entries, js = RUSSIAN, RUSSIAN_JS if js is None else js
    _catalog(entries, contexts).save_as_mofile(str(folder / "django.mo"))
    if js:
        _catalog(js).save_as_mofile(str(folder / "djangojs.mo"))
    settings.LOCALE_PATHS = [str(directory)]
