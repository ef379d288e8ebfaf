"""LINE's limits, counted the way LINE counts them, and the last-resort clamp before sending."""

from __future__ import annotations

from bot import line_limits
from bot.event_queue import QueuedEvent
from tests.conftest import user_id


def text(t, n_quick=0, label="ok"):
    m = {"type": "text", "text": t}
    if n_quick:
        m["quickReply"] = {"items": [{"type": "action", "action": {"type": "message", "label": label, "text": "x"}}
                                     for _ in range(n_quick)]}
    return m


def test_text_is_counted_in_utf16_units():
    assert line_limits.utf16_units("😀") == 2
    assert line_limits.problems([text("あ" * 5000)]) == []
    assert line_limits.problems([text("😀" * 2500)]) == []
    assert line_limits.problems([text("😀" * 2500 + "a")])


def test_each_limit_is_caught():
    assert line_limits.problems([text("x")] * 6)
    assert line_limits.problems([text("x", n_quick=14)])
    assert line_limits.problems([text("x", n_quick=1, label="a" * 21)])
    assert line_limits.problems([text("x", n_quick=1, label="🌐" * 11)])
    postback = {"type": "text", "text": "x", "quickReply": {"items": [
        {"type": "action", "action": {"type": "postback", "label": "a", "data": "d" * 301}}]}}
    assert line_limits.problems([postback])
    assert line_limits.problems([text("")])


def test_clamp_brings_anything_within_limits():
    messy = [text("😀" * 3000, n_quick=20, label="a" * 40)] + [text("x")] * 7
    clamped = line_limits.clamp(messy)
    assert line_limits.problems(clamped) == []


def test_messenger_sends_clamped_messages_rather_than_failing(runtime, fake_line, events):
    user = user_id()
    raw = events.text(user, "hi")
    event = QueuedEvent(id=raw["webhookEventId"], chat=user, timestamp=raw["timestamp"],
                        received=raw["timestamp"], raw=raw)
    how = runtime.messenger.reply_or_push(event, [text("a" * 6000, n_quick=15, label="b" * 30)])
    assert how == "reply"
    [delivery] = fake_line.sent_to(user)
    assert line_limits.problems(delivery.messages) == []


def test_clamp_cuts_emoji_labels_by_utf16_units():
    clamped = line_limits.clamp([text("x", n_quick=1, label="🌐" * 15)])
    assert line_limits.problems(clamped) == []
