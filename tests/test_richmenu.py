"""Rich menus: the images in every language, the fake LINE's rich menu API, the idempotent sync,
per-user links and the CLI."""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.request

import pytest
from PIL import Image, ImageChops

from bot import line_limits
from bot.i18n import Catalogs
from bot.richmenu import draw, fonts
from bot.richmenu.links import RichMenuLinks
from bot.richmenu.menus import alias_id, build_all
from bot.richmenu.sync import RichMenuSync, ids_key
from dialogs.engine import Postback
from dialogs.languages import LANGUAGES
from dialogs.menu import CHAT_BAR
from tests.conftest import TOKEN, user_id

CODES = [language.code for language in LANGUAGES]
ACTIONS = ["faq.browse", "booking", "booking.mine", "person", "language", "safety.numbers"]


@pytest.fixture(scope="module")
def catalogs():
    return Catalogs()


@pytest.fixture(scope="module")
def menus(catalogs):
    try:
        fonts.check_installed()
        fonts.check_shaping("ne")
    except fonts.FontsMissing as exc:
        pytest.skip(str(exc))  # it says which apt-get install is missing
    return {menu.language: menu for menu in build_all(catalogs)}


def sync(runtime, settings, redis_client, catalogs) -> RichMenuSync:
    return RichMenuSync(runtime.line, redis_client, settings.key_prefix, catalogs=catalogs)


def writes(fake_line, since: int = 0) -> list[tuple[str, str, int]]:
    return [r for r in fake_line.requests[since:] if r[0] in ("POST", "DELETE")]


# The images and the menu objects

def test_each_language_has_a_2500x1686_png_under_1mb_with_the_six_actions(menus, catalogs):
    assert sorted(menus) == sorted(CODES)
    names = set()
    for code, menu in menus.items():
        image = Image.open(io.BytesIO(menu.image))
        assert (image.format, image.size) == ("PNG", (2500, 1686)), code
        assert len(menu.image) < 1024 * 1024, code
        body = menu.request.to_dict()
        assert line_limits.rich_menu_problems(body) == [], code
        assert body["selected"] is False
        assert body["chatBarText"] == catalogs.translator(code)(CHAT_BAR)
        assert re.fullmatch(rf"kosodate-{re.escape(code)}-[0-9a-f]{{8}}", menu.name), menu.name
        names.add(menu.name)
        actions = [area["action"] for area in body["areas"]]
        assert [Postback.decode(a["data"]) for a in actions] == [Postback(action) for action in ACTIONS]
        translate = catalogs.translator(code)
        for action, tile in zip(actions, draw.TILES):
            assert action["type"] == "postback"
            assert action["displayText"] == translate(tile.msgid)
            assert 0 < line_limits.utf16_units(action["label"]) <= 20
        # The areas tile the whole image: 3 × 2, no gap, no overlap.
        bounds = [area["bounds"] for area in body["areas"]]
        assert sum(b["width"] * b["height"] for b in bounds) == 2500 * 1686
        assert {(b["x"], b["y"]) for b in bounds} == {(x, y) for x in (0, 833, 1667) for y in (0, 843)}
    assert len(names) == len(CODES)


def _ink_boxes(labels: dict[str, str], code: str) -> dict[str, tuple[int, int, int, int] | None]:
    """Where text was drawn in each tile: the difference from the same menu without labels."""
    drawn = draw.render(labels, code)
    blank = draw.render({}, code)
    diff = ImageChops.difference(drawn.image, blank.image)
    boxes = {}
    for tile, box in zip(draw.TILES, draw.tile_boxes()):
        ink = diff.crop(box.as_tuple()).getbbox()
        boxes[tile.action] = ink and (ink[0] + box.x, ink[1] + box.y, ink[2] + box.x, ink[3] + box.y)
    return boxes


def _assert_inside(ink, box: draw.Box, what: str) -> None:
    assert ink is not None, f"{what}: nothing drawn"
    assert box.x <= ink[0] and ink[2] <= box.right and box.y <= ink[1] and ink[3] <= box.bottom, \
        f"{what}: text at {ink} leaves its place {box.as_tuple()}"


