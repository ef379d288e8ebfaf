"""POST /callback: signatures, bad input, duplicates, and what is stored before the 200."""

from __future__ import annotations

import json

import pytest

from bot.redis_server import free_port
from tests.conftest import post_webhook, sign, user_id, webhook_body


def queued(runtime) -> int:
    return runtime.queue.pending()


def test_verify_button_gets_200(client, runtime):
    response = post_webhook(client, [])
    assert response.status_code == 200
    assert queued(runtime) == 0


def test_good_signature_is_queued_before_200(client, runtime, events):
    user = user_id()
    response = post_webhook(client, [events.text(user, "こんにちは")])
    assert response.status_code == 200
    head = runtime.queue.head(user)
    assert head is not None and head[1].raw["message"]["text"] == "こんにちは"


def test_bad_signature_is_refused_and_stores_nothing(client, runtime, events, redis_client):
    response = post_webhook(client, [events.text(user_id(), "hi")], secret="someone-else")
    assert response.status_code == 400
    assert redis_client.dbsize() == 0


def test_missing_signature_is_refused(client, redis_client, events):
    body = webhook_body([events.text(user_id(), "hi")])
    response = client.post("/callback", data=body, content_type="application/json")
    assert response.status_code == 400
    assert redis_client.dbsize() == 0


def test_header_name_is_case_insensitive(client, runtime, events):
    body = webhook_body([events.text(user_id(), "hi")])
    response = client.post("/callback", data=body, headers={"x-line-signature": sign(body),
                                                              "Content-Type": "application/json"})
    assert response.status_code == 200
    assert queued(runtime) == 1


def test_signature_is_over_raw_bytes_not_a_reencoding(client, redis_client, events):
    """The same JSON re-encoded (\\u escapes instead of UTF-8) must not pass with the old signature."""
    event = events.text(user_id(), "こんにちは")
    original = webhook_body([event])
    reencoded = json.dumps({"destination": "Ubot0000000000000000000000000000", "events": [event]},
                           ensure_ascii=True).encode()
    assert json.loads(original) == json.loads(reencoded) and original != reencoded
    response = client.post("/callback", data=reencoded,
                           headers={"X-Line-Signature": sign(original), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert redis_client.dbsize() == 0


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"events": 3}', b'{"events": [1, 2]}', b'{}',
                                  b"\xff\xfe\x00garbage"])
def test_malformed_bodies_get_400_never_500(client, redis_client, body):
    response = client.post("/callback", data=body,
                           headers={"X-Line-Signature": sign(body), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert b"Traceback" not in response.data
    assert redis_client.dbsize() == 0


def test_wrong_content_type_gets_415(client, redis_client, events):
    body = webhook_body([events.text(user_id(), "hi")])
    response = client.post("/callback", data=body,
                           headers={"X-Line-Signature": sign(body), "Content-Type": "text/plain"})
    assert response.status_code == 415
    assert redis_client.dbsize() == 0


def test_huge_body_is_refused_before_reading(client, redis_client):
    body = b'{"events": [' + b" " * (1024 * 1024 + 10) + b"]}"
    response = client.post("/callback", data=body,
                           headers={"X-Line-Signature": sign(body), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert redis_client.dbsize() == 0


def test_get_on_callback_is_405_not_500(client):
    assert client.get("/callback").status_code == 405


def test_events_missing_fields_and_unknown_types_are_tolerated(client, runtime, events):
    user = user_id()
    weird = [
        {"type": "message", "source": {"type": "user", "userId": user}},  # no timestamp, no id, no message
        {"type": "somethingNewFromLine", "timestamp": 1, "webhookEventId": "01NEW",
         "source": {"type": "user", "userId": user}, "brandNewField": {"x": 1}},
        {**events.text(user, "hello"), "anotherNewField": True},
    ]
    response = post_webhook(client, weird)
    assert response.status_code == 200
    assert queued(runtime) == 3


def test_event_without_a_type_is_dropped_and_the_rest_kept(client, runtime, events):
    response = post_webhook(client, [{"timestamp": 1}, events.text(user_id(), "kept")])
    assert response.status_code == 200
    assert queued(runtime) == 1


def test_duplicate_delivery_is_queued_once(client, runtime, events):
    event = events.text(user_id(), "one")
    assert post_webhook(client, [event]).status_code == 200
    again = {**event, "deliveryContext": {"isRedelivery": True}}
    assert post_webhook(client, [again]).status_code == 200
    assert post_webhook(client, [event, event]).status_code == 200
    assert queued(runtime) == 1


def test_events_without_webhook_event_id_dedup_by_content(client, runtime, events):
    event = events.text(user_id(), "old style")
    del event["webhookEventId"]
    post_webhook(client, [event])
    post_webhook(client, [event])
    assert queued(runtime) == 1


def test_redis_down_gives_503_and_healthz_says_so(settings, fake_line):
    from bot.app import create_app

    down = settings.with_(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    client = create_app(down).test_client()
    event = {"type": "message", "timestamp": 1, "webhookEventId": "01X", "replyToken": "t",
             "source": {"type": "user", "userId": "U1"}, "mode": "active",
             "message": {"type": "text", "id": "1", "text": "hi"}}
    assert post_webhook(client, [event]).status_code == 503
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["status"] == "unavailable"


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "redis": "ok"}


def test_production_refuses_to_start_without_credentials(redis_url):
    from bot.app import create_app
    from bot.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="LINE_CHANNEL_SECRET"):
        create_app(Settings.from_env({"REDIS_URL": redis_url}))


def test_simulator_is_absent_in_production(client):
    assert client.get("/dev/").status_code == 404
    assert client.post("/dev/line/v2/bot/message/push").status_code == 404
