"""LINE's limits on what a bot may send (Messaging API reference), checked on rendered JSON.

Lengths are in characters except message text, which LINE counts in UTF-16 code units. Labels
are counted in UTF-16 units too, to be safe with emoji (🌐 is one character but two units).
"""

from __future__ import annotations

import re

MAX_MESSAGES = 5
MAX_TEXT_UTF16 = 5000
MAX_QUICK_REPLY_ITEMS = 13
MAX_ACTION_LABEL = 20
MAX_POSTBACK_DATA = 300
MAX_DISPLAY_TEXT = 300
MAX_ALT_TEXT = 400
MAX_BUTTONS_ACTIONS = 4
MAX_BUTTONS_TEXT = 160
MAX_BUTTONS_TEXT_WITH_TITLE = 60
MAX_BUTTONS_TITLE = 40
MAX_URI = 1000


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _action_problems(a: dict, where: str) -> list[str]:
    found = []
    label = a.get("label", "")
    if not label or utf16_units(label) > MAX_ACTION_LABEL:
        found.append(f"{where}: label {label!r} is {utf16_units(label)} UTF-16 units (1–{MAX_ACTION_LABEL})")
    if a["type"] in ("postback", "datetimepicker"):
        if len(a["data"]) > MAX_POSTBACK_DATA:
            found.append(f"{where}: postback data is {len(a['data'])} characters (≤{MAX_POSTBACK_DATA})")
        if len(a.get("displayText", "")) > MAX_DISPLAY_TEXT:
            found.append(f"{where}: displayText over {MAX_DISPLAY_TEXT} characters")
    if a["type"] == "message" and not (0 < len(a["text"]) <= MAX_DISPLAY_TEXT):
        found.append(f"{where}: message action text length {len(a['text'])}")
    if a["type"] == "uri" and len(a["uri"]) > MAX_URI:
        found.append(f"{where}: uri over {MAX_URI} characters")
    return found


def problems(messages: list[dict]) -> list[str]:
    """Everything in `messages` that LINE would refuse; empty when all is within limits."""
    found = []
    if not 1 <= len(messages) <= MAX_MESSAGES:
        found.append(f"{len(messages)} messages in one request (1–{MAX_MESSAGES})")
    for i, m in enumerate(messages):
        where = f"message {i + 1}"
        if m["type"] == "text":
            units = utf16_units(m["text"])
            if not 0 < units <= MAX_TEXT_UTF16:
                found.append(f"{where}: text is {units} UTF-16 units (1–{MAX_TEXT_UTF16})")
        elif m["type"] == "template":
            t = m["template"]
            if not 0 < len(m["altText"]) <= MAX_ALT_TEXT:
                found.append(f"{where}: altText is {len(m['altText'])} characters (1–{MAX_ALT_TEXT})")
            limit = MAX_BUTTONS_TEXT_WITH_TITLE if t.get("title") else MAX_BUTTONS_TEXT
            if not 0 < len(t["text"]) <= limit:
                found.append(f"{where}: buttons text is {len(t['text'])} characters (1–{limit})")
            if len(t.get("title", "")) > MAX_BUTTONS_TITLE:
                found.append(f"{where}: buttons title over {MAX_BUTTONS_TITLE} characters")
            if not 1 <= len(t["actions"]) <= MAX_BUTTONS_ACTIONS:
                found.append(f"{where}: {len(t['actions'])} buttons (1–{MAX_BUTTONS_ACTIONS})")
            for j, a in enumerate(t["actions"]):
                found += _action_problems(a, f"{where} button {j + 1}")
        items = (m.get("quickReply") or {}).get("items", [])
        if len(items) > MAX_QUICK_REPLY_ITEMS:
            found.append(f"{where}: {len(items)} quick replies (≤{MAX_QUICK_REPLY_ITEMS})")
        for j, item in enumerate(items):
            found += _action_problems(item["action"], f"{where} quick reply {j + 1}")
    return found


def _cut_utf16(text: str, units: int) -> str:
    return text.encode("utf-16-le")[: units * 2].decode("utf-16-le", errors="ignore")


def clamp(messages: list[dict]) -> list[dict]:
    """Last line of defence before sending: cut what the tests should have caught, never fail."""
    out = []
    for m in messages[:MAX_MESSAGES]:
        m = dict(m)
        if m["type"] == "text" and utf16_units(m["text"]) > MAX_TEXT_UTF16:
            m["text"] = _cut_utf16(m["text"], MAX_TEXT_UTF16 - 1) + "…"
        if "quickReply" in m:
            items = m["quickReply"]["items"][:MAX_QUICK_REPLY_ITEMS]
            for item in items:
                label = item["action"].get("label", "")
                if utf16_units(label) > MAX_ACTION_LABEL:
                    item["action"] = {**item["action"], "label": _cut_utf16(label, MAX_ACTION_LABEL - 1) + "…"}
            m["quickReply"] = {"items": items}
        out.append(m)
    return out


# Rich menus (Messaging API reference: rich menu object, area object, image requirements).

RICH_MENU_SIZES = frozenset({(2500, 1686), (2500, 843), (1200, 810), (1200, 405), (800, 540), (800, 270)})
MAX_RICH_MENU_AREAS = 20
MAX_CHAT_BAR_TEXT = 14
MAX_RICH_MENU_NAME = 300
MAX_RICH_MENU_IMAGE_BYTES = 1024 * 1024
MAX_ALIAS_ID = 32
RICH_MENU_ACTIONS = frozenset({"postback", "message", "uri", "datetimepicker", "richmenuswitch", "clipboard"})
_INPUT_OPTIONS = frozenset({"closeRichMenu", "openRichMenu", "openKeyboard", "openVoice"})


