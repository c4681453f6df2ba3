"""kit.phrases: a message stored while one language is active is said in the reader's language when read;
its parameters (labels, counts, money, times) too; text stored before phrases reads as it was."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy, gettext_noop, ngettext_lazy, pgettext_lazy

from kit.jobs import job_finish, job_get, job_start
from kit.phrases import Money, phrase, phrase_from, phrase_loads, phrase_text
from tests.catalogs import install_russian

REMOVED = "Removed %(user)s"
KEY_STATE = "Set key %(label)s to %(status)s"
CANCELLED = (
    "Cancelled %(phone)s: no code after %(minutes)s minute",
    "Cancelled %(phone)s: no code after %(minutes)s minutes",
)
LIMIT = "Your daily spend limit is reached (%(left)s left of %(limit)s)."
BANNED = "The provider has banned this account until %(until)s."


@pytest.fixture
def russian(settings, tmp_path):
    install_russian(
        settings,
        tmp_path,
        {
            REMOVED: "Удалён %(user)s",
            KEY_STATE: "Ключ %(label)s: %(status)s",
            "Disabled": "Отключён",
            CANCELLED: [
                "Отменён %(phone)s: нет кода за %(minutes)s минуту",
                "Отменён %(phone)s: нет кода за %(minutes)s минуты",
                "Отменён %(phone)s: нет кода за %(minutes)s минут",
            ],
            LIMIT: "Дневной лимит исчерпан (осталось %(left)s из %(limit)s).",
            BANNED: "Провайдер заблокировал аккаунт до %(until)s.",
            "Broken %(name)s": "Сломано %(nom)s",
            "The old words": "Старые слова",
        },
        contexts={("rent status", "Finished"): "Завершена"},
    )


def test_it_stores_the_msgid_and_says_it_in_the_readers_language(russian):
    with translation.override("en"):  # a worker: no request, English
        stored = phrase(gettext_noop(REMOVED), user="bob").stored(300)
    assert json.loads(stored) == {"m": REMOVED, "p": {"user": "bob"}}
    with translation.override("ru"):
        assert phrase_text(stored) == "Удалён bob"
    with translation.override("en"):
        assert phrase_text(stored) == "Removed bob"


def test_a_label_parameter_is_translated_when_read(russian):
    # A choice's label (a lazy translation) is kept as its msgid, not as the writer's words.
    disabled = gettext_lazy("Disabled")
    with translation.override("ru"):  # even a Russian writer stores English
        stored = phrase(gettext_noop(KEY_STATE), label="Main", status=disabled).stored(300)
    assert "Отключён" not in stored and '"Disabled"' in stored
    with translation.override("ru"):
        assert phrase_text(stored) == "Ключ Main: Отключён"
    with translation.override("en"):
        assert phrase_text(stored) == "Set key Main to Disabled"


@pytest.mark.parametrize(
    ("minutes", "russian_text"), [(1, "минуту"), (3, "минуты"), (5, "минут"), (21, "минуту")]
)
def test_a_count_takes_the_readers_plural_form(russian, minutes, russian_text):
    stored = phrase(ngettext_lazy(*CANCELLED, "minutes"), phone="79001234567", minutes=minutes).stored(300)
    with translation.override("ru"):
        assert phrase_text(stored) == f"Отменён 79001234567: нет кода за {minutes} {russian_text}"
    with translation.override("en"):
        assert phrase_text(stored).endswith(f"after {minutes} minute" + ("" if minutes == 1 else "s"))


def test_a_word_with_a_context_is_translated_in_its_context(russian):
    stored = phrase(pgettext_lazy("rent status", "Finished")).stored(300)
    with translation.override("ru"):
        assert phrase_text(stored) == "Завершена"


def test_money_is_formatted_when_read(russian):
    stored = phrase(
        gettext_noop(LIMIT), left=Money(Decimal("0"), "RUB"), limit=Money(Decimal("1234.5"), "RUB")
    ).stored(300)
    assert "1,234.50" not in stored  # a value, not the writer's text
    with translation.override("en"):
        assert phrase_text(stored) == "Your daily spend limit is reached (0.00 RUB left of 1,234.50 RUB)."
    with translation.override("ru"):
        assert phrase_text(stored).startswith("Дневной лимит исчерпан (осталось 0.00 RUB из 1,234.50 RUB")


def test_a_time_is_shown_in_the_readers_zone(russian):
    stored = phrase(gettext_noop(BANNED), until=datetime(2026, 3, 1, 12, 0, tzinfo=UTC)).stored(300)
    with translation.override("ru"), timezone.override("Europe/Moscow"):
        assert phrase_text(stored) == "Провайдер заблокировал аккаунт до 2026-03-01 15:00."
    with translation.override("en"), timezone.override("UTC"):
        assert phrase_text(stored) == "The provider has banned this account until 2026-03-01 12:00."


def test_a_nested_phrase_is_said_in_the_readers_language(russian):
    reason = phrase(gettext_noop(REMOVED), user="bob")
    stored = phrase(gettext_noop("Broken %(name)s"), name=reason).stored(300)
    with translation.override("en"):
        assert phrase_text(stored) == "Broken Removed bob"


def test_text_stored_before_phrases_reads_as_it_was(russian):
    with translation.override("ru"):
        assert (
            phrase_text("Bought tg number 79001234567 (50% off)") == "Bought tg number 79001234567 (50% off)"
        )
        assert phrase_text("The old words") == "Старые слова"  # exactly a msgid: translated
        assert phrase_text("") == ""
        assert phrase_text(None) == ""
        assert phrase_text('{"m": broken') == '{"m": broken'


def test_a_translation_that_names_a_parameter_wrongly_falls_back_to_english(russian):
    stored = phrase(gettext_noop("Broken %(name)s"), name="x").stored(300)
    with translation.override("ru"):
        assert phrase_text(stored) == "Broken x"


def test_a_long_parameter_is_shortened_so_the_json_stays_whole():
    stored = phrase(gettext_noop(REMOVED), user="ж" * 500).stored(120)
    assert len(stored) <= 120
    data = json.loads(stored)
    assert data["m"] == REMOVED and data["p"]["user"].endswith("…")
    assert phrase_text(stored).startswith("Removed жжж")


def test_a_nested_long_parameter_is_shortened_too():
    inner = phrase(gettext_noop(REMOVED), user="x" * 400)
    stored = phrase(gettext_noop("Broken %(name)s"), name=inner).stored(200)
    assert len(stored) <= 200 and json.loads(stored)["p"]["name"]["m"] == REMOVED


def test_a_column_too_small_for_the_words_keeps_the_words():
    stored = phrase(gettext_noop(REMOVED), user="bob").stored(30)
    assert len(stored) <= 30 and phrase_text(stored).startswith("Removed")


def test_a_phrase_in_two_columns_reads_like_one(russian):
    words = phrase(gettext_noop(REMOVED), user="bob")
    rest = {key: value for key, value in words.data().items() if key != "m"}
    with translation.override("ru"):
        assert phrase_text(phrase_from(words.msgid, rest)) == "Удалён bob"
        assert phrase_text(phrase_from("An entry from before", None)) == "An entry from before"


def test_loads_gives_back_what_stored_wrote():
    words = phrase(ngettext_lazy(*CANCELLED, "minutes"), phone="7", minutes=2)
    assert phrase_loads(words.stored(300)) == words


def test_the_template_filter_says_it_in_the_active_language(russian):
    stored = phrase(gettext_noop(REMOVED), user="<b>bob</b>").stored(300)
    template = Template("{% load simdesk %}{{ message|phrase_text }}")
    with translation.override("ru"):
        assert template.render(Context({"message": stored})) == "Удалён &lt;b&gt;bob&lt;/b&gt;"


def test_a_job_outcome_written_by_a_worker_is_told_in_the_readers_language(russian):
    job = job_start(kind="snapshot", owner="team:1")
    with translation.override("en"):  # the worker
        job_finish(job.id, ok=False, message=ngettext_lazy(*CANCELLED, "minutes"), phone="7900", minutes=2)
    finished = job_get(job.id, owner="team:1")
    with translation.override("ru"):  # the member whose page follows the job
        assert finished.text() == "Отменён 7900: нет кода за 2 минуты"
    with translation.override("en"):
        assert finished.text() == "Cancelled 7900: no code after 2 minutes"


def test_old_text_keeps_its_line_breaks_exactly():
    # gettext turns "\r" into "\n"; a message read back untranslated is the stored text, byte for byte.
    assert phrase_text("\rCR") == "\rCR"
    assert phrase_text("two\r\nlines") == "two\r\nlines"
