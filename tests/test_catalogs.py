"""The catalogs: complete in every language, and a changed Japanese source marks translations fuzzy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from bot import i18n

ROOT = Path(__file__).resolve().parent.parent


def test_every_message_is_translated_in_every_language_with_matching_placeholders():
    assert i18n.problems() == []


def test_the_template_is_up_to_date_with_the_code(tmp_path):
    """A string added in code but never extracted would silently show in Japanese."""
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
                    "-k", "N_", "--no-wrap", "--omit-header", "-o", str(tmp_path / "fresh.pot"), "."],
                   cwd=ROOT, check=True)
    with (tmp_path / "fresh.pot").open("rb") as fp:
        fresh = {m.id for m in read_po(fp) if m.id}
    with i18n.TEMPLATE.open("rb") as fp:
        committed = {m.id for m in read_po(fp) if m.id}
    assert fresh - committed == set(), "run `make i18n` and translate the new strings"


def test_a_changed_japanese_source_makes_its_translations_fuzzy_and_fails_the_check(tmp_path):
    locales = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES, locales)
    template = locales / "messages.pot"
    text = template.read_text()
    assert 'msgid "中止しました。"' in text
    template.write_text(text.replace('msgid "中止しました。"', 'msgid "中止しました！"'))
    i18n.update(locales, template)
    found = i18n.problems(locales, template)
    assert found and all("中止しました！" in line for line in found)
    assert any("fuzzy" in line for line in found)
    assert len(found) == len(i18n.translated_codes())


def test_a_placeholder_lost_in_translation_is_caught(tmp_path):
    locales = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES, locales)
    po = i18n.po_path("en", locales)
    with po.open("rb") as fp:
        catalog = read_po(fp, locale="en")
    message = next(m for m in catalog if m.id and "{days}" in m.id)
    message.string = message.string.replace("{days}", "30")
    from babel.messages.pofile import write_po

    with po.open("wb") as fp:
        write_po(fp, catalog)
    assert any("placeholders differ" in line for line in i18n.problems(locales))
