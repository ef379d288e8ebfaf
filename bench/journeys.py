"""Journey messages at a city's scale: schedule 50,000 registered families, then send the day's
journey messages to all of them against the fake LINE API over real HTTP, through the real store
(Lua in Redis), the real job and the real LINE client.

Every family's child was born 14 days ago, so each has the postpartum message due today; their
languages cycle through the ten. `python -m bench.journeys` prints one line;
`measure_journeys()` returns the numbers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from bot.config import Settings
from bot.fake_line import FakeLineServer
from bot.journeys import jobs
from bot.redis_server import EmbeddedRedis
from bot.runtime import Runtime
from dialogs.centers import TOKYO
from dialogs.languages import LANGUAGES

TOKEN = "bench-token"
NOW = datetime(2027, 3, 1, 10, 5, tzinfo=TOKYO)


@dataclass(frozen=True)
class JourneyRun:
    families: int
    schedule_s: float
    send_s: float
    api_calls: int
    delivered: int
    largest_call: int
    claim_ms_max: float

    def line(self) -> str:
        return (f"journeys: {self.families:,} families scheduled in {self.schedule_s:.1f} s; the day's messages "
                f"sent in {self.send_s:.1f} s with {self.api_calls} LINE API calls (multicasts of up to "
                f"{self.largest_call} users; {self.delivered:,} delivered, each once); longest claim "
                f"{self.claim_ms_max:.0f} ms of Redis time")


def measure_journeys(families: int = 50_000, redis_url: str | None = None) -> JourneyRun:
    if redis_url is None:
        with tempfile.TemporaryDirectory(prefix="bench-journeys-") as folder, EmbeddedRedis(folder) as server:
            return measure_journeys(families, server.url)
    fake = FakeLineServer(TOKEN).start()
    prefix = f"bench-{time.time_ns()}"
    settings = Settings(env="test", channel_secret="s", access_token=TOKEN, line_api_base_url=fake.url,
                        line_data_api_base_url=fake.url, redis_url=redis_url, key_prefix=prefix,
                        semantic_matching=False, line_backoff_s=0.05)
    runtime = Runtime(settings)
    try:
        store = runtime.journey_store
        birth = (NOW - timedelta(days=14)).date()
        registered_at = NOW - timedelta(days=1)
        codes = [language.code for language in LANGUAGES]
        started = time.perf_counter()
        for n in range(families):
            store.add_child(f"U{n:032x}", "birth", birth, codes[n % len(codes)], registered_at)
        schedule_s = time.perf_counter() - started

        claim_ms = []
        real_claim = store.claim

        def timed_claim(now, limit=jobs.CLAIM_STEP):
            t = time.perf_counter()
            try:
                return real_claim(now, limit)
            finally:
                claim_ms.append((time.perf_counter() - t) * 1000)

        store.claim = timed_claim
        started = time.perf_counter()
        report = jobs.send_journeys(store, runtime.line, runtime.dialog_services, NOW)
        send_s = time.perf_counter() - started
        calls = [r for r in fake.fake.requests if r[1].endswith("/multicast")]
        delivered = sum(len(d.recipients) for d in fake.fake.deliveries if d.kind == "multicast")
        if report.users != families or delivered != families or store.pending_batches():
            raise RuntimeError(f"sent {report.users} of {families} (delivered {delivered})")
        return JourneyRun(families, schedule_s, send_s, len(calls), delivered, max(report.calls), max(claim_ms))
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.delete(key)
        client.close()
        runtime.close()
        fake.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.journeys", description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=50_000)
    parser.add_argument("--redis-url", default=None, help="an existing Redis (default: a private one)")
    args = parser.parse_args(argv)
    print(measure_journeys(args.families, args.redis_url).line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
