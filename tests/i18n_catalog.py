"""A throwaway Russian catalog for tests that must see a page, a mail or a script switch language without
depending on the committed locale/ru (which has its own completeness test, tests/test_translations.py)."""

from pathlib import Path

import polib

RUSSIAN = {
    "Preferences": "Настройки",
    "Members": "Участники",
    "Reset your simdesk password": "Сброс пароля simdesk",
    "You are invited to %s on simdesk": "Вас приглашают в %s на simdesk",
}
RUSSIAN_JS = {"stock": "в наличии"}
PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)


def write_catalog(folder: Path, domain: str, entries: dict[str, str], *, fuzzy: tuple[str, ...] = ()) -> Path:
    """folder/ru/LC_MESSAGES/<domain>.po (and nothing else): the .po path."""
    po = polib.POFile()
    po.metadata = {
        "Content-Type": "text/plain; charset=UTF-8",
        "Language": "ru",
        "Plural-Forms": PLURAL_FORMS,
    }
    for msgid, msgstr in entries.items():
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr, flags=["fuzzy"] if msgid in fuzzy else []))
    path = folder / "ru" / "LC_MESSAGES" / f"{domain}.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    return path


def install_russian(folder: Path, settings) -> None:
    """Compile the test catalogs into `folder` and make it the project's locale folder for this test."""
    for domain, entries in (("django", RUSSIAN), ("djangojs", RUSSIAN_JS)):
        po = write_catalog(folder, domain, entries)
        polib.pofile(str(po)).save_as_mofile(str(po.with_suffix(".mo")))
    settings.LOCALE_PATHS = [folder]
