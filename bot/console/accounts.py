"""Staff accounts, sign-in sessions and the throttle on failed sign-ins, in Redis.

    <p>:staff:accounts              HASH name → JSON {hash, role, created, disabled}
    <p>:console:session:<sid>       HASH staff, role, created; expires after the idle timeout
    <p>:console:sessions:<name>     SET of that account's session ids (to end them all)
    <p>:console:failed:<name>       failed sign-ins for an account, within the lockout window
    <p>:console:failed-ip:<ip>      failed sign-ins from an address, within the lockout window

Passwords are hashed with werkzeug's scrypt; the cookie only carries a random session id, so
signing out, disabling an account or the idle timeout end a session on the server.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass

import redis
from werkzeug.security import check_password_hash, generate_password_hash

ROLES = ("staff", "admin")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$")
MIN_PASSWORD = 10
# Checked when the name is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    created: int
    disabled: bool = False

    @property
    def admin(self) -> bool:
        return self.role == "admin"


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")


class StaffAccounts:
    def __init__(self, client: redis.Redis, prefix: str):
        self.redis = client
        self.key = f"{prefix}:staff:accounts"

    def _load(self, name: str) -> dict | None:
        raw = self.redis.hget(self.key, name)
        return json.loads(raw) if raw else None

    def get(self, name: str) -> Account | None:
        d = self._load(name)
        return Account(name, d["role"], d["created"], d.get("disabled", False)) if d else None

    def all(self) -> list[Account]:
        found = []
        for name, raw in sorted(self.redis.hgetall(self.key).items()):
            d = json.loads(raw)
            found.append(Account(name.decode(), d["role"], d["created"], d.get("disabled", False)))
        return found

    def add(self, name: str, password: str, role: str = "staff") -> Account:
        if not NAME.match(name):
            raise AccountError("a name is 2–32 letters, digits, '.', '_' or '-' (e.g. tanaka.h)")
        if role not in ROLES:
            raise AccountError(f"the role is one of {', '.join(ROLES)}")
        check_password(password)
        record = {"hash": generate_password_hash(password), "role": role, "created": int(time.time())}
        if not self.redis.hsetnx(self.key, name, json.dumps(record)):
            raise AccountError(f"there is already an account {name!r}")
        return self.get(name)

    def _change(self, name: str, **changes) -> Account:
        d = self._load(name)
        if d is None:
            raise AccountError(f"there is no account {name!r}")
        d.update(changes)
        self.redis.hset(self.key, name, json.dumps(d))
        return self.get(name)

    def set_password(self, name: str, password: str) -> Account:
        check_password(password)
        return self._change(name, hash=generate_password_hash(password))

    def set_role(self, name: str, role: str) -> Account:
        if role not in ROLES:
            raise AccountError(f"the role is one of {', '.join(ROLES)}")
        return self._change(name, role=role)

    def set_disabled(self, name: str, disabled: bool) -> Account:
        return self._change(name, disabled=disabled)

    def verify(self, name: str, password: str) -> Account | None:
        d = self._load(name) if NAME.match(name or "") else None
        ok = check_password_hash(d["hash"] if d else _DUMMY_HASH, password)
        if not (d and ok) or d.get("disabled"):
            return None
        return self.get(name)


class LoginThrottle:
    """At most `max_failures` failed sign-ins per account, and five times that per address, in a
    `window_s` from the first; then sign-in is refused until the window has passed."""

    def __init__(self, client: redis.Redis, prefix: str, *, max_failures: int = 5, window_s: int = 900):
        self.redis = client
        self.prefix = prefix
        self.max_failures = max_failures
        self.window_s = window_s

    def _keys(self, name: str, address: str) -> tuple[str, str]:
        return f"{self.prefix}:console:failed:{name.lower()[:64]}", f"{self.prefix}:console:failed-ip:{address}"

    def attempt(self, name: str, address: str) -> int:
        """Count a sign-in attempt before its password is checked (so parallel guesses cannot slip
        past the count); seconds to wait when over the limit (0: go ahead)."""
        account, ip = self._keys(name, address)
        with self.redis.pipeline(transaction=True) as pipe:
            for key in (account, ip):
                pipe.set(key, 0, ex=self.window_s, nx=True)   # the window starts at the first attempt
                pipe.incr(key)
                pipe.ttl(key)
            _, by_account, account_ttl, _, by_ip, ip_ttl = pipe.execute()
        waits = []
        if by_account > self.max_failures:
            waits.append(max(1, account_ttl))
        if by_ip > self.max_failures * 5:
            waits.append(max(1, ip_ttl))
        return max(waits, default=0)

    def succeeded(self, name: str, address: str) -> None:
        """A right password: this attempt was no failure."""
        account, ip = self._keys(name, address)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(account)
            pipe.decr(ip)
            pipe.execute()


class ConsoleSessions:
    def __init__(self, client: redis.Redis, prefix: str, *, idle_s: int):
        self.redis = client
        self.prefix = prefix
        self.idle_s = idle_s

    def _key(self, sid: str) -> str:
        return f"{self.prefix}:console:session:{sid}"

    def _index(self, name: str) -> str:
        return f"{self.prefix}:console:sessions:{name}"

    def open(self, account: Account) -> str:
        sid = secrets.token_urlsafe(32)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(self._key(sid), mapping={"staff": account.name, "role": account.role,
                                               "created": int(time.time())})
            pipe.expire(self._key(sid), self.idle_s)
            pipe.sadd(self._index(account.name), sid)
            pipe.expire(self._index(account.name), 7 * 24 * 3600)
            pipe.execute()
        return sid

    def get(self, sid: str, *, touch: bool = True) -> dict | None:
        """The session's staff and role; `touch` counts this as activity (polls do not)."""
        if not sid or len(sid) > 64:
            return None
        raw = self.redis.hgetall(self._key(sid))
        if not raw:
            return None
        if touch:
            self.redis.expire(self._key(sid), self.idle_s)
        return {k.decode(): v.decode() for k, v in raw.items()}

    def close(self, sid: str) -> None:
        raw = self.redis.hget(self._key(sid), "staff")
        self.redis.delete(self._key(sid))
        if raw:
            self.redis.srem(self._index(raw.decode()), sid)

    def close_all_of(self, name: str) -> int:
        sids = [s.decode() for s in self.redis.smembers(self._index(name))]
        if sids:
            self.redis.delete(*[self._key(s) for s in sids], self._index(name))
        return len(sids)
