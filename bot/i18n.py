"""The gettext catalogs: loading them for the bot, and the extract → update → compile → check cycle.

Japanese is the source language: its text is the msgid, so it needs no catalog. Each other
language has `locales/<dir>/LC_MESSAGES/messages.po`, where <dir> is the language code with
"-" turned into "_" (やさしい日本語 is `ja_easy`, which is no Babel locale, hence our own
update/compile steps instead of `pybabel update/compile`).
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Callable

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import NullTranslations, Translations

from dialogs.languages import BY_CODE, LANGUAGES, SOURCE

DOMAIN = "messages"
ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
TEMPLATE = LOCALES / f"{DOMAIN}.pot"
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def babel_locale(code: str) -> str:
    """The Babel locale for formatting dates in a language (やさしい日本語 formats as Japanese)."""
    language = BY_CODE.get(code)
    return language.babel_locale if language else "ja"


def catalog_dir(code: str) -> str:
    return code.replace("-", "_")


def po_path(code: str, locales: Path = LOCALES) -> Path:
    return locales / catalog_dir(code) / "LC_MESSAGES" / f"{DOMAIN}.po"


def translated_codes() -> list[str]:
    return [language.code for language in LANGUAGES if language.code != SOURCE]


def _read(path: Path, code: str) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=BY_CODE[code].babel_locale)


class Catalogs:
    """The compiled catalogs for every language, loaded once per process."""

    def __init__(self, locales: Path = LOCALES):
        self.locales = locales
        self._translations: dict[str, NullTranslations] = {SOURCE: NullTranslations()}
        for code in translated_codes():
            self._translations[code] = self._load(code)
        self._by_msgid: dict[str, list[str]] = {}

    def _load(self, code: str) -> NullTranslations:
        po = po_path(code, self.locales)
        mo = po.with_suffix(".mo")
        if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as fp:
                return Translations(fp, domain=DOMAIN)
        if po.exists():  # not compiled yet (or stale): compile in memory
            buf = io.BytesIO()
            write_mo(buf, _read(po, code), use_fuzzy=False)
            buf.seek(0)
            return Translations(buf, domain=DOMAIN)
        return NullTranslations()

    def translator(self, language: str) -> Callable[[str], str]:
        return self._translations.get(language, self._translations[SOURCE]).gettext

    def translations_of(self, message: str) -> list[str]:
        found = self._by_msgid.get(message)
        if found is None:
            found = [t.gettext(message) for code, t in self._translations.items() if code != SOURCE]
            self._by_msgid[message] = found
        return found


# The catalog workflow: `python -m bot i18n extract|update|compile|check`

def extract() -> None:
    import contextlib

    from babel.messages.frontend import CommandLineInterface

    with contextlib.chdir(ROOT):  # so that the template's locations are relative
        CommandLineInterface().run([
            "pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "N_",
            "--no-wrap", "--sort-by-file", "--omit-header", "--add-comments=Translators:",
            "-o", str(TEMPLATE.relative_to(ROOT)), ".",
        ])


def update(locales: Path = LOCALES, template_path: Path = TEMPLATE) -> None:
    with template_path.open("rb") as fp:
        template = read_po(fp)
    for code in translated_codes():
        path = po_path(code, locales)
        if path.exists():
            catalog = _read(path, code)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=BY_CODE[code].babel_locale, domain=DOMAIN)
        catalog.update(template, update_header_comment=False)
        with path.open("wb") as fp:
            write_po(fp, catalog, width=0, omit_header=False, ignore_obsolete=True, sort_by_file=True)


def compile_all(locales: Path = LOCALES) -> None:
    for code in translated_codes():
        path = po_path(code, locales)
        if not path.exists():
            continue
        with path.with_suffix(".mo").open("wb") as fp:
            write_mo(fp, _read(path, code), use_fuzzy=False)


def problems(locales: Path = LOCALES, template_path: Path = TEMPLATE) -> list[str]:
    """Every untranslated, fuzzy or placeholder-mismatched message, in every language."""
    with template_path.open("rb") as fp:
        wanted = {m.id for m in read_po(fp) if m.id}
    found: list[str] = []
    for code in translated_codes():
        path = po_path(code, locales)
        if not path.exists():
            found.append(f"{code}: no catalog at {path}")
            continue
        catalog = _read(path, code)
        for msgid in sorted(wanted):
            message = catalog.get(msgid)
            short = msgid.replace("\n", " ")[:50]
            if message is None or not message.string:
                found.append(f"{code}: untranslated: {short}")
            elif message.fuzzy:
                found.append(f"{code}: fuzzy (the Japanese changed): {short}")
            elif sorted(_PLACEHOLDER.findall(msgid)) != sorted(_PLACEHOLDER.findall(message.string)):
                found.append(f"{code}: placeholders differ: {short}")
    return found


def main(argv: list[str]) -> int:
    steps = {"extract": extract, "update": update, "compile": compile_all}
    if not argv or argv[0] not in (*steps, "check", "all"):
        print("usage: python -m bot i18n extract|update|compile|check|all", file=sys.stderr)
        return 2
    if argv[0] == "all":
        extract(); update(); compile_all()
        return 0
    if argv[0] == "check":
        issues = problems()
        for line in issues:
            print(line)
        print(f"{len(issues)} catalog problem(s)")
        return 1 if issues else 0
    steps[argv[0]]()
    return 0
