"""The dashboard's translations are complete, current and compiled."""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from router.dashboard import LANGUAGES, TRANSLATIONS

TRANSLATED = [language for language in LANGUAGES if language != "en"]
PLACEHOLDER = re.compile(r"%\(\w+\)s")
ROOT = TRANSLATIONS.parents[2]


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
