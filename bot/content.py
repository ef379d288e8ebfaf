"""A city's content pack: a folder of TOML files (`city.toml`, …) read at start-up.

Another city runs the bot by pointing CITY_CONTENT_DIR at its own folder; no code changes.
`extract` lets Babel pull every Japanese text of a pack into the catalogs.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from dialogs.city import City, Window

TRANSLATED_FIELDS = ("name", "bot_name", "place", "hours")


class ContentError(Exception):
    pass


def load_city(content_dir: Path) -> City:
    path = Path(content_dir) / "city.toml"
    try:
        with path.open("rb") as fp:
            data = tomllib.load(fp)
    except FileNotFoundError:
        raise ContentError(f"no city pack at {path}: set CITY_CONTENT_DIR") from None
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{path}: {exc}") from None
    try:
        city = data["city"]
        windows = tuple(
            Window(id=str(w["id"]), name=str(w["name"]), place=str(w.get("place", "")),
                   phone=str(w.get("phone", "")).strip(), hours=str(w.get("hours", "")).strip())
            for w in data["windows"]
        )
        if not windows:
            raise ContentError(f"{path}: at least one [[windows]] entry is needed")
        return City(id=str(city["id"]), name=str(city["name"]), bot_name=str(city["bot_name"]),
                    windows=windows)
    except KeyError as exc:
        raise ContentError(f"{path}: missing {exc.args[0]!r}") from None


def extract(fileobj, keywords, comment_tags, options):
    """Babel extractor: yields (lineno, funcname, message, comments) for each text to translate."""
    raw = fileobj.read().decode("utf-8")
    data = tomllib.loads(raw)
    lines = raw.splitlines()

    def lineno_of(value: str) -> int:
        for number, line in enumerate(lines, 1):
            if value in line:
                return number
        return 0

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in TRANSLATED_FIELDS and isinstance(value, str) and value.strip():
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for value in walk(data):
        yield lineno_of(value), None, value, []
