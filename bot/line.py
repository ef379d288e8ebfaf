"""Everything the bot sends to LINE goes through here.

`LineClient` wraps line-bot-sdk's MessagingApi with urllib3's Retry: 429, 5xx and timeouts
are retried with backoff (LINE's Retry-After respected), other 4xx never; every failure is
logged with LINE's x-line-request-id. Replies are retried only where LINE surely did not take
them (a reply token cannot be deduplicated); otherwise the answer goes by push. `Messenger.reply_or_push` spends the reply token at
most once and only while fresh, and otherwise pushes with an X-Line-Retry-Key derived from
the event, so that a retried push is refused by LINE (409) instead of sent twice.
"""

from __future__ import annotations

import logging
import time
import uuid

import redis
import urllib3
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
)
from linebot.v3.messaging.exceptions import ApiException
from urllib3.util.retry import Retry

from bot import line_limits
from bot.event_queue import QueuedEvent

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_RETRY_KEY_NAMESPACE = uuid.UUID("6f3c2a4e-9d1b-5c7e-8a2f-0b4d6e8f1a3c")


class LineApiError(Exception):
    def __init__(self, operation: str, status: int | None, request_id: str | None, detail: str):
        super().__init__(f"{operation}: LINE answered {status} (request id {request_id}): {detail}")
        self.operation = operation
        self.status = status
        self.request_id = request_id

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRY_STATUSES


