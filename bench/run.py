"""`make bench`: kosodate-bot against line-bot-sdk's echo bot, on this machine, in one run.

For each system, behind gunicorn with 2 workers, against the same fake LINE API (its own
process) and, for the bot, a private Redis and two `python -m bot worker` processes:

1. latency: webhook acknowledgement p50/p99 at a fixed offered load (open loop, 200 events/s
   for 10 s by default, one signed text-message event per request, a few hundred users);
2. throughput: a fixed load offered (400 events/s, 4000 events by default); end-to-end
   events/s is answers received by the fake LINE / (last answer − first event sent);
3. capacity: the same with more offered than either system answers here (800 events/s), so
   that the ratio between the two says something when both keep up with phase 2.

Every event must be answered: answers are counted per user against what was sent. The CPU
time of each process group is accounted per phase, and CPU used by anything outside the
bench is reported, since a busy machine disturbs every number here.
Results go to stdout and to bench/results/latest.md (`python -m bench --help` for options).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
import urllib.request
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench import cpu, load
from bench.procs import ROOT, Child, Children, python, wait_http_ok
from bot.redis_server import EmbeddedRedis, free_port

SECRET = "bench-channel-secret-0123456789ab"
TOKEN = "bench-channel-access-token"
RESULTS = Path(__file__).resolve().parent / "results"
# The bot's BOT_DATA_DIR during the bench: kept between runs (git-ignored, like all of results/)
# so that caches the bot keeps there (FAQ embeddings) are built once, as on a deployed bot.
BOT_DATA = RESULTS / "bot-data"

ACK_P99_TARGET_MS = 30.0
_USER_IN_PATH = re.compile(r"/U[0-9a-f]{32}")  # one row per endpoint, not per user
E2E_TARGET_EPS = 300.0


# Talking to the fake LINE process

class FakeLineClient:
    def __init__(self, url: str):
        self.url = url

    def _call(self, method: str, path: str, payload: dict | None = None, timeout: float = 30.0) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return json.loads(response.read())

    def tokens(self, users: list[str]) -> list[str]:
        return self._call("POST", "/bench/tokens", {"users": users})["tokens"]

    def reset(self) -> None:
        self._call("POST", "/bench/reset", {})

    def count(self) -> int:
        return self._call("GET", "/bench/count")["deliveries"]

    def stats(self) -> dict:
        return self._call("GET", "/bench/stats")


# Results

@dataclass
class Phase:
    name: str
    offered_rate: float
    sent: int = 0
    acked: int = 0
    ack_failures: Counter = field(default_factory=Counter)
    ack_p50: float = math.nan
    ack_p99: float = math.nan
    ack_max: float = math.nan
    lateness_p99: float = math.nan      # how late the generator was against its schedule
    max_in_flight: int = 0
    send_rate: float = math.nan         # achieved
    delivered: int = 0
    matched: int = 0                    # answers matched to an event of the same user
    missing: int = 0
    extra: int = 0
    by_kind: Counter = field(default_factory=Counter)
    line_errors: Counter = field(default_factory=Counter)
    e2e_eps: float = math.nan
    e2e_span_s: float = math.nan
    answer_p50: float = math.nan
    answer_p99: float = math.nan
    missing_users: list = field(default_factory=list)
    drain_limit_s: float = math.nan
    cpu_s: dict = field(default_factory=dict)   # CPU seconds per process group, load start → drained
    wall_s: float = math.nan

    def cpu_ms_per_event(self, group: str) -> float:
        """CPU per answered event: the work per event done, even when some were left unanswered."""
        return self.cpu_s.get(group, 0.0) * 1000 / self.matched if self.matched else math.nan

    @property
    def cores(self) -> float:
        """How busy the machine was, in cores, over the phase (the bench's processes only)."""
        ours = sum(v for k, v in self.cpu_s.items() if k != "other")
        return ours / self.wall_s if self.wall_s > 0 else math.nan

    @property
    def other_load(self) -> float:
        """CPU that processes outside the bench used, in cores (0.5 = half a core)."""
        return self.cpu_s.get("other", 0.0) / self.wall_s if self.wall_s > 0 else math.nan


@dataclass
class SystemResult:
    name: str
    latency: Phase | None = None
    throughput: Phase | None = None
    capacity: Phase | None = None
    notes: list = field(default_factory=list)

    @property
    def phases(self) -> list[Phase]:
        found = []
        for p in (self.latency, self.throughput, self.capacity):
            if p is not None and not any(p is q for q in found):
                found.append(p)
        return found


def analyse(name: str, run: load.Run, stats: dict) -> Phase:
    shots = run.shots
    phase = Phase(name=name, offered_rate=run.rate, sent=len(shots), max_in_flight=run.max_in_flight)
    ok = [s for s in shots if s.status == 200]
    phase.acked = len(ok)
    for s in shots:
        if s.status != 200:
            phase.ack_failures[f"HTTP {s.status}" if s.status else (s.error or "no answer")] += 1
    latencies = [s.latency_ms for s in ok]
    phase.ack_p50 = load.percentile(latencies, 50)
    phase.ack_p99 = load.percentile(latencies, 99)
    phase.ack_max = max(latencies) if latencies else math.nan
    phase.lateness_p99 = load.percentile([s.lateness_ms for s in shots], 99)
    if len(shots) > 1 and run.last_sent_wall > run.first_sent_wall:
        phase.send_rate = (len(shots) - 1) / (run.last_sent_wall - run.first_sent_wall)

    deliveries = stats["deliveries"]
    phase.delivered = len(deliveries)
    phase.by_kind = Counter(kind for _to, _at, kind in deliveries)
    phase.line_errors = Counter()
    for key, n in stats["statuses"].items():
        if not key.endswith(" 200"):
            phase.line_errors[_USER_IN_PATH.sub("/<user>", key)] += n

    # Per user, the k-th event sent is answered by the k-th answer received: both systems
    # keep each user's order (the bot by design, the echo bot because it answers in-request).
    sent_by_user: dict[str, list[float]] = defaultdict(list)
    for s in sorted(shots, key=lambda s: s.sent_wall):
        sent_by_user[s.user].append(s.sent_wall)
    got_by_user: dict[str, list[float]] = defaultdict(list)
    for to, at, _kind in deliveries:
        got_by_user[to].append(at)
    answer_ms = []
    last_answer = None
    for user in set(sent_by_user) | set(got_by_user):
        sent, got = sent_by_user.get(user, []), sorted(got_by_user.get(user, []))
        pairs = min(len(sent), len(got))
        phase.matched += pairs
        if len(sent) > len(got):
            phase.missing += len(sent) - len(got)
            phase.missing_users.append(user)
        phase.extra += max(0, len(got) - len(sent))
        for k in range(pairs):
            answer_ms.append((got[k] - sent[k]) * 1000)
        if got:
            last_answer = max(last_answer or got[-1], got[-1])
    phase.answer_p50 = load.percentile(answer_ms, 50)
    phase.answer_p99 = load.percentile(answer_ms, 99)
    if last_answer is not None and phase.matched:
        phase.e2e_span_s = last_answer - run.first_sent_wall
        phase.e2e_eps = phase.matched / phase.e2e_span_s
    return phase


# The bench

class Bench:
    def __init__(self, args, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.children = Children(workdir)
        self.redis_server: EmbeddedRedis | None = None
        self.redis: redis.Redis | None = None
        self.fake: FakeLineClient | None = None
        self.fake_child: Child | None = None
        self.users = load.user_ids(args.users)
        self.hooks = load.Webhooks(SECRET)
        self.meter = cpu.CpuMeter()
        self.meter.add_pid(os.getpid(), "generator")

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def start_shared(self) -> None:
        self.redis_server = EmbeddedRedis(self.workdir / "redis").start()
        self.redis = redis.Redis.from_url(self.redis_server.url)
        self.meter.add_session(self.redis_server.process.pid, "redis")
        port = free_port()
        self.fake_child = self.children.start("fake-line", python(
            "-m", "bench.fakeline", "--port", str(port), "--token", TOKEN, "--server", self.args.fake_server))
        self.fake = FakeLineClient(f"http://127.0.0.1:{port}")
        self.meter.add_session(self.fake_child.pid, "fake LINE")
        wait_http_ok(self.fake.url + "/bench/ping", self.fake_child)
        self.log(f"Redis on {self.redis_server.url}, fake LINE ({self.args.fake_server}) on {self.fake.url}")

    def stop(self) -> None:
        self.children.stop_all()
        if self.redis is not None:
            self.redis.close()
        if self.redis_server is not None:
            self.redis_server.stop()

    def clean_slate(self, backlog: bool = False) -> None:
        self.redis.flushall()
        if backlog:
            # The workers may still be answering an event of the phase before, taken before the
            # flush: let that answer land before forgetting deliveries, or it counts as extra.
            time.sleep(self.args.backlog_grace)
        self.fake.reset()

    # Starting each system

    def gunicorn(self, name: str, app: str, env: dict) -> tuple[Child, int]:
        port = free_port()
        child = self.children.start(name, python(
            "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", app), env)
        self.meter.add_session(child.pid, "web")
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", child)
        return child, port

    def bot_env(self) -> dict:
        return {
            "BOT_ENV": "production",
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
            "LINE_API_BASE_URL": self.fake.url,
            "LINE_DATA_API_BASE_URL": self.fake.url,
            "CONSOLE_SECRET_KEY": secrets.token_urlsafe(48),  # production refuses to serve without one
            "REDIS_URL": self.redis_server.url,
            "CITY_CONTENT_DIR": str(ROOT / "content" / "ayase"),
            "BOT_DATA_DIR": str(BOT_DATA),
            # Two worker processes on two cores: one model thread each (see the README).
            "FAQ_MODEL_THREADS": "1",
            **dict(item.split("=", 1) for item in self.args.bot_env),
        }

    def start_bot(self) -> tuple[list[Child], int]:
        env = self.bot_env()
        web, port = self.gunicorn("bot-web", "bot.app:create_app()", env)
        threads = ["--threads", str(self.args.worker_threads)] if self.args.worker_threads else []
        nice = ["nice", "-n", str(self.args.worker_nice)] if self.args.worker_nice else []
        workers = [self.children.start(f"bot-worker-{i}", nice + python("-m", "bot", "worker", *threads), env)
                   for i in (1, 2)]
        for worker in workers:
            self.meter.add_session(worker.pid, "workers")
        return [web, *workers], port

    def start_baseline(self) -> tuple[list[Child], int]:
        env = {"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
               "LINE_API_BASE_URL": self.fake.url}
        web, port = self.gunicorn("echo-web", "bench.echo_app:create_app()", env)
        return [web], port

    # Phases

    def wait_for_answers(self, expected: int, children: list[Child], timeout_s: float,
                         stall_s: float = 10.0) -> int:
        deadline = time.monotonic() + timeout_s
        count, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            now = self.fake.count()
            if now >= expected:
                return now
            if now != count:
                count, last_change = now, time.monotonic()
            elif time.monotonic() - last_change > stall_s:
                break
            dead = [c for c in children if not c.alive()]
            if dead:
                raise RuntimeError(f"{', '.join(c.name for c in dead)} died during the bench:\n"
                                   + "\n".join(f"--- {c.name} ({c.log_path})\n{c.log_tail()}" for c in dead))
            time.sleep(0.2)
        return max(count, 0)

    def settle(self, timeout_s: float = 5.0) -> None:
        """Until no worker holds or awaits a chat, so that flushing Redis cuts nothing off."""
        prefix = self.bot_env().get("REDIS_KEY_PREFIX") or "kb"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not any(self.redis.zcard(f"{prefix}:{{ev}}:{k}") for k in ("leases", "ready")):
                return
            time.sleep(0.1)

    def phase(self, name: str, port: int, rate: float, count: int, children: list[Child],
              after: Phase | None = None) -> Phase:
        self.clean_slate(backlog=bool(after and after.missing))
        shots = load.plan(self.users, count, seed=zlib.crc32(name.encode()))
        for shot, token in zip(shots, self.fake.tokens([s.user for s in shots])):
            shot.token = token
        self.log(f"  {name}: {count} events at {rate:g}/s")
        before, started = self.meter.snapshot(), time.monotonic()
        run = load.open_loop("127.0.0.1", port, rate, shots, self.hooks, timeout_s=self.args.request_timeout)
        expected = len(shots)
        got = self.wait_for_answers(expected, children, timeout_s=self.args.drain_timeout)
        if got >= expected:
            self.settle()
        after, wall_s = self.meter.snapshot(), time.monotonic() - started
        if got < expected:
            self.log(f"  {name}: only {got} of {expected} answers arrived")
        phase = analyse(name, run, self.fake.stats())
        phase.cpu_s, phase.wall_s = cpu.usage(before, after), wall_s
        phase.drain_limit_s = self.args.drain_timeout
        self.log(f"  {name}: ack p50 {phase.ack_p50:.1f} ms, p99 {phase.ack_p99:.1f} ms; "
                 f"{phase.matched}/{phase.sent} answered, {phase.e2e_eps:.0f} events/s end to end; "
                 f"other load on the machine {phase.other_load:.2f} cores")
        return phase

    def warm_up(self, port: int, children: list[Child], result: SystemResult) -> None:
        """Imports, connections, catalogs and gunicorn workers all warm before measuring."""
        started = time.monotonic()
        count = self.args.warmup
        self.clean_slate()
        shots = load.plan(self.users, count, seed=1)
        for shot, token in zip(shots, self.fake.tokens([s.user for s in shots])):
            shot.token = token
        run = load.open_loop("127.0.0.1", port, 50, shots, self.hooks, timeout_s=self.args.request_timeout)
        # The first answers wait for the workers to start (loading models, say): be patient.
        got = self.wait_for_answers(count, children, timeout_s=self.args.start_timeout,
                                    stall_s=self.args.start_timeout)
        if len(run.ok) < count or got < count:
            raise RuntimeError(f"warm-up failed: {len(run.ok)}/{count} acknowledged "
                               f"({dict(Counter(s.status or s.error for s in run.shots))}), {got} answered\n"
                               + "\n".join(f"--- {c.name}\n{c.log_tail()}" for c in children))
        self.settle()
        took = time.monotonic() - started
        if took > 15:
            result.notes.append(f"took {took:.0f} s from start to answering {count} warm-up events "
                                f"(caches being built? they are kept in {BOT_DATA} between runs)")

    def measure(self, name: str, start) -> SystemResult:
        self.log(f"{name}: starting")
        self.clean_slate()
        children, port = start()
        result = SystemResult(name)
        try:
            self.warm_up(port, children, result)
            a = self.args
            result.latency = self.phase(f"{name} latency", port, a.latency_rate,
                                        int(a.latency_rate * a.latency_seconds), children)
            result.throughput = self.phase(f"{name} throughput", port, a.e2e_rate, a.e2e_events, children,
                                           after=result.latency)
            kept_up = result.throughput.e2e_eps >= 0.9 * a.e2e_rate and not result.throughput.missing
            if not kept_up:
                result.notes.append(f"could not keep up with {a.e2e_rate:g} events/s, so the throughput phase "
                                    f"already measured its capacity: capacity phase skipped")
                result.capacity = result.throughput
            elif a.capacity_events:
                result.capacity = self.phase(f"{name} capacity", port, a.capacity_rate, a.capacity_events,
                                             children, after=result.throughput)
            for child in children:
                errors = [line for line in child.log_tail(10_000).splitlines()
                          if " ERROR " in line or "Traceback" in line]
                if errors:
                    result.notes.append(f"{child.name} logged {len(errors)} error line(s), e.g. {errors[0][:160]}")
        finally:
            self.children.stop(*children)
        return result


# Reporting

GROUPS = ("generator", "web", "workers", "redis", "fake LINE", "other")


def _ms(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _ratio(bot: float, base: float) -> str:
    if math.isnan(bot) or math.isnan(base) or base == 0:
        return "n/a"
    return f"{bot / base:.2f}×"


def _verdict(ok: bool) -> str:
    return "**PASS**" if ok else "**FAIL**"


def _answered(p: Phase) -> str:
    text = f"{p.matched}/{p.sent}"
    if p.missing:
        text += f" ({p.missing} unanswered when the bench stopped waiting)"
    if p.extra:
        text += f" (+{p.extra} duplicate)"
    return text


def _acked(p: Phase) -> str:
    text = f"{p.acked}/{p.sent}"
    if p.ack_failures:
        text += " (" + ", ".join(f"{k}: {v}" for k, v in p.ack_failures.most_common()) + ")"
    return text


def verdicts(bot: SystemResult) -> tuple[bool, bool]:
    bl, bt = bot.latency, bot.throughput
    ack_ok = not math.isnan(bl.ack_p99) and bl.ack_p99 < ACK_P99_TARGET_MS and bl.acked == bl.sent
    e2e_ok = not math.isnan(bt.e2e_eps) and bt.e2e_eps >= E2E_TARGET_EPS and bt.missing == 0
    return ack_ok, e2e_ok


def table(bot: SystemResult, base: SystemResult, args) -> str:
    bl, bt, xl, xt = bot.latency, bot.throughput, base.latency, base.throughput
    lat = f"@ {args.latency_rate:g} ev/s"
    e2e = f"@ {args.e2e_rate:g} ev/s offered"
    ack_ok, e2e_ok = verdicts(bot)
    rows = [
        "| Metric | Target | kosodate-bot | baseline: SDK echo | bot ÷ baseline |",
        "|---|---|---|---|---|",
        f"| Webhook ack p50 (ms) {lat} | | {_ms(bl.ack_p50)} | {_ms(xl.ack_p50)} | {_ratio(bl.ack_p50, xl.ack_p50)} |",
        f"| Webhook ack p99 (ms) {lat} | < {ACK_P99_TARGET_MS:g} | {_ms(bl.ack_p99)} {_verdict(ack_ok)} | "
        f"{_ms(xl.ack_p99)} | {_ratio(bl.ack_p99, xl.ack_p99)} |",
        f"| End-to-end events/s {e2e} ({args.e2e_events} events) | ≥ {E2E_TARGET_EPS:g} | "
        f"{bt.e2e_eps:.0f} {_verdict(e2e_ok)} | {xt.e2e_eps:.0f} | {_ratio(bt.e2e_eps, xt.e2e_eps)} |",
    ]
    bc, xc = bot.capacity, base.capacity

    def capacity(r: SystemResult) -> str:
        if r.capacity is r.throughput:
            return f"{r.capacity.e2e_eps:.0f} (throughput phase: it could not keep up with {args.e2e_rate:g}/s)"
        return f"{r.capacity.e2e_eps:.0f}"

    if bc and xc:
        rows.append(f"| End-to-end events/s @ {args.capacity_rate:g} ev/s offered ({args.capacity_events} "
                    f"events): capacity | | {capacity(bot)} | {capacity(base)} | {_ratio(bc.e2e_eps, xc.e2e_eps)} |")
    for label, pick in (("latency", lambda r: r.latency), ("throughput", lambda r: r.throughput),
                        ("capacity", lambda r: r.capacity)):
        b, x = pick(bot), pick(base)
        if label == "capacity" and b and x and (b is bot.throughput or x is base.throughput):
            b = None if b is bot.throughput else b
            x = None if x is base.throughput else x
            rows.append(f"| Webhooks acknowledged 200 / answers delivered, capacity phase | all | "
                        f"{f'{_acked(b)} / {_answered(b)}' if b else 'skipped'} | "
                        f"{f'{_acked(x)} / {_answered(x)}' if x else 'skipped'} | |")
            continue
        if b and x:
            rows.append(f"| Webhooks acknowledged 200 / answers delivered, {label} phase | all | "
                        f"{_acked(b)} / {_answered(b)} | {_acked(x)} / {_answered(x)} | |")
    rows += [
        f"| Webhook ack p99 (ms) {e2e} | | {_ms(bt.ack_p99)} | {_ms(xt.ack_p99)} | {_ratio(bt.ack_p99, xt.ack_p99)} |",
        f"| Event sent → answer at LINE, p50 / p99 (ms) {lat} | | {_ms(bl.answer_p50)} / {_ms(bl.answer_p99)} | "
        f"{_ms(xl.answer_p50)} / {_ms(xl.answer_p99)} | |",
        f"| Event sent → answer at LINE, p50 / p99 (ms) {e2e} | | {_ms(bt.answer_p50)} / {_ms(bt.answer_p99)} | "
        f"{_ms(xt.answer_p50)} / {_ms(xt.answer_p99)} | |",
    ]
    return "\n".join(rows)


def details(results: list[SystemResult]) -> str:
    lines = ["| Phase | sent at (ev/s) | generator late p99 (ms) | max in flight | ack p99 / max (ms) | "
             "answers by | LINE API errors | first sent → last answer (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for p in r.phases:
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(p.by_kind.items())) or "–"
            errors = ", ".join(f"{k}: {v}" for k, v in p.line_errors.most_common()) or "none"
            lines.append(f"| {p.name} | {p.send_rate:.0f} | {_ms(p.lateness_p99)} | {p.max_in_flight} | "
                         f"{_ms(p.ack_p99)} / {_ms(p.ack_max)} | {kinds} | {errors} | {p.e2e_span_s:.2f} |")
    return "\n".join(lines)


def cpu_table(results: list[SystemResult]) -> str:
    lines = ["| Phase | " + " | ".join(GROUPS) + " | total | cores busy (bench's processes) |",
             "|---|" + "---|" * (len(GROUPS) + 2)]
    for r in results:
        for p in r.phases:
            cells = [p.cpu_ms_per_event(g) for g in GROUPS]
            lines.append(f"| {p.name} | " + " | ".join(f"{c:.2f}" for c in cells)
                         + f" | {sum(cells):.2f} | {p.cores:.2f} |")
    return "\n".join(lines)


def notes_for(results: list[SystemResult]) -> list[str]:
    notes = [f"- {r.name}: {n}" for r in results for n in r.notes]
    for r in results:
        for p in r.phases:
            if p.missing_users:
                notes.append(f"- {p.name}: {p.missing} event(s) had no answer {p.drain_limit_s:g} s after the "
                             f"last one was sent (the bench waits no longer), e.g. for "
                             f"{', '.join(p.missing_users[:3])}")
            if p.lateness_p99 > 5:
                notes.append(f"- {p.name}: the load generator ran up to {p.lateness_p99:.0f} ms (p99) behind "
                             "its schedule")
            if p.other_load > 0.15:
                notes.append(f"- {p.name}: processes outside the bench used {p.other_load:.2f} cores of the "
                             f"machine meanwhile: this run's numbers are disturbed, run it again on a quiet "
                             f"machine")
    return notes


def report(bot: SystemResult, base: SystemResult, args, elapsed_s: float) -> str:
    cpu_name = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    notes = notes_for([bot, base])
    return "\n".join([
        f"# kosodate-bot bench — {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        "",
        f"{os.cpu_count()} CPUs ({cpu_name}), Python {platform.python_version()}, {args.users} users, "
        f"one text-message event per signed webhook request, open-loop load. Each system behind "
        f"`gunicorn --workers 2`; kosodate-bot with 2 `python -m bot worker` processes and Redis; "
        f"the fake LINE API ({args.fake_server}) in its own process. Ack latency: connect → whole "
        f"response. End to end: answers received / (last answer − first event sent). "
        f"The capacity row offers more than either system can answer on this machine.",
        "",
        table(bot, base, args),
        "",
        "Per phase:",
        "",
        details([bot, base]),
        "",
        "CPU ms per answered event, by process group (CPU time from the first event sent until the "
        "last answer, divided by the events answered; 'other' is what the rest of the machine used "
        "meanwhile):",
        "",
        cpu_table([bot, base]),
        "",
        *(["Notes:", "", *notes, ""] if notes else []),
        "Targets: " + "; ".join(f"{label} {'PASS' if ok else 'FAIL'}" for label, ok in zip(
            (f"ack p99 < {ACK_P99_TARGET_MS:g} ms @ {args.latency_rate:g} ev/s",
             f"end to end ≥ {E2E_TARGET_EPS:g} events/s"), verdicts(bot))) + ".",
        "",
        f"Bench took {elapsed_s:.0f} s.",
        "",
    ])


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--latency-rate", type=float, default=200.0, help="events/s offered for the latency phase")
    p.add_argument("--latency-seconds", type=float, default=10.0)
    p.add_argument("--e2e-rate", type=float, default=400.0, help="events/s offered for the throughput phase")
    p.add_argument("--e2e-events", type=int, default=4000)
    p.add_argument("--capacity-rate", type=float, default=800.0,
                   help="events/s offered for the capacity phase (more than either system can answer)")
    p.add_argument("--capacity-events", type=int, default=6000, help="0 to skip the capacity phase")
    p.add_argument("--users", type=int, default=300, help="distinct LINE users sending")
    p.add_argument("--warmup", type=int, default=60, help="events sent to warm each system up")
    p.add_argument("--fake-server", choices=["werkzeug", "gunicorn"], default="werkzeug",
                   help="what serves the fake LINE API")
    p.add_argument("--request-timeout", type=float, default=30.0)
    p.add_argument("--backlog-grace", type=float, default=3.0,
                   help="after a phase left events unanswered: seconds for answers in flight to land")
    p.add_argument("--start-timeout", type=float, default=120.0,
                   help="how long a system may take to answer its first events after starting")
    p.add_argument("--drain-timeout", type=float, default=15.0,
                   help="how long to wait after the last event for the answers to arrive")
    p.add_argument("--bot-env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for the bot's web and workers (repeatable)")
    p.add_argument("--worker-threads", type=int, default=None,
                   help="--threads for each `python -m bot worker` (default: the bot's own default)")
    p.add_argument("--worker-nice", type=int, default=0,
                   help="run the bot's workers under `nice -n N` (an experiment: the web first)")
    p.add_argument("--strict", action="store_true", help="exit 1 when the bot misses a target")
    p.add_argument("--only", choices=["bot", "baseline"], help="measure one system (no comparison table)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir with the processes' logs")
    args = p.parse_args(argv)
    for item in args.bot_env:
        if "=" not in item or not item.split("=", 1)[0]:
            p.error(f"--bot-env wants NAME=VALUE, got {item!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()

    def on_term(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    workdir = Path(tempfile.mkdtemp(prefix="kosodate-bench-"))
    bench = Bench(args, workdir)
    failed = True
    try:
        bench.start_shared()
        results = {}
        if args.only in (None, "bot"):
            results["bot"] = bench.measure("kosodate-bot", bench.start_bot)
        if args.only in (None, "baseline"):
            results["baseline"] = bench.measure("baseline", bench.start_baseline)
        failed = False
    except KeyboardInterrupt:
        print("interrupted; stopping everything", file=sys.stderr)
        return 130
    except RuntimeError as exc:  # a system that would not start, or died: say so, without a traceback
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C must not cut the cleanup short (each stop has its own time limit).
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        bench.stop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        if args.keep or failed:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started
    if len(results) < 2:
        measured = list(results.values())
        print("\n\n".join([details(measured), cpu_table(measured), "\n".join(notes_for(measured))]))
        return 0
    text = report(results["bot"], results["baseline"], args, elapsed)
    from bench.bookings import measure_bookings

    text += "\n\n## Bookings\n\n" + measure_bookings().line() + "\n"

    from bench.journeys import measure_journeys

    text += "\n## Journey messages\n\n" + measure_journeys().line() + "\n"

    from bench.answers import measure_answers

    text += "\n## Answers\n\n" + measure_answers().line() + "\n"
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(text)
    print(f"(written to {RESULTS / 'latest.md'})", file=sys.stderr)
    ack_ok, e2e_ok = verdicts(results["bot"])
    return 1 if args.strict and not (ack_ok and e2e_ok) else 0
