"""A city's content pack: a folder of TOML files read at start-up.

    city.toml   the city, its windows (name, place, phone, hours: empty when not given)
    faq.toml    categories and FAQ entries (id, category, question, answer, phrases, related, window)
    phrases/<language>.toml   more search phrases per entry id, as people type them in that language

Another city runs the bot by pointing CITY_CONTENT_DIR at its own folder; no code changes.
`extract` lets Babel pull every Japanese text of a pack into the catalogs.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

from datetime import date, time

from dialogs.city import Category, City, FaqEntry, SafetyLine, StaffHours, Window

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

TRANSLATED_FIELDS = ("name", "bot_name", "place", "hours", "title", "label", "question", "answer", "age_group",
                     "text")
TRANSLATED_LISTS = ("offers",)
MAX_ANSWER = 600


class ContentError(Exception):
    pass


def _read(path: Path, required: bool = True) -> dict:
    try:
        with path.open("rb") as fp:
            return tomllib.load(fp)
    except FileNotFoundError:
        if not required:
            return {}
        raise ContentError(f"no {path.name} in the city pack at {path.parent}: set CITY_CONTENT_DIR") from None
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{path}: {exc}") from None


def _text(value) -> str:
    return str(value or "").strip()


def load_city(content_dir: Path) -> City:
    content_dir = Path(content_dir)
    data = _read(content_dir / "city.toml")
    faq_data = _read(content_dir / "faq.toml", required=False)
    try:
        city = data["city"]
        windows = tuple(
            Window(id=str(w["id"]), name=_text(w["name"]), place=_text(w.get("place")),
                   phone=_text(w.get("phone")), hours=_text(w.get("hours")))
            for w in data["windows"]
        )
        categories = tuple(Category(id=str(c["id"]), title=_text(c["title"]))
                           for c in faq_data.get("categories", []))
        faq = tuple(
            FaqEntry(id=str(f["id"]), category=str(f["category"]), label=_text(f["label"]),
                     question=_text(f["question"]),
                     answer=_text(f["answer"]), phrases=tuple(_text(p) for p in f.get("phrases", []) if _text(p)),
                     related=tuple(str(r) for r in f.get("related", [])), window=_text(f.get("window")),
                     follow_up=bool(f.get("follow_up", False)), near_risk=bool(f.get("near_risk", False)))
            for f in faq_data.get("faq", [])
        )
    except KeyError as exc:
        raise ContentError(f"{content_dir}: missing {exc.args[0]!r}") from None
    faq = _with_phrases(faq, content_dir / "phrases")
    lines = tuple(SafetyLine(category=_text(line.get("category")), label=_text(line.get("label")),
                             phone=_text(line.get("phone")))
                  for line in data.get("safety_lines", []) if _text(line.get("phone")))
    result = City(id=str(city["id"]), name=_text(city["name"]), bot_name=_text(city["bot_name"]),
                  windows=windows, categories=categories, faq=faq,
                  staff_hours=_staff_hours(data.get("staff_hours", {}), content_dir / "city.toml"),
                  safety_lines=lines)
    problems = check(result)
    if problems:
        raise ContentError(f"{content_dir}: " + "; ".join(problems))
    return result


def _staff_hours(table: dict, path: Path) -> StaffHours:
    """`mon = "08:30-17:15"` (several spans separated by commas; empty: closed that day)."""
    weekly = []
    try:
        for day in WEEKDAYS:
            spans = []
            for span in _text(table.get(day)).split(","):
                if span.strip():
                    start, end = (time.fromisoformat(part.strip()) for part in span.split("-"))
                    if end <= start:
                        raise ValueError(f"{span!r} ends before it starts")
                    spans.append((start, end))
            weekly.append(tuple(spans))
        closed = tuple(date.fromisoformat(str(d)) for d in table.get("closed_dates", []))
    except ValueError as exc:
        raise ContentError(f"{path} [staff_hours]: {exc} (write e.g. mon = \"08:30-17:15\")") from None
    return StaffHours(tuple(weekly), closed, bool(table.get("close_on_national_holidays", True)))


def _with_phrases(faq: tuple[FaqEntry, ...], folder: Path) -> tuple[FaqEntry, ...]:
    extra: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else ():
        for entry_id, phrases in _read(path).items():
            if entry_id not in {e.id for e in faq}:
                raise ContentError(f"{path}: no FAQ entry {entry_id!r}")
            extra.setdefault(entry_id, []).extend(_text(p) for p in phrases if _text(p))
    return tuple(replace(e, phrases=e.phrases + tuple(extra.get(e.id, ()))) for e in faq)


def check(city: City) -> list[str]:
    """What is wrong with a pack: dangling references, duplicates, over-long answers."""
    found = []
    if not city.windows:
        found.append("at least one [[windows]] entry is needed")
    window_ids = {w.id for w in city.windows}
    category_ids = [c.id for c in city.categories]
    entry_ids = [e.id for e in city.faq]
    for kind, ids in (("category", category_ids), ("faq", entry_ids), ("window", [w.id for w in city.windows])):
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            found.append(f"duplicate {kind} ids: {sorted(duplicates)}")
    for entry in city.faq:
        if entry.category not in category_ids:
            found.append(f"{entry.id}: unknown category {entry.category!r}")
        for related in entry.related:
            if related not in entry_ids:
                found.append(f"{entry.id}: related entry {related!r} does not exist")
        if entry.window and entry.window not in window_ids:
            found.append(f"{entry.id}: unknown window {entry.window!r}")
        if len(entry.answer) > MAX_ANSWER:
            found.append(f"{entry.id}: answer is {len(entry.answer)} characters (≤ {MAX_ANSWER})")
        if not entry.question or not entry.answer:
            found.append(f"{entry.id}: question and answer are required")
        for text in (entry.question, entry.answer):
            if any(ch in text for ch in "{}|"):
                found.append(f"{entry.id}: braces and '|' are reserved in texts")
    return found


def extract(fileobj, keywords, comment_tags, options):
    """Babel extractor: yields (lineno, funcname, message, comments) for each text to translate."""
    raw = fileobj.read().decode("utf-8")
    data = tomllib.loads(raw)
    lines = raw.splitlines()

    def lineno_of(value: str) -> int:
        first = value.strip().splitlines()[0] if value.strip() else value
        for number, line in enumerate(lines, 1):
            if first in line:
                return number
        return 0

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in TRANSLATED_FIELDS and isinstance(value, str) and value.strip():
                    yield value.strip()
                elif key in TRANSLATED_LISTS and isinstance(value, list):
                    yield from (v.strip() for v in value if isinstance(v, str) and v.strip())
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for value in walk(data):
        yield lineno_of(value), None, value, []
