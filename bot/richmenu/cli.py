"""`python -m bot richmenu sync | draw`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import Settings

PREVIEW_SIZE = (1250, 843)


def add_parser(subparsers) -> None:
    richmenu = subparsers.add_parser("richmenu", help="the translated rich menus: draw them, or sync them to LINE")
    actions = richmenu.add_subparsers(dest="richmenu_action", required=True)
    actions.add_parser("sync", help="make LINE's rich menus match the catalogs (idempotent); needs "
                                    "LINE_CHANNEL_ACCESS_TOKEN and REDIS_URL")
    draw = actions.add_parser("draw", help="write richmenu-<language>.png for every language (no network)")
    draw.add_argument("--out", required=True, type=Path, help="directory to write to (made if missing)")
    draw.add_argument("--preview", action="store_true",
                      help=f"downscale to {PREVIEW_SIZE[0]}x{PREVIEW_SIZE[1]} (for docs/)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.richmenu.fonts import FontsMissing

    try:
        if args.richmenu_action == "draw":
            return _draw(args.out, args.preview)
        return _sync(settings)
    except FontsMissing as exc:
        print(f"richmenu: {exc}", file=sys.stderr)
        return 2


def preview(png: bytes) -> bytes:
    """The image at half size, to show in docs/ without weighing down the repository."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").resize(PREVIEW_SIZE, Image.Resampling.LANCZOS)
    # A few flat colours: a 256-colour palette halves the file with no visible change.
    image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _draw(out: Path, small: bool) -> int:
    from bot.i18n import Catalogs
    from bot.richmenu.menus import build_all

    out.mkdir(parents=True, exist_ok=True)
    for menu in build_all(Catalogs()):
        path = out / f"richmenu-{menu.language}.png"
        data = preview(menu.image) if small else menu.image
        path.write_bytes(data)
        print(f"{path}\t{len(data)} bytes\t{menu.name}")
    return 0


def _sync(settings: Settings) -> int:
    import logging

    import redis

    from bot.line import LineApiError, LineClient
    from bot.richmenu.sync import RichMenuSync, SyncBusy

    missing = [name for name, value in (("LINE_CHANNEL_ACCESS_TOKEN", settings.access_token),
                                        ("REDIS_URL", settings.redis_url)) if not value]
    if missing:
        print("richmenu sync: set " + " and ".join(missing) + ". The access token is the channel's long-lived "
              "token (LINE Developers console, Messaging API tab); REDIS_URL is the bot's Redis, where the "
              "workers read which menu is which language's (the private Redis of `python -m bot run` is not "
              "reachable from here).", file=sys.stderr)
        return 2
    logging.basicConfig(level="WARNING")
    # A longer timeout than the chat's: an image upload is bigger than a message.
    line = LineClient(settings.line_api_base_url, settings.access_token, timeout_s=max(settings.line_timeout_s, 30),
                      retries=settings.line_retries, backoff_s=settings.line_backoff_s,
                      data_base_url=settings.line_data_api_base_url)
    client = redis.Redis.from_url(settings.redis_url)
    try:
        report = RichMenuSync(line, client, settings.key_prefix).run()
    except SyncBusy as exc:
        print(f"richmenu sync: {exc}", file=sys.stderr)
        return 1
    except LineApiError as exc:
        print(f"richmenu sync: {exc} (run it again: what is done is kept)", file=sys.stderr)
        return 1
    except redis.exceptions.ConnectionError as exc:
        print(f"richmenu sync: cannot reach Redis at REDIS_URL ({exc})", file=sys.stderr)
        return 1
    finally:
        line.close()
        client.close()
    print(report.text())
    return 0