def test_every_label_fits_its_tile_in_every_language(menus, catalogs):
    for code in CODES:
        translate = catalogs.translator(code)
        labels = {tile.action: translate(tile.msgid) for tile in draw.TILES}
        for text in labels.values():
            assert fonts.missing(draw.image_text(text), code) == [], f"{code}: no glyph for {text!r}"
        layouts = draw.layout_labels(labels, code)
        assert not any(layout.clipped for layout in layouts.values()), code
        assert min(layout.size for layout in layouts.values()) >= 72, f"{code}: labels drawn small"
        ink = _ink_boxes(labels, code)
        for tile, box in zip(draw.TILES, draw.tile_boxes()):
            _assert_inside(ink[tile.action], draw.label_box(box), f"{code} {tile.action}")


def test_long_labels_are_wrapped_and_shrunk_to_fit(menus):
    long = {
        "fil": "Makipag-usap sa isang kawani ng lungsod ngayon",
        "ne": "नगरपालिकाका कर्मचारीसँग अहिले नै कुरा गर्न चाहन्छु",
        "pt-BR": "Perguntas frequentes sobre vacinação infantil",
        "ja": "子育て支援センターの利用予約と予約内容の確認",
    }
    for code, text in long.items():
        labels = {action: text for action in ACTIONS}
        ink = _ink_boxes(labels, code)
        for tile, box in zip(draw.TILES, draw.tile_boxes()):
            _assert_inside(ink[tile.action], draw.label_box(box), f"{code} {tile.action}")
    # Nothing fits at all: cut with an ellipsis, still inside its tile.
    layout = draw.LabelSetter("en").layout("W" * 80, 100, draw.label_box(draw.tile_boxes()[0]))
    assert layout.clipped and layout.lines[-1].endswith("…")


def test_alias_ids_are_valid_for_every_language():
    aliases = {code: alias_id(code) for code in CODES}
    assert aliases["pt-BR"] == "kosodate-pt-br" and aliases["zh-Hans"] == "kosodate-zh-hans"
    assert all(line_limits.is_alias_id(a) for a in aliases.values())
    assert len(set(aliases.values())) == len(CODES)


# The sync, against the fake LINE

def test_sync_creates_ten_menus_aliases_and_the_default(menus, catalogs, runtime, settings, redis_client, fake_line):
    report = sync(runtime, settings, redis_client, catalogs).run()

    assert sorted(report.created) == sorted(CODES) and report.kept == [] and report.retired == []
    assert len(fake_line.rich_menus) == 10
    ids = {code: fake_line.rich_menu_named(menu.name)["richMenuId"] for code, menu in menus.items()}
    for code, menu in menus.items():
        stored = fake_line.rich_menus[ids[code]]
        assert {k: v for k, v in stored.items() if k != "richMenuId"} == menu.request.to_dict()
        assert fake_line.rich_menu_image(ids[code]) == menu.image
    assert fake_line.rich_menu_aliases == {alias_id(code): ids[code] for code in CODES}
    assert fake_line.default_rich_menu == ids["ja"] == report.default_set
    stored = {k.decode(): v.decode() for k, v in redis_client.hgetall(ids_key(settings.key_prefix)).items()}
    assert stored == ids == report.ids
    # Every upload went to the data host's path; the report lists each call made.
    assert sum(1 for m, p, s in fake_line.requests if m == "POST" and p.endswith("/content") and s == 200) == 10
    assert len(report.calls) == len(fake_line.requests)


def test_running_sync_again_changes_nothing(menus, catalogs, runtime, settings, redis_client, fake_line):
    sync(runtime, settings, redis_client, catalogs).run()
    before = {"menus": dict(fake_line.rich_menus), "aliases": dict(fake_line.rich_menu_aliases),
              "default": fake_line.default_rich_menu}
    seen = len(fake_line.requests)

    report = sync(runtime, settings, redis_client, catalogs).run()

    assert writes(fake_line, seen) == []
    assert [r[:2] for r in fake_line.requests[seen:]] == [
        ("GET", "/v2/bot/richmenu/list"), ("GET", "/v2/bot/richmenu/alias/list"), ("GET", "/v2/bot/user/all/richmenu")]
    assert not report.changed and not report.redis_updated and sorted(report.kept) == sorted(CODES)
    assert before == {"menus": fake_line.rich_menus, "aliases": fake_line.rich_menu_aliases,
                      "default": fake_line.default_rich_menu}


