"""Dialog messages → Messaging API message objects (JSON-ready dicts)."""

from __future__ import annotations

from dialogs.messages import Action, Buttons, Message, Text


def action(a: Action) -> dict:
    if a.date_picker is not None:
        initial, earliest, latest = a.date_picker
        return {"type": "datetimepicker", "label": a.label, "data": a.postback, "mode": "date",
                "initial": initial, "min": earliest, "max": latest}
    if a.postback is not None:
        out = {"type": "postback", "label": a.label, "data": a.postback}
        if a.display_text:
            out["displayText"] = a.display_text
        return out
    if a.uri is not None:
        return {"type": "uri", "label": a.label, "uri": a.uri}
    return {"type": "message", "label": a.label, "text": a.text}


def _quick_reply(items: tuple[Action, ...]) -> dict:
    return {"items": [{"type": "action", "action": action(a)} for a in items]}


def message(m: Message) -> dict:
    if isinstance(m, Text):
        out = {"type": "text", "text": m.text}
    elif isinstance(m, Buttons):
        template = {"type": "buttons", "text": m.text, "actions": [action(a) for a in m.actions]}
        if m.title:
            template["title"] = m.title
        out = {"type": "template", "altText": m.alt_text or m.text, "template": template}
    else:
        raise TypeError(f"cannot render {type(m).__name__}")
    if m.quick_replies:
        out["quickReply"] = _quick_reply(m.quick_replies)
    return out


def messages(ms: list[Message]) -> list[dict]:
    return [message(m) for m in ms]


def summary(rendered: list[dict]) -> str:
    """What the user saw, as one text for the transcript: the texts, and the buttons in brackets."""
    parts = []
    for m in rendered:
        template = m.get("template") or {}
        text = m.get("text") or template.get("text") or m.get("altText", "")
        labels = [a.get("label", "") for a in template.get("actions", [])]
        labels += [item["action"].get("label", "") for item in (m.get("quickReply") or {}).get("items", [])]
        parts.append(text + (f"\n[{' | '.join(labels)}]" if labels else ""))
    return "\n\n".join(parts)