class LoggedRetry(Retry):
    """urllib3's Retry, saying each time what failed and LINE's request id."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if response is not None:
            log.warning("LINE %s %s answered %s (request id %s); retrying", method, url,
                        response.status, response.headers.get("x-line-request-id"))
        elif error is not None:
            log.warning("LINE %s %s failed (%s); retrying", method, url, error)
        return super().increment(method, url, response, error, _pool, _stacktrace)


def retry_policy(retries: int, backoff_s: float, *, maybe_sent_too: bool = True) -> Retry:
    """How to retry. A reply token has no retry key: a reply is retried only when LINE surely
    did not take it (no connection, 429); after a 5xx or a lost answer the bot pushes instead."""
    return LoggedRetry(
        total=retries, connect=retries, read=retries if maybe_sent_too else 0, status=retries, other=0,
        backoff_factor=backoff_s, backoff_max=30,
        status_forcelist=RETRY_STATUSES if maybe_sent_too else frozenset({429}),
        allowed_methods=None,  # POSTs too: pushes carry retry keys
        respect_retry_after_header=True, raise_on_status=False,
    )


def retry_key_for(event_id: str, purpose: str = "answer") -> str:
    return str(uuid.uuid5(_RETRY_KEY_NAMESPACE, f"{purpose}:{event_id}"))


class LineClient:
    def __init__(self, base_url: str, access_token: str, *, timeout_s: float = 10.0,
                 retries: int = 4, backoff_s: float = 0.5, data_base_url: str | None = None):
        config = Configuration(host=base_url, access_token=access_token)
        config.retries = retry_policy(retries, backoff_s)
        self._api_client = ApiClient(config)
        self.api = MessagingApi(self._api_client)
        reply_config = Configuration(host=base_url, access_token=access_token)
        reply_config.retries = retry_policy(retries, backoff_s, maybe_sent_too=False)
        self._reply_client = ApiClient(reply_config)
        self.reply_api = MessagingApi(self._reply_client)
        # What users send (images, files) is fetched from LINE's data host, not the API host.
        data_config = Configuration(host=data_base_url or base_url, access_token=access_token)
        data_config.retries = retry_policy(retries, backoff_s)
        self._data_client = ApiClient(data_config)
        self.blob_api = MessagingApiBlob(self._data_client)
        self.timeout_s = timeout_s

    def close(self) -> None:
        self._api_client.close()
        self._reply_client.close()
        self._data_client.close()

    def content(self, message_id: str) -> tuple[bytes, str]:
        """The bytes and content type of an image, video, audio or file a user sent."""
        response = self._call("content", self.blob_api.get_message_content_with_http_info, message_id)
        content_type = (response.headers or {}).get("Content-Type", "application/octet-stream")
        return bytes(response.data), content_type

    def call(self, operation: str, fn, *args, quiet: tuple[int, ...] = (), **kwargs):
        """Any other SDK call of `api` or `blob_api` (rich menus), with this client's timeout and
        retries; failures raise LineApiError. Statuses in `quiet` are expected answers (404 for
        "no default rich menu"), logged at INFO instead of ERROR."""
        return self._call(operation, fn, *args, quiet=quiet, **kwargs)

    def _call(self, operation: str, fn, *args, quiet: tuple[int, ...] = (), **kwargs):
        try:
            return fn(*args, _request_timeout=self.timeout_s, **kwargs)
        except ApiException as exc:
            request_id = (exc.headers or {}).get("x-line-request-id")
            error = LineApiError(operation, exc.status, request_id, (exc.body or "")[:300]
                                 if isinstance(exc.body, str) else str(exc.body)[:300])
            log.log(logging.INFO if exc.status in quiet else logging.ERROR, "%s", error)
            raise error from None
        except urllib3.exceptions.HTTPError as exc:
            error = LineApiError(operation, None, None, f"{type(exc).__name__}: {exc}")
            log.error("%s", error)
            raise error from None

    def reply(self, reply_token: str, messages: list[dict]) -> None:
        request = ReplyMessageRequest.from_dict({"replyToken": reply_token, "messages": messages})
        self._call("reply", self.reply_api.reply_message_with_http_info, request)

    def push(self, to: str, messages: list[dict], retry_key: str) -> bool:
        """Push; False when LINE says this retry key was already accepted (sent before)."""
        request = PushMessageRequest.from_dict({"to": to, "messages": messages})
        try:
            self._call("push", self.api.push_message_with_http_info, request, x_line_retry_key=retry_key)
        except LineApiError as exc:
            if exc.status == 409:
                log.info("push to %s with retry key %s was already accepted", to, retry_key)
                return False
            raise
        return True

    def multicast(self, to: list[str], messages: list[dict], retry_key: str) -> bool:
        """The same messages to up to 500 users; False when LINE says this retry key was already
        accepted (sent before)."""
        request = MulticastRequest.from_dict({"to": to, "messages": messages})
        try:
            self._call("multicast", self.api.multicast_with_http_info, request, x_line_retry_key=retry_key)
        except LineApiError as exc:
            if exc.status == 409:
                log.info("multicast to %d users with retry key %s was already accepted", len(to), retry_key)
                return False
            raise
        return True

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        """Show this rich menu to this user (instead of the default one)."""
        self._call("link rich menu", self.api.link_rich_menu_id_to_user_with_http_info, user_id, rich_menu_id)

    def display_name(self, user_id: str) -> str:
        """The name a follower shows in LINE ("" when LINE cannot tell us)."""
        try:
            profile = self._call("profile", self.api.get_profile, user_id)
        except LineApiError:
            return ""
        return str(getattr(profile, "display_name", "") or "")

    def profile_language(self, user_id: str) -> str | None:
        """The LINE app language of a follower, or None when LINE cannot tell us."""
        try:
            profile = self._call("profile", self.api.get_profile, user_id)
        except LineApiError:
            return None
        return getattr(profile, "language", None)


class Messenger:
    """Answers an event: with its reply token if fresh and unspent, else by push."""

    def __init__(self, client: LineClient, redis_client: redis.Redis, prefix: str, *,
                 reply_token_max_age_s: float = 50.0):
        self.client = client
        self.redis = redis_client
        self.prefix = prefix
        self.max_age_s = reply_token_max_age_s

    def _answer_key(self, event: QueuedEvent) -> str:
        return f"{self.prefix}:answer:{event.id}"

    def already_answered(self, event: QueuedEvent) -> bool:
        return self.redis.get(self._answer_key(event)) == b"sent"

    def reply_or_push(self, event: QueuedEvent, messages: list[dict]) -> str:
        """Returns how it went out: 'reply', 'push', 'duplicate' (sent before) or 'nothing'."""
        if not messages:
            return "nothing"
        found = line_limits.problems(messages)
        if found:
            log.error("messages for %s over LINE's limits, clamped: %s", event.chat, "; ".join(found))
            messages = line_limits.clamp(messages)
        key = self._answer_key(event)
        token = event.raw.get("replyToken")
        age_s = time.time() - event.timestamp / 1000
        how = "push"
        if token and age_s < self.max_age_s and self.redis.set(key, "claimed", nx=True, ex=24 * 3600):
            try:
                self.client.reply(token, messages)
                how = "reply"
            except LineApiError as exc:
                log.warning("reply for event %s failed (%s); pushing instead", event.id, exc.status)
        if how == "push":
            sent = self.client.push(event.chat, messages, retry_key_for(event.id))
            how = "push" if sent else "duplicate"
        self.redis.set(key, "sent", ex=24 * 3600)
        return how