class OneLabelChanged:
    """The catalogs, but Vietnamese says its FAQ label differently."""

    def __init__(self, catalogs):
        self.catalogs = catalogs

    def translator(self, code):
        translate = self.catalogs.translator(code)
        if code != "vi":
            return translate
        return lambda msgid: "Hỏi đáp" if msgid == "よくある質問" else translate(msgid)


def test_a_changed_label_replaces_that_language_only(menus, catalogs, runtime, settings, redis_client, fake_line):
    first = sync(runtime, settings, redis_client, catalogs).run()
    old_vi = first.ids["vi"]
    parent = user_id()
    fake_line.user_rich_menus[parent] = old_vi  # a Vietnamese parent already shown the old menu
    seen = len(fake_line.requests)

    report = sync(runtime, settings, redis_client, OneLabelChanged(catalogs)).run()

    assert report.created == ["vi"] and sorted(report.kept) == sorted(c for c in CODES if c != "vi")
    new_vi = report.ids["vi"]
    assert new_vi != old_vi and report.aliases == {"kosodate-vi": "moved"}
    assert report.retired == [menus["vi"].name] and old_vi not in fake_line.rich_menus
    assert fake_line.rich_menu_aliases["kosodate-vi"] == new_vi
    assert fake_line.rich_menus[new_vi]["areas"][0]["action"]["displayText"] == "Hỏi đáp"
    assert {c: i for c, i in report.ids.items() if c != "vi"} == {c: i for c, i in first.ids.items() if c != "vi"}
    assert len(fake_line.rich_menus) == 10 and report.default_set is None
    assert redis_client.hget(ids_key(settings.key_prefix), "vi").decode() == new_vi
    assert [(m, re.sub(r"richmenu-[0-9a-f]{32}", "ID", p)) for m, p, _s in writes(fake_line, seen)] == [
        ("POST", "/v2/bot/richmenu"), ("POST", "/v2/bot/richmenu/ID/content"),
        ("POST", "/v2/bot/richmenu/alias/kosodate-vi"), ("DELETE", "/v2/bot/richmenu/ID")]
    # LINE unlinked the deleted menu: the parent sees the default until linked again.
    assert fake_line.rich_menu_of(parent) == first.ids["ja"]


def test_line_failing_then_answering_is_retried(menus, catalogs, runtime, settings, redis_client, fake_line):
    fake_line.fail("richmenu.list", 503)
    fake_line.fail("richmenu.create", 500)
    fake_line.fail("richmenu.upload", 500, retry_after="0")
    fake_line.fail("alias.create", 502)
    fake_line.fail("default.set", 429, retry_after="0")

    report = sync(runtime, settings, redis_client, catalogs).run()

    assert sorted(report.created) == sorted(CODES)
    assert len(fake_line.rich_menus) == 10 and len(fake_line.rich_menu_images) == 10
    assert len(fake_line.rich_menu_aliases) == 10 and fake_line.default_rich_menu == report.ids["ja"]
    statuses = [s for m, p, s in fake_line.requests if (m, p) == ("POST", "/v2/bot/richmenu")]
    assert statuses[:2] == [500, 200] and statuses.count(200) == 10


def test_a_sync_interrupted_after_create_is_finished_next_time(menus, catalogs, runtime, settings, redis_client,
                                                             fake_line):
    from bot.line import LineApiError

    fake_line.fail("richmenu.upload", 400)  # not retried: the sync stops with the menu made, imageless
    with pytest.raises(LineApiError):
        sync(runtime, settings, redis_client, catalogs).run()
    assert len(fake_line.rich_menus) == 1 and not fake_line.rich_menu_images

    report = sync(runtime, settings, redis_client, catalogs).run()

    assert report.resumed == [CODES[0]] and len(report.created) == 9
    assert len(fake_line.rich_menus) == 10 and len(fake_line.rich_menu_images) == 10
    assert sync(runtime, settings, redis_client, catalogs).run().changed is False


# Per-user links

