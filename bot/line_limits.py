"""LINE's limits on what a bot may send (Messaging API reference), checked on rendered JSON.

Lengths are in characters except message text, which LINE counts in UTF-16 code units. Labels
are counted in UTF-16 units too, to be safe with emoji (🌐 is one character but two units).
"""

from __future__ import annotations

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
