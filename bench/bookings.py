"""Booking throughput: bookings per second through the real store (Lua in Redis), from many threads
each with its own connection, as several worker processes would book.

(a) contention: every booking goes to one slot (its capacity large enough for all);
(b) spread: the same number of bookings over many slots.

`python -m bench.bookings` prints one line; `measure_bookings()` returns the numbers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import redis

from bot.bookings.pack import Centers
from bot.bookings.store import BookingStore
from bot.redis_server import EmbeddedRedis
from dialogs.centers import TOKYO, BookingRules, Center

CENTERS = Centers(centers=(Center(id="bench"),), rules=BookingRules(), close_on_national_holidays=False)
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=TOKYO)
DAY = date(2025, 6, 4)


@dataclass(frozen=True)
class BookingThroughput:
    one_slot_per_s: float
    spread_per_s: float
    threads: int
    bookings: int
    slots: int

    def line(self) -> str:
        return (f"bookings: {self.one_slot_per_s:,.0f}/s on one slot, {self.spread_per_s:,.0f}/s over "
                f"{self.slots} slots ({self.bookings} bookings each, {self.threads} threads, Lua in Redis)")


def _book_all(url: str, prefix: str, slot_ids: list[str], bookings: int, threads: int) -> float:
    """Bookings per second, every one of which must succeed."""
    barrier = threading.Barrier(threads + 1)
    failures: list[str] = []

    def run(worker: int) -> None:
        client = redis.Redis.from_url(url)
        store = BookingStore(client, prefix, CENTERS)
        mine = range(worker, bookings, threads)
        store.redis.ping()
        barrier.wait()
        for n in mine:
            result = store.book(f"U{n:06}", slot_ids[n % len(slot_ids)], 1, "bench", NOW)
            if not result.ok:
                failures.append(result.status)
        client.close()

    pool = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} bookings failed: {sorted(set(failures))}")
    return bookings / elapsed


def _slots(url: str, prefix: str, count: int, capacity: int) -> list[str]:
    client = redis.Redis.from_url(url)
    store = BookingStore(client, prefix, CENTERS)
    start = datetime.combine(DAY, datetime.min.time(), TOKYO) + timedelta(hours=9)
    ids = [store.add_slot("bench", start, start + timedelta(minutes=30), capacity, NOW).id for _ in range(count)]
    client.close()
    return ids


def measure_bookings(redis_url: str | None = None, *, threads: int = 16, bookings: int = 4000,
                     slots: int = 200) -> BookingThroughput:
    """Against `redis_url`, or a private Redis with the deployment's persistence (AOF, everysec)."""
    if redis_url is None:
        with tempfile.TemporaryDirectory(prefix="bench-bookings-") as folder, EmbeddedRedis(folder) as server:
            return measure_bookings(server.url, threads=threads, bookings=bookings, slots=slots)
    run_id = f"bench-{time.time_ns()}"
    try:
        one = _book_all(redis_url, f"{run_id}-one", _slots(redis_url, f"{run_id}-one", 1, bookings),
                        bookings, threads)
        many_ids = _slots(redis_url, f"{run_id}-many", slots, -(-bookings // slots))
        spread = _book_all(redis_url, f"{run_id}-many", many_ids, bookings, threads)
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"{run_id}-*", count=1000):
            client.delete(key)
        client.close()
    return BookingThroughput(one, spread, threads, bookings, slots)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bookings", description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--bookings", type=int, default=4000)
    parser.add_argument("--slots", type=int, default=200)
    parser.add_argument("--redis-url", default=None, help="an existing Redis (default: a private one)")
    args = parser.parse_args(argv)
    result = measure_bookings(args.redis_url, threads=args.threads, bookings=args.bookings, slots=args.slots)
    print(result.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
