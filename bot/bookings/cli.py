"""`python -m bot slots add | list`: single slots for operators and scripts.

Times without a zone are Asia/Tokyo. Output is one line per item, tab-separated, so that a
script can read it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta

import redis

from bot.bookings.pack import PackError, load_centers
from bot.bookings.store import BookingStore, NoSuchCenter
from bot.config import Settings
from dialogs.centers import TOKYO


def add_parser(subparsers) -> None:
    slots = subparsers.add_parser("slots", help="add or list the slots of a 子育て支援センター (needs REDIS_URL)")
    actions = slots.add_subparsers(dest="slots_action", required=True)
    add = actions.add_parser("add", help="add a single slot; prints its id")
    add.add_argument("--center", required=True, help="center id from centers.toml, e.g. center-1")
    add.add_argument("--start", required=True, type=_moment, help="e.g. 2025-06-03T10:00 (Asia/Tokyo unless a zone is given)")
    length = add.add_mutually_exclusive_group(required=True)
    length.add_argument("--end", type=_moment, help="e.g. 2025-06-03T11:30")
    length.add_argument("--minutes", type=int, help="length of the slot")
    add.add_argument("--capacity", required=True, type=int, help="families")
    listing = actions.add_parser("list", help="a center's slots on a day: id, time, capacity, booked, waiting, status")
    listing.add_argument("--center", required=True)
    listing.add_argument("--date", required=True, type=date.fromisoformat, help="YYYY-MM-DD")


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date and time, e.g. 2025-06-03T10:00") from None
    return moment.replace(tzinfo=TOKYO) if moment.tzinfo is None else moment.astimezone(TOKYO)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.redis_url:
        print("slots: REDIS_URL is not set. Slots live in the bot's Redis: set REDIS_URL to it, "
              "e.g. REDIS_URL=redis://127.0.0.1:6379/0 python -m bot slots list … "
              "(the private Redis that `python -m bot run` starts without REDIS_URL is not reachable "
              "from other commands).", file=sys.stderr)
        return 2
    try:
        centers = load_centers(settings.content_dir)
    except PackError as exc:
        print(f"slots: {exc}", file=sys.stderr)
        return 2
    client = redis.Redis.from_url(settings.redis_url)
    store = BookingStore(client, settings.key_prefix, centers)
    now = datetime.now(TOKYO)
    try:
        if args.slots_action == "add":
            end = args.end or args.start + timedelta(minutes=args.minutes)
            slot = store.add_slot(args.center, args.start, end, args.capacity, now)
            print(slot.id)
            return 0
        for slot in store.slots(args.center, args.date, now):
            status = f"closed: {slot.reason}" if slot.closed else ("full" if slot.full else "open")
            print(f"{slot.id}\t{slot.start:%H:%M}-{slot.end:%H:%M}\t{slot.capacity}\t{slot.booked}"
                  f"\t{slot.waiting}\t{status}")
        return 0
    except NoSuchCenter as exc:
        known = ", ".join(c.id for c in centers.centers) or "none"
        print(f"slots: {exc.args[0]} (the pack has: {known})", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"slots: {exc}", file=sys.stderr)
        return 2
    except redis.exceptions.ConnectionError as exc:
        print(f"slots: cannot reach Redis at REDIS_URL ({exc})", file=sys.stderr)
        return 1
    finally:
        client.close()