def test_link_puts_the_language_menu_on_the_user(menus, catalogs, runtime, settings, redis_client, fake_line):
    links = RichMenuLinks(runtime.line, redis_client, settings.key_prefix)
    parent = user_id()
    assert links.link(parent, "vi") is False  # nothing synced yet: no call at all
    assert fake_line.requests == []

    report = sync(runtime, settings, redis_client, catalogs).run()
    assert fake_line.rich_menu_of(parent) == report.ids["ja"]  # the default
    assert links.link(parent, "vi") is True
    assert fake_line.rich_menu_of(parent) == report.ids["vi"]
    assert fake_line.user_rich_menus[parent] == report.ids["vi"]

    seen = len(fake_line.requests)
    assert links.link(parent, "xx") is False and len(fake_line.requests) == seen
    fake_line.fail("user.link", 400)
    assert links.link(user_id(), "ko") is False  # logged, not raised


# The fake checks what LINE checks

def _call(fake_line_server, method: str, path: str, body: bytes | dict | None = None,
          content_type: str = "application/json") -> tuple[int, dict]:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(fake_line_server.url + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read()
            return response.status, json.loads(raw) if response.headers.get_content_type() == "application/json" else {}
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _menu(**changes) -> dict:
    menu = {"size": {"width": 2500, "height": 843}, "selected": False, "name": "test", "chatBarText": "Menu",
            "areas": [{"bounds": {"x": 0, "y": 0, "width": 2500, "height": 843},
                       "action": {"type": "postback", "data": "1|faq.browse|", "label": "FAQ"}}]}
    menu.update(changes)
    return menu


def _png(size, fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 220, 210)).save(buf, format=fmt)
    return buf.getvalue()


def test_the_fake_refuses_what_line_refuses(fake_line, fake_line_server):
    area = _menu()["areas"][0]
    bad = [
        _menu(size={"width": 2500, "height": 1000}),
        _menu(chatBarText="x" * 15),
        _menu(name="x" * 301),
        _menu(areas=[]),
        _menu(areas=[area] * 21),
        _menu(areas=[{**area, "bounds": {"x": 1, "y": 0, "width": 2500, "height": 843}}]),
        _menu(areas=[{**area, "action": {"type": "postback"}}]),
        _menu(areas=[{**area, "action": {"type": "postback", "data": "x", "label": "l" * 21}}]),
        _menu(areas=[{**area, "action": {"type": "camera", "label": "cam"}}]),
    ]
    for body in bad:
        status, answer = _call(fake_line_server, "POST", "/v2/bot/richmenu", body)
        assert status == 400 and answer["details"], body
    assert fake_line.rich_menus == {}

    status, created = _call(fake_line_server, "POST", "/v2/bot/richmenu", _menu())
    assert status == 200
    menu_id = created["richMenuId"]
    content = f"/v2/bot/richmenu/{menu_id}/content"
    assert _call(fake_line_server, "POST", "/v2/bot/richmenu/alias",
                 {"richMenuAliasId": "a", "richMenuId": menu_id})[0] == 400  # no image yet
    assert _call(fake_line_server, "POST", content, _png((2500, 1686)), "image/png")[0] == 400  # wrong size
    assert _call(fake_line_server, "POST", content, _png((2500, 843), "JPEG"), "image/png")[0] == 400
    assert _call(fake_line_server, "POST", content, b"\x89PNG" + b"\0" * (1024 * 1024), "image/png")[0] == 400
    assert _call(fake_line_server, "POST", content, _png((2500, 843)), "image/gif")[0] == 400
    assert _call(fake_line_server, "POST", content, _png((2500, 843)), "image/png")[0] == 200
    assert _call(fake_line_server, "POST", content, _png((2500, 843)), "image/png")[0] == 400  # only once
    assert fake_line.rich_menu_image(menu_id) == _png((2500, 843))

    assert _call(fake_line_server, "POST", "/v2/bot/richmenu/alias",
                 {"richMenuAliasId": "Bad.Alias", "richMenuId": menu_id})[0] == 400
    assert _call(fake_line_server, "POST", "/v2/bot/richmenu/alias",
                 {"richMenuAliasId": "a", "richMenuId": menu_id})[0] == 200
    assert _call(fake_line_server, "POST", "/v2/bot/richmenu/alias",
                 {"richMenuAliasId": "a", "richMenuId": menu_id})[0] == 400  # exists
    assert _call(fake_line_server, "GET", "/v2/bot/richmenu/alias/a") == (200, {"richMenuAliasId": "a",
                                                                              "richMenuId": menu_id})
    assert _call(fake_line_server, "GET", "/v2/bot/user/all/richmenu")[0] == 404
    assert _call(fake_line_server, "POST", f"/v2/bot/user/all/richmenu/{menu_id}")[0] == 200
    assert _call(fake_line_server, "POST", f"/v2/bot/user/not-a-user/richmenu/{menu_id}")[0] == 400
    parent = user_id()
    assert _call(fake_line_server, "POST", f"/v2/bot/user/{parent}/richmenu/richmenu-nope")[0] == 404
    assert _call(fake_line_server, "POST", f"/v2/bot/user/{parent}/richmenu/{menu_id}")[0] == 200
    assert _call(fake_line_server, "GET", f"/v2/bot/user/{parent}/richmenu") == (200, {"richMenuId": menu_id})
    assert _call(fake_line_server, "DELETE", f"/v2/bot/user/{parent}/richmenu")[0] == 200
    assert fake_line.user_rich_menus == {}

    # Faults can be injected into the new operations too, and reset() forgets everything.
    fake_line.fail("richmenu.get", 500)
    assert _call(fake_line_server, "GET", f"/v2/bot/richmenu/{menu_id}")[0] == 500
    assert _call(fake_line_server, "GET", f"/v2/bot/richmenu/{menu_id}")[0] == 200
    fake_line.reset()
    assert (fake_line.rich_menus, fake_line.rich_menu_images, fake_line.rich_menu_aliases,
            fake_line.default_rich_menu, fake_line.user_rich_menus) == ({}, {}, {}, None, {})