def is_alias_id(alias_id) -> bool:
    return isinstance(alias_id, str) and re.fullmatch(r"[a-z0-9_-]{1,32}", alias_id) is not None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rich_action_problems(a, where: str) -> list[tuple[str, str]]:
    if not isinstance(a, dict) or a.get("type") not in RICH_MENU_ACTIONS:
        kind = a.get("type") if isinstance(a, dict) else None
        return [(where, f"unsupported action type {kind!r} in a rich menu")]
    found = []
    label = a.get("label")
    if label is not None and (not isinstance(label, str) or not 0 < utf16_units(label) <= MAX_ACTION_LABEL):
        found.append((f"{where}.label", f"must be 1–{MAX_ACTION_LABEL} characters"))

    def text_field(name: str, limit: int, required: bool = False, minimum: int = 0) -> None:
        value = a.get(name)
        if value is None:
            if required:
                found.append((f"{where}.{name}", "may not be empty"))
            return
        if not isinstance(value, str) or not minimum <= len(value) <= limit:
            found.append((f"{where}.{name}", f"must be {minimum}–{limit} characters"))

    kind = a["type"]
    if kind == "postback":
        text_field("data", MAX_POSTBACK_DATA, required=True)
        text_field("displayText", MAX_DISPLAY_TEXT, minimum=1)
        text_field("text", MAX_DISPLAY_TEXT, minimum=1)
        if a.get("displayText") is not None and a.get("text") is not None:
            found.append((f"{where}", "displayText and text cannot both be set"))
        if a.get("inputOption") is not None and a["inputOption"] not in _INPUT_OPTIONS:
            found.append((f"{where}.inputOption", "unknown input option"))
    elif kind == "message":
        text_field("text", MAX_DISPLAY_TEXT, required=True, minimum=1)
    elif kind == "uri":
        text_field("uri", MAX_URI, required=True, minimum=1)
        uri = a.get("uri")
        if isinstance(uri, str) and uri.split(":", 1)[0] not in ("http", "https", "line", "tel"):
            found.append((f"{where}.uri", "scheme must be http, https, line or tel"))
    elif kind == "datetimepicker":
        text_field("data", MAX_POSTBACK_DATA, required=True)
        if a.get("mode") not in ("date", "time", "datetime"):
            found.append((f"{where}.mode", "must be date, time or datetime"))
    elif kind == "richmenuswitch":
        text_field("data", MAX_POSTBACK_DATA, required=True)
        if not is_alias_id(a.get("richMenuAliasId")):
            found.append((f"{where}.richMenuAliasId", "must match [a-z0-9_-]{1,32}"))
    elif kind == "clipboard":
        text_field("clipboardText", 1000, required=True, minimum=1)
    return found


def rich_menu_problems(menu) -> list[tuple[str, str]]:
    """(property, message) for everything LINE would refuse in a rich menu object."""
    if not isinstance(menu, dict):
        return [("", "the request body must be a rich menu object")]
    found: list[tuple[str, str]] = []
    size = menu.get("size")
    width = height = None
    if not isinstance(size, dict) or not (_is_int(size.get("width")) and _is_int(size.get("height"))):
        found.append(("size", "must have a whole width and height"))
    else:
        width, height = size["width"], size["height"]
        if (width, height) not in RICH_MENU_SIZES:
            sizes = ", ".join(f"{w}x{h}" for w, h in sorted(RICH_MENU_SIZES, reverse=True))
            found.append(("size", f"{width}x{height} is not a rich menu size ({sizes})"))
    if not isinstance(menu.get("selected"), bool):
        found.append(("selected", "must be true or false"))
    name = menu.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_RICH_MENU_NAME:
        found.append(("name", f"must be 1–{MAX_RICH_MENU_NAME} characters"))
    bar = menu.get("chatBarText")
    if not isinstance(bar, str) or not 0 < utf16_units(bar) <= MAX_CHAT_BAR_TEXT:
        found.append(("chatBarText", f"must be 1–{MAX_CHAT_BAR_TEXT} characters"))
    areas = menu.get("areas")
    if not isinstance(areas, list) or not 1 <= len(areas) <= MAX_RICH_MENU_AREAS:
        found.append(("areas", f"must have 1–{MAX_RICH_MENU_AREAS} areas"))
        areas = areas if isinstance(areas, list) else []
    for i, area in enumerate(areas):
        where = f"areas[{i}]"
        bounds = area.get("bounds") if isinstance(area, dict) else None
        if not isinstance(bounds, dict) or not all(_is_int(bounds.get(k)) for k in ("x", "y", "width", "height")):
            found.append((f"{where}.bounds", "must have whole x, y, width and height"))
        elif (bounds["x"] < 0 or bounds["y"] < 0 or bounds["width"] < 1 or bounds["height"] < 1
              or (width is not None and bounds["x"] + bounds["width"] > width)
              or (height is not None and bounds["y"] + bounds["height"] > height)):
            found.append((f"{where}.bounds", "must lie inside the rich menu image"))
        found += _rich_action_problems(area.get("action") if isinstance(area, dict) else None, f"{where}.action")
    return found
