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
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sd]")

# The staff console has its own domain: staff work in Japanese (the source), and the city's IT
# vendor or a staff member who reads English can switch; parents never see these strings.
CONSOLE_DOMAIN = "console"
CONSOLE_LANGUAGES = ("en",)


def babel_locale(code: str) -> str:
    """The Babel locale for formatting dates in a language (やさしい日本語 formats as Japanese)."""
    language = BY_CODE.get(code)
    return language.babel_locale if language else "ja"


def catalog_dir(code: str) -> str:
    return code.replace("-", "_")


def po_path(code: str, locales: Path = LOCALES, domain: str = DOMAIN) -> Path:
    return locales / catalog_dir(code) / "LC_MESSAGES" / f"{domain}.po"


def translated_codes(domain: str = DOMAIN) -> list[str]:
    if domain == CONSOLE_DOMAIN:
        return list(CONSOLE_LANGUAGES)
    return [language.code for language in LANGUAGES if language.code != SOURCE]


def template_path(domain: str = DOMAIN, locales: Path = LOCALES) -> Path:
    return locales / f"{domain}.pot"


def _read(path: Path, code: str) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=BY_CODE[code].babel_locale)


class Catalogs:
    """The compiled catalogs for every language, loaded once per process."""

    def __init__(self, locales: Path = LOCALES, domain: str = DOMAIN):
        self.locales = locales
        self.domain = domain
        self._translations: dict[str, NullTranslations] = {SOURCE: NullTranslations()}
        for code in translated_codes(domain):
            self._translations[code] = self._load(code)
        self._by_msgid: dict[str, list[str]] = {}

    @property
    def fingerprint(self) -> tuple:
        """Which catalog files these are, and when they last changed."""
        found = []
        for code in translated_codes(self.domain):
            for path in (po_path(code, self.locales, self.domain), po_path(code, self.locales, self.domain).with_suffix(".mo")):
                found.append((str(path), path.stat().st_mtime_ns if path.exists() else 0))
        return tuple(found)

    @property
    def languages(self) -> list[str]:
        return list(self._translations)

    def _load(self, code: str) -> NullTranslations:
        po = po_path(code, self.locales, self.domain)
        mo = po.with_suffix(".mo")
        if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as fp:
                return Translations(fp, domain=self.domain)
        if po.exists():  # not compiled yet (or stale): compile in memory
            buf = io.BytesIO()
            write_mo(buf, _read(po, code), use_fuzzy=False)
            buf.seek(0)
            return Translations(buf, domain=self.domain)
        return NullTranslations()

    def translations(self, language: str) -> NullTranslations:
        return self._translations.get(language, self._translations[SOURCE])

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
        for domain, mapping in ((DOMAIN, "babel.cfg"), (CONSOLE_DOMAIN, "babel-console.cfg")):
            CommandLineInterface().run([
                "pybabel", "-q", "extract", "-F", mapping, "-k", "N_",
                "--no-wrap", "--sort-by-file", "--omit-header", "--add-comments=Translators:",
                "-o", str(template_path(domain).relative_to(ROOT)), ".",
            ])


def update(locales: Path = LOCALES, template: Path | None = None, domain: str | None = None) -> None:
    if domain is None and template is None:
        update(locales, domain=DOMAIN)
        update(locales, domain=CONSOLE_DOMAIN)
        return
    domain = domain or DOMAIN
    with (template or template_path(domain, locales)).open("rb") as fp:
        source = read_po(fp)
    for code in translated_codes(domain):
        path = po_path(code, locales, domain)
        if path.exists():
            catalog = _read(path, code)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=BY_CODE[code].babel_locale, domain=domain)
        catalog.update(source, update_header_comment=False)
        with path.open("wb") as fp:
            write_po(fp, catalog, width=0, omit_header=False, ignore_obsolete=True, sort_by_file=True)


def compile_all(locales: Path = LOCALES) -> None:
    for domain in (DOMAIN, CONSOLE_DOMAIN):
        for code in translated_codes(domain):
            path = po_path(code, locales, domain)
            if not path.exists():
                continue
            with path.with_suffix(".mo").open("wb") as fp:
                write_mo(fp, _read(path, code), use_fuzzy=False)


def problems(locales: Path = LOCALES, template: Path | None = None, domain: str | None = None) -> list[str]:
    """Every untranslated, fuzzy or placeholder-mismatched message, in every language."""
    if domain is None and template is None:
        return problems(locales, domain=DOMAIN) + problems(locales, domain=CONSOLE_DOMAIN)
    domain = domain or DOMAIN
    with (template or template_path(domain, locales)).open("rb") as fp:
        wanted = {m.id for m in read_po(fp) if m.id}
    found: list[str] = []
    prefix = "" if domain == DOMAIN else f"{domain} "
    for code in translated_codes(domain):
        path = po_path(code, locales, domain)
        if not path.exists():
            found.append(f"{prefix}{code}: no catalog at {path}")
            continue
        catalog = _read(path, code)
        for msgid in sorted(wanted):
            message = catalog.get(msgid)
            short = msgid.replace("\n", " ")[:50]
            if message is None or not message.string:
                found.append(f"{prefix}{code}: untranslated: {short}")
            elif message.fuzzy:
                found.append(f"{prefix}{code}: fuzzy (the Japanese changed): {short}")
            elif sorted(_PLACEHOLDER.findall(msgid)) != sorted(_PLACEHOLDER.findall(message.string)):
                found.append(f"{prefix}{code}: placeholders differ: {short}")
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
