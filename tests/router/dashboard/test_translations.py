"""The dashboard's translations are complete, current and compiled."""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from router.dashboard import LANGUAGES, TRANSLATIONS
from router.dashboard.accounts import ROLES
from router.dashboard.labels import LABELS
from tests.dashboard_helpers import add_account, log_in

TRANSLATED = [language for language in LANGUAGES if language != "en"]
PLACEHOLDER = re.compile(r"%\(\w+\)s")
ROOT = TRANSLATIONS.parents[2]
# Words that a language may rightly write as English does; any other message
# whose translation is its msgid is taken for a copy of the English.
SAME_AS_ENGLISH = frozenset(
    {"Actions", "Auditor", "Grooming", "Name", "NGO", "Pages", "Police", "Version"}
)
# At least this share of each catalog must differ from the English.
MOSTLY_TRANSLATED = 0.9


def catalog(language: str):
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def template_ids() -> set[str]:
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def test_the_template_holds_every_message_of_the_code():
    """`messages.pot` is current: run `make translations` after a change."""
    extracted = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / "router" / "dashboard",
            method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
            keywords={"_": None, "gettext": None, "lazy_gettext": None, "_l": None},
        )
    }

    assert extracted == template_ids()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language):
    """Each language translates every message, keeping its placeholders."""
    messages = {message.id: message for message in catalog(language) if message.id}

    assert set(messages) == template_ids()
    for message_id, message in messages.items():
        assert message.string, f"{language}: {message_id!r} is not translated"
        assert not message.fuzzy, f"{language}: {message_id!r} is fuzzy"
        placeholders = sorted(PLACEHOLDER.findall(message_id))
        assert sorted(PLACEHOLDER.findall(message.string)) == placeholders


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_matches_its_source(language):
    """The `.mo` file served is compiled from the current `.po` file."""
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo"
    with path.open("rb") as handle:
        compiled = {message.id: message.string for message in read_mo(handle)}
    source = {message.id: message.string for message in catalog(language)}

    assert {key: value for key, value in compiled.items() if key} == {
        key: value for key, value in source.items() if key
    }


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_browser_preference_chooses_the_language(app, language):
    """The login page comes in the browser's preferred language."""
    expected = catalog(language)["Coordinators log in"].string

    page = app.test_client().get(
        "/dashboard/login", headers={"Accept-Language": f"{language};q=0.9,en;q=0.5"}
    )

    assert expected in page.get_data(as_text=True)
    assert f'<html lang="{language}">' in page.get_data(as_text=True)


def copied_from_english(messages) -> list[str]:
    """What is wrong with a catalog that copies the English: too many of its
    messages read as their msgid, or one that should not."""
    messages = [message for message in messages if message.id]
    same = sorted(message.id for message in messages if message.string == message.id)
    problems = [
        f"{message_id!r} reads as in English"
        for message_id in same
        if message_id not in SAME_AS_ENGLISH
    ]
    if len(same) > (1 - MOSTLY_TRANSLATED) * len(messages):
        problems.append(f"{len(same)} of {len(messages)} messages read as in English")

    return problems


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_messages_differ_from_english(language):
    """Nearly every message of each language differs from its English msgid;
    the few alike are words the language shares with English."""
    assert copied_from_english(catalog(language)) == []


def test_a_catalog_copied_from_english_is_caught():
    """The check above fails a catalog of msgids, and one copied message."""
    copied = catalog("de")
    for message in copied:
        if message.id:
            message.string = message.id
    one_copied = catalog("fr")
    one_copied["Annual report"].string = "Annual report"

    assert len(copied_from_english(copied)) > 100
    assert copied_from_english(one_copied) == ["'Annual report' reads as in English"]


def test_every_role_has_a_label():
    """Each account role is a word of the pages, translated like the others."""
    assert set(ROLES) <= set(LABELS)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_header_names_the_role_in_the_reader_language(app, services, language):
    """An auditor's header gives the role in the page's language."""
    add_account(services, "auditor-1", role="auditor")
    client = app.test_client()
    headers = {"Accept-Language": language}
    assert log_in(client, "auditor-1", headers=headers).status_code == 302
    word = "Auditor" if language == "en" else catalog(language)["Auditor"].string

    page = client.get("/dashboard/", headers=headers).get_data(as_text=True)

    assert f'<html lang="{language}">' in page
    assert f'<span class="who">auditor-1 ({word})</span>' in page
    assert "(auditor)" not in page