# The commands

def test_cli_draw_writes_ten_images(menus, tmp_path):
    from bot.cli import main
    from bot.richmenu.cli import preview

    assert main(["richmenu", "draw", "--out", str(tmp_path)]) == 0
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted(f"richmenu-{code}.png" for code in CODES)
    assert (tmp_path / "richmenu-ja.png").read_bytes() == menus["ja"].image
    assert Image.open(io.BytesIO(preview(menus["ne"].image))).size == (1250, 843)  # what --preview writes


def test_cli_sync_says_what_is_missing(monkeypatch, capsys):
    from bot.cli import main

    for name in ("BOT_ENV", "LINE_CHANNEL_ACCESS_TOKEN", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["richmenu", "sync"]) == 2
    assert "LINE_CHANNEL_ACCESS_TOKEN and REDIS_URL" in capsys.readouterr().err


def test_cli_sync_prints_the_report(menus, monkeypatch, capsys, settings, fake_line):
    from bot.cli import main

    monkeypatch.setenv("BOT_ENV", "test")
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("LINE_API_BASE_URL", settings.line_api_base_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("LINE_BACKOFF_SECONDS", "0.01")
    assert main(["richmenu", "sync"]) == 0
    out = capsys.readouterr().out
    assert "created: ja, ja-easy, en" in out and "default: set to richmenu-" in out
    assert len(fake_line.rich_menus) == 10


def test_the_conversation_links_the_menu_of_the_chosen_language_and_relinks_after_a_sync(
        menus, catalogs, runtime, settings, redis_client, fake_line, client, events):
    from tests.conftest import drain, post_webhook

    first = sync(runtime, settings, redis_client, catalogs).run()
    parent = user_id()
    runtime.users.save(parent, state="", data={}, profile_changes={"language": "ja", "consent": True})
    assert post_webhook(client, [events.postback(parent, Postback("lang.set", ("vi",)).encode())]).status_code == 200
    drain(runtime)
    assert fake_line.rich_menu_of(parent) == first.ids["vi"]
    # A changed Vietnamese label: sync retires the old menu and LINE unlinks the parent…
    second = sync(runtime, settings, redis_client, OneLabelChanged(catalogs)).run()
    assert fake_line.rich_menu_of(parent) == first.ids["ja"]
    # …whose next message links the new one.
    assert post_webhook(client, [events.text(parent, "メニュー")]).status_code == 200
    drain(runtime)
    assert fake_line.rich_menu_of(parent) == second.ids["vi"]
    links = [r for r in fake_line.requests if "/richmenu/" in r[1] and "/user/" in r[1] and r[0] == "POST"]
    assert post_webhook(client, [events.text(parent, "メニュー")]).status_code == 200
    drain(runtime)
    assert [r for r in fake_line.requests if "/richmenu/" in r[1] and "/user/" in r[1] and r[0] == "POST"] == links
