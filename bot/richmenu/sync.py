"""Make LINE's rich menus match the desired ones, one per language, changing only what differs.

A menu's name carries a digest of everything that defines it (menus.py), so "is it up to date"
is "is there a menu of that name". For each language:

- its alias `kosodate-<language>` already points at a menu of the desired name: kept, no call;
- a menu of that name exists but the alias does not point at it (an earlier sync stopped
  half-way): its image is uploaded if missing, then the alias is pointed at it;
- otherwise: create the menu, upload its image (to the data host), create or move the alias.

Then Redis learns language → richMenuId (`<prefix>:richmenu:ids`, read by links.py), the
Japanese menu becomes the default if it is not already, and only then are our menus that are
no longer wanted deleted: nobody is ever left pointing at a deleted menu by this order.
Two syncs at once would race on the aliases, so a Redis lock lets one run at a time.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

import redis
from linebot.v3.messaging import CreateRichMenuAliasRequest, UpdateRichMenuAliasRequest

from bot.line import LineApiError, LineClient
from bot.richmenu.menus import PREFIX, DesiredMenu, build_all
from dialogs.languages import SOURCE

log = logging.getLogger(__name__)

LOCK_SECONDS = 600


class SyncBusy(RuntimeError):
    """Another sync holds the lock."""


def ids_key(prefix: str) -> str:
    return f"{prefix}:richmenu:ids"


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)    # languages given a new menu
    resumed: list[str] = field(default_factory=list)    # languages whose half-made menu was finished
    kept: list[str] = field(default_factory=list)       # languages already up to date
    aliases: dict[str, str] = field(default_factory=dict)  # alias id → "created" | "moved"
    retired: list[str] = field(default_factory=list)    # names of the menus deleted
    aliases_removed: list[str] = field(default_factory=list)
    default_set: str | None = None                      # the menu made default now, if any
    redis_updated: bool = False
    ids: dict[str, str] = field(default_factory=dict)   # language → richMenuId
    calls: list[str] = field(default_factory=list)      # every Messaging API call, in order

    @property
    def changed(self) -> bool:
        return bool(self.created or self.resumed or self.aliases or self.retired or self.aliases_removed
                    or self.default_set)

    def text(self) -> str:
        def names(items) -> str:
            items = list(items)
            return ", ".join(items) if items else "none"

        lines = [
            f"created: {names(self.created)}",
            *([f"finished (left half-made earlier): {names(self.resumed)}"] if self.resumed else []),
            f"kept: {names(self.kept)}",
            f"aliases: {names(f'{a} ({how})' for a, how in self.aliases.items())}",
            f"retired: {names(self.retired)}",
            *([f"aliases removed: {names(self.aliases_removed)}"] if self.aliases_removed else []),
            f"default: {'set to ' + self.default_set if self.default_set else 'unchanged'}",
            f"redis: {'updated' if self.redis_updated else 'unchanged'}",
            f"API calls ({len(self.calls)}):",
            *(f"  {call}" for call in self.calls),
        ]
        return "\n".join(lines)


class RichMenuSync:
    def __init__(self, line: LineClient, redis_client: redis.Redis, prefix: str, *, catalogs=None,
                 languages=None):
        self.line = line
        self.redis = redis_client
        self.prefix = prefix
        self.catalogs = catalogs
        self.languages = languages

    def desired(self) -> list[DesiredMenu]:
        if self.catalogs is None:
            from bot.i18n import Catalogs

            self.catalogs = Catalogs()
        return build_all(self.catalogs, self.languages)

    def run(self) -> SyncReport:
        menus = self.desired()  # drawn before taking the lock: no network, and the slow part
        lock_key, token = f"{self.prefix}:richmenu:sync-lock", secrets.token_hex(8)
        if not self.redis.set(lock_key, token, nx=True, ex=LOCK_SECONDS):
            raise SyncBusy(f"another rich menu sync is running (Redis key {lock_key}); try again later")
        try:
            return self._run(menus, SyncReport())
        finally:
            # Release only our own lock (it may have expired and been taken by another sync).
            self.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
                            "return 0", 1, lock_key, token)

    # One Messaging API call, recorded in the report.

    def _api(self, report: SyncReport, what: str, fn, *args, quiet=(), **kwargs):
        report.calls.append(what)
        return self.line.call(what, fn, *args, quiet=quiet, **kwargs)

    def _existing(self, report: SyncReport) -> list:
        found = self._api(report, "GET /v2/bot/richmenu/list", self.line.api.get_rich_menu_list)
        return list(found.richmenus or [])

    def _run(self, menus: list[DesiredMenu], report: SyncReport) -> SyncReport:
        api = self.line.api
        existing = self._existing(report)
        aliases = {a.rich_menu_alias_id: a.rich_menu_id for a in
                   (self._api(report, "GET /v2/bot/richmenu/alias/list", api.get_rich_menu_alias_list).aliases or [])}
        by_name: dict[str, list[str]] = defaultdict(list)
        for menu in existing:
            by_name[menu.name].append(menu.rich_menu_id)

        chosen: dict[str, str] = {}
        for menu in menus:
            candidates = by_name.get(menu.name, [])
            target = aliases.get(menu.alias_id)
            if target in candidates:
                chosen[menu.language] = target
                report.kept.append(menu.language)
                continue
            if candidates:
                rich_menu_id = candidates[0]
                if not self._has_image(report, rich_menu_id):
                    self._upload(report, rich_menu_id, menu.image)
                report.resumed.append(menu.language)
            else:
                created = self._api(report, "POST /v2/bot/richmenu", api.create_rich_menu, menu.request)
                rich_menu_id = created.rich_menu_id
                self._upload(report, rich_menu_id, menu.image)
                report.created.append(menu.language)
            chosen[menu.language] = rich_menu_id
            self._point_alias(report, menu.alias_id, rich_menu_id, exists=menu.alias_id in aliases)

        report.ids = chosen
        report.redis_updated = self._store_ids(chosen)

        if SOURCE in chosen:
            current = self._default(report)
            if current != chosen[SOURCE]:
                self._api(report, f"POST /v2/bot/user/all/richmenu/{chosen[SOURCE]}", api.set_default_rich_menu,
                          chosen[SOURCE])
                report.default_set = chosen[SOURCE]

        wanted_aliases = {menu.alias_id for menu in menus}
        for alias in sorted(a for a in aliases if a.startswith(PREFIX) and a not in wanted_aliases):
            self._api(report, f"DELETE /v2/bot/richmenu/alias/{alias}", api.delete_rich_menu_alias, alias)
            report.aliases_removed.append(alias)
        if report.created:
            # A create that LINE took but whose answer was lost was retried: its twin is on the list now.
            existing = self._existing(report)
        keep = set(chosen.values())
        for menu in existing:
            if menu.name.startswith(PREFIX) and menu.rich_menu_id not in keep:
                try:
                    self._api(report, f"DELETE /v2/bot/richmenu/{menu.rich_menu_id}", api.delete_rich_menu,
                              menu.rich_menu_id, quiet=(404,))
                except LineApiError as exc:
                    if exc.status != 404:  # 404: gone already
                        raise
                report.retired.append(menu.name)
        return report

    def _upload(self, report: SyncReport, rich_menu_id: str, image: bytes) -> None:
        try:
            self._api(report, f"POST /v2/bot/richmenu/{rich_menu_id}/content (data host)",
                      self.line.blob_api.set_rich_menu_image_with_http_info, rich_menu_id, image,
                      _headers={"Content-Type": "image/png"}, quiet=(400,))
        except LineApiError as exc:
            if exc.status != 400:
                raise
            # A retried upload that LINE had taken the first time: "already uploaded".
            if self._has_image(report, rich_menu_id):
                return
            log.error("%s", exc)  # logged only at INFO so far
            raise

    def _has_image(self, report: SyncReport, rich_menu_id: str) -> bool:
        try:
            self._api(report, f"GET /v2/bot/richmenu/{rich_menu_id}/content (data host)",
                      self.line.blob_api.get_rich_menu_image_with_http_info, rich_menu_id, quiet=(404,))
        except LineApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _point_alias(self, report: SyncReport, alias: str, rich_menu_id: str, *, exists: bool) -> None:
        api = self.line.api
        if not exists:
            try:
                self._api(report, "POST /v2/bot/richmenu/alias", api.create_rich_menu_alias,
                          CreateRichMenuAliasRequest(rich_menu_alias_id=alias, rich_menu_id=rich_menu_id),
                          quiet=(400,))
                report.aliases[alias] = "created"
                return
            except LineApiError as exc:
                if exc.status != 400:  # 400: made since we listed (a retried create): move it instead
                    raise
        self._api(report, f"POST /v2/bot/richmenu/alias/{alias}", api.update_rich_menu_alias, alias,
                  UpdateRichMenuAliasRequest(rich_menu_id=rich_menu_id))
        report.aliases[alias] = "moved"

    def _default(self, report: SyncReport) -> str | None:
        try:
            found = self._api(report, "GET /v2/bot/user/all/richmenu", self.line.api.get_default_rich_menu_id,
                              quiet=(404,))
        except LineApiError as exc:
            if exc.status == 404:  # no default menu set
                return None
            raise
        return found.rich_menu_id

    def _store_ids(self, chosen: dict[str, str]) -> bool:
        key = ids_key(self.prefix)
        current = {k.decode(): v.decode() for k, v in self.redis.hgetall(key).items()}
        if current == chosen:
            return False
        pipe = self.redis.pipeline(transaction=True)  # readers never see it empty or half-written
        pipe.delete(key)
        if chosen:
            pipe.hset(key, mapping=chosen)
        pipe.execute()
        return True
