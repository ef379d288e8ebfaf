"""Settings read from the environment, once, when the app or a worker is built."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

DEV_CHANNEL_SECRET = "development-channel-secret"
DEV_ACCESS_TOKEN = "development-access-token"
DEV_CONSOLE_SECRET_KEY = "development-console-secret-key"


class ConfigError(Exception):
    """The environment cannot run the bot; the message says what to set."""


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _float(env: dict, name: str, default: float) -> float:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    env: str = "production"
    channel_secret: str = ""
    access_token: str = ""
    line_api_base_url: str = "https://api.line.me"
    redis_url: str = ""
    data_dir: Path = Path("var")
    key_prefix: str = "kb"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    session_idle_minutes: int = 30
    reply_token_max_age_s: float = 50.0
    lease_s: float = 30.0
    order_window_ms: int = 100
    dedup_ttl_s: int = 7 * 24 * 3600
    max_event_attempts: int = 5
    max_body_bytes: int = 1024 * 1024
    line_timeout_s: float = 10.0
    line_retries: int = 4
    line_backoff_s: float = 0.5
    unfollowed_profile_days: int = 30
    content_dir: Path = Path("content/ayase")
    semantic_matching: bool = True
    risk_dir: Path = Path("content/risk")
    transcript_retention_days: int = 90
    audit_retention_days: int = 365
    handoff_last_messages: int = 5
    faq_model_threads: int = 2
    line_data_api_base_url: str = "https://api-data.line.me"
    console_secret_key: str = ""
    console_idle_minutes: int = 30
    console_cookie_secure: bool = True
    console_max_failed_logins: int = 5
    console_lockout_minutes: int = 15
    trusted_proxy_hops: int = 0
    log_level: str = "INFO"

    @property
    def development(self) -> bool:
        return self.env == "development"

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        mode = env.get("BOT_ENV", "production").strip() or "production"
        if mode not in ("production", "development", "test"):
            raise ConfigError(f"BOT_ENV must be production, development or test, got {mode!r}")
        development = mode == "development"
        port = _int(env, "PORT", 8000)
        secret = env.get("LINE_CHANNEL_SECRET", "")
        token = env.get("LINE_CHANNEL_ACCESS_TOKEN", "")
        api = env.get("LINE_API_BASE_URL", "")
        data_api = env.get("LINE_DATA_API_BASE_URL", "")
        console_key = env.get("CONSOLE_SECRET_KEY", "")
        if development:
            secret = secret or DEV_CHANNEL_SECRET
            token = token or DEV_ACCESS_TOKEN
            # The simulator's fake Messaging API lives inside the dev server itself.
            api = api or f"http://127.0.0.1:{port}/dev/line"
            console_key = console_key or DEV_CONSOLE_SECRET_KEY
        cookie_secure = env.get("CONSOLE_COOKIE_SECURE", "")
        # A stand-in for LINE (a proxy, a fake) serves both hosts unless told otherwise.
        data_api = data_api or api
        settings = cls(
            env=mode,
            channel_secret=secret,
            access_token=token,
            line_api_base_url=(api or "https://api.line.me").rstrip("/"),
            redis_url=env.get("REDIS_URL", ""),
            data_dir=Path(env.get("BOT_DATA_DIR", "var")),
            key_prefix=env.get("REDIS_KEY_PREFIX", "kb") or "kb",
            host=env.get("HOST", "127.0.0.1"),
            port=port,
            workers=_int(env, "WORKER_THREADS", 2),
            session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", 30),
            reply_token_max_age_s=_float(env, "REPLY_TOKEN_MAX_AGE_SECONDS", 50.0),
            lease_s=_float(env, "WORKER_LEASE_SECONDS", 30.0),
            order_window_ms=_int(env, "ORDER_WINDOW_MS", 100),
            dedup_ttl_s=_int(env, "DEDUP_TTL_SECONDS", 7 * 24 * 3600),
            max_event_attempts=_int(env, "MAX_EVENT_ATTEMPTS", 5),
            max_body_bytes=_int(env, "MAX_WEBHOOK_BYTES", 1024 * 1024),
            line_timeout_s=_float(env, "LINE_TIMEOUT_SECONDS", 10.0),
            line_retries=_int(env, "LINE_RETRIES", 4),
            line_backoff_s=_float(env, "LINE_BACKOFF_SECONDS", 0.5),
            unfollowed_profile_days=_int(env, "UNFOLLOWED_PROFILE_DAYS", 30),
            content_dir=Path(env.get("CITY_CONTENT_DIR", "content/ayase")),
            semantic_matching=env.get("FAQ_SEMANTIC", "1") not in ("0", "false", "no"),
            risk_dir=Path(env.get("RISK_CONTENT_DIR", "content/risk")),
            transcript_retention_days=_int(env, "TRANSCRIPT_RETENTION_DAYS", 90),
            audit_retention_days=_int(env, "AUDIT_RETENTION_DAYS", 365),
            handoff_last_messages=_int(env, "HANDOFF_LAST_MESSAGES", 5),
            faq_model_threads=max(1, _int(env, "FAQ_MODEL_THREADS", min(2, os.cpu_count() or 1))),
            line_data_api_base_url=(data_api or "https://api-data.line.me").rstrip("/"),
            console_secret_key=console_key,
            console_idle_minutes=max(1, _int(env, "CONSOLE_IDLE_MINUTES", 30)),
            # Secure cookies need HTTPS; the development server is plain HTTP on loopback.
            console_cookie_secure=(cookie_secure not in ("0", "false", "no")) if cookie_secure else not development,
            console_max_failed_logins=max(1, _int(env, "CONSOLE_MAX_FAILED_LOGINS", 5)),
            console_lockout_minutes=max(1, _int(env, "CONSOLE_LOCKOUT_MINUTES", 15)),
            trusted_proxy_hops=max(0, _int(env, "TRUSTED_PROXY_HOPS", 0)),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
        )
        return settings

    def check_for_serving(self) -> None:
        """Refuse to serve LINE traffic with credentials missing, rather than 400 every webhook."""
        missing = [name for name, value in (
            ("LINE_CHANNEL_SECRET", self.channel_secret),
            ("LINE_CHANNEL_ACCESS_TOKEN", self.access_token),
            ("CONSOLE_SECRET_KEY", self.console_secret_key),
        ) if not value]
        if missing:
            raise ConfigError(
                "Set " + " and ".join(missing) + " (the LINE values from the LINE Developers console; "
                "CONSOLE_SECRET_KEY a long random string that signs the staff console's cookies, e.g. "
                "from `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
                "or BOT_ENV=development to try the bot with the built-in simulator."
            )

    def with_(self, **changes) -> "Settings":
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        return replace(self, **changes)
