"""The worker: per-user order, at least once across a killed worker, reply or push, retries."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


from bot.line import retry_key_for
from bot.redis_server import EmbeddedRedis
from tests.conftest import SECRET, TOKEN, drain, post_webhook, user_id

ROOT = Path(__file__).resolve().parent.parent


def run_workers(runtime, count: int, stop: threading.Event) -> list[threading.Thread]:
    threads = []
    for i in range(count):
        t = threading.Thread(target=runtime.worker(f"w{i}").run, args=(stop,), daemon=True)
        t.start()
        threads.append(t)
    return threads


def test_text_gets_a_reply_with_the_reply_token(client, runtime, events, fake_line):
    user = user_id()
    event = events.text(user, "メニュー")
    post_webhook(client, [event])
    assert drain(runtime) == 1
    [delivery] = fake_line.sent_to(user)
    assert delivery.kind == "reply" and delivery.reply_token == event["replyToken"]
    assert runtime.queue.pending() == 0


def test_order_per_user_under_concurrent_deliveries(settings, events, fake_line):
    """LINE may deliver one user's events in parallel requests that land out of order."""
    from bot.app import create_app
    from bot.runtime import Runtime

    runtime = Runtime(settings.with_(order_window_ms=300))
    client = create_app(runtime.settings, runtime).test_client()
    users = [user_id() for _ in range(8)]
    base = int(time.time() * 1000)
    batches = []
    for user in users:
        for n in range(6):
            batches.append(events.text(user, "メニュー", ts=base + n * 10))
    random.Random(7).shuffle(batches)
    stop = threading.Event()
    threads = run_workers(runtime, 2, stop)
    try:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda e: post_webhook(client, [e]).status_code, batches))
        assert statuses == [200] * len(batches)
        assert fake_line.wait_for(lambda: len(fake_line.deliveries) >= len(batches), 20)
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        runtime.close()
    by_token = {e["replyToken"]: e["timestamp"] for e in batches}
    for user in users:
        order = [by_token[d.reply_token] for d in fake_line.sent_to(user)]
        assert order == sorted(order), f"{user} answered out of order"
        assert len(order) == 6


def test_killed_worker_leaves_the_event_for_the_next(settings, client, runtime, events, fake_line, redis_client):
    user = user_id()
    # The first answer hangs inside LINE: the worker is mid-event when it is killed.
    fake_line.fail("reply", 500, times=1, hang_s=5)
    env = {**os.environ, "BOT_ENV": "test", "REDIS_URL": settings.redis_url,
           "LINE_API_BASE_URL": settings.line_api_base_url, "LINE_CHANNEL_SECRET": SECRET,
           "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "WORKER_LEASE_SECONDS": "1", "ORDER_WINDOW_MS": "0",
           "CITY_CONTENT_DIR": str(settings.content_dir)}
    worker = subprocess.Popen([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        post_webhook(client, [events.text(user, "メニュー")])
        leases = runtime.queue.key("leases")
        # The worker process loads the model, the FAQ index and the risk check first: on a busy
        # 2-core machine that alone has taken over 10 s.
        assert fake_line.wait_for(lambda: redis_client.zcard(leases) == 1 and not fake_line.deliveries, 90)
        time.sleep(0.3)
        worker.send_signal(signal.SIGKILL)
        worker.wait(5)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert runtime.queue.pending() == 1 and fake_line.sent_to(user) == []
    time.sleep(1.1)  # the dead worker's lease runs out
    runtime.scheduler().tick()
    assert drain(runtime) == 1
    # The dead worker's request, still hanging inside the fake, ends before the next test starts.
    assert fake_line.wait_for(lambda: any(r[2] == 500 for r in fake_line.requests), 10)
    [delivery] = fake_line.sent_to(user)
    # Its reply token was spent by the dead worker: the answer goes by push, with the event's key.
    assert delivery.kind == "push"
    assert runtime.queue.pending() == 0


def test_stale_reply_token_falls_back_to_push_with_retry_key(client, runtime, events, fake_line):
    user = user_id()
    event = events.text(user, "メニュー", ts=int(time.time() * 1000) - 60_000)
    post_webhook(client, [event])
    drain(runtime)
    [delivery] = fake_line.sent_to(user)
    assert delivery.kind == "push"
    assert delivery.retry_key == retry_key_for(event["webhookEventId"])
    uuid.UUID(delivery.retry_key)


def test_a_retried_push_is_not_sent_twice(runtime, events, fake_line, client):
    user = user_id()
    event = events.text(user, "メニュー", ts=int(time.time() * 1000) - 60_000)
    post_webhook(client, [event])
    _, queued = runtime.queue.head(user)
    runtime.conversations.handle(queued)
    runtime.redis.delete(runtime.messenger._answer_key(queued))  # as if the worker died before noting it
    runtime.conversations.handle(queued)
    assert len(fake_line.sent_to(user)) == 1
    assert [r[2] for r in fake_line.requests if r[1].endswith("/push")] == [200, 409]


def test_reply_token_is_never_used_twice(runtime, events, fake_line, client):
    user = user_id()
    post_webhook(client, [events.text(user, "メニュー")])
    _, queued = runtime.queue.head(user)
    runtime.conversations.handle(queued)
    runtime.conversations.handle(queued)  # a second worker after a lost ack
    assert [d.kind for d in fake_line.sent_to(user)] == ["reply"]
    assert [r for r in fake_line.requests if r[1].endswith("/reply")] == [("POST", "/v2/bot/message/reply", 200)]


def test_429_on_reply_is_retried_then_delivered_once(client, runtime, events, fake_line):
    user = user_id()
    fake_line.fail("reply", 429, times=2, retry_after="0")
    post_webhook(client, [events.text(user, "メニュー")])
    drain(runtime)
    assert [d.kind for d in fake_line.sent_to(user)] == ["reply"]
    assert [r[2] for r in fake_line.requests if r[1].endswith("/reply")] == [429, 429, 200]


def test_5xx_on_reply_falls_back_to_push_which_is_retried(client, runtime, events, fake_line):
    """After a 5xx LINE may have used the token: never resend it; push with the retry key."""
    user = user_id()
    fake_line.fail("reply", 500, times=1)
    fake_line.fail("push", 503, times=1)
    fake_line.fail("push", 429, times=1, retry_after="0")
    post_webhook(client, [events.text(user, "メニュー")])
    drain(runtime)
    assert [d.kind for d in fake_line.sent_to(user)] == ["push"]
    assert [r[2] for r in fake_line.requests if r[1].endswith("/reply")] == [500]
    assert [r[2] for r in fake_line.requests if r[1].endswith("/push")] == [503, 429, 200]


def test_timeout_is_retried(settings, events, fake_line):
    from bot.app import create_app
    from bot.runtime import Runtime

    runtime = Runtime(settings.with_(line_timeout_s=0.5))
    client = create_app(runtime.settings, runtime).test_client()
    user = user_id()
    fake_line.fail("reply", 500, times=1, hang_s=1.5)
    post_webhook(client, [events.text(user, "メニュー", ts=int(time.time() * 1000) - 60_000)])
    fake_line.fail("push", 500, times=1, hang_s=1.5)
    drain(runtime)
    runtime.close()
    assert [d.kind for d in fake_line.sent_to(user)] == ["push"]


def test_other_4xx_is_not_retried_and_the_event_is_set_aside(client, runtime, events, fake_line):
    user = user_id()
    fake_line.fail("push", 400, times=1)
    post_webhook(client, [events.text(user, "メニュー", ts=int(time.time() * 1000) - 60_000)])
    drain(runtime)
    assert [r[2] for r in fake_line.requests if r[1].endswith("/push")] == [400]
    assert runtime.queue.pending() == 0
    [dead] = runtime.queue.dead_letters()
    assert "400" in dead["reason"]


def test_line_down_keeps_the_event_until_it_recovers(settings, events, fake_line):
    from bot.app import create_app
    from bot.runtime import Runtime

    runtime = Runtime(settings.with_(line_retries=1))
    client = create_app(runtime.settings, runtime).test_client()
    user = user_id()
    fake_line.fail("push", 500, times=2)
    post_webhook(client, [events.text(user, "メニュー", ts=int(time.time() * 1000) - 60_000)])
    drain(runtime)
    assert runtime.queue.pending() == 1 and fake_line.sent_to(user) == []
    time.sleep(0.6)  # the worker's backoff before the next attempt
    drain(runtime)
    assert [d.kind for d in fake_line.sent_to(user)] == ["push"]
    assert runtime.queue.pending() == 0
    runtime.close()


def test_poison_event_is_set_aside_after_max_attempts(settings, events, fake_line):
    from bot.app import create_app
    from bot.runtime import Runtime

    runtime = Runtime(settings.with_(max_event_attempts=2, line_retries=0))
    client = create_app(runtime.settings, runtime).test_client()
    user = user_id()
    fake_line.fail("push", 503, times=10)
    post_webhook(client, [events.text(user, "メニュー", ts=int(time.time() * 1000) - 60_000)])
    worker = runtime.worker()
    for _ in range(3):
        lease, due = runtime.queue.claim()
        while lease is None and due is not None:
            time.sleep(due)
            lease, due = runtime.queue.claim()
        if lease is None:
            break
        worker.work_on(lease)
    assert runtime.queue.pending() == 0
    assert len(runtime.queue.dead_letters()) == 1
    runtime.close()


def test_standby_events_get_no_reply(client, runtime, events, fake_line):
    user = user_id()
    post_webhook(client, [events.text(user, "メニュー", mode="standby")])
    assert drain(runtime) == 1
    assert fake_line.deliveries == []


def test_unknown_and_group_events_are_handled_silently(client, runtime, events, fake_line):
    user = user_id()
    group = events.text(user, "メニュー")
    group["source"] = {"type": "group", "groupId": "C" + "0" * 32, "userId": user}
    unknown = {"type": "somethingNew", "timestamp": int(time.time() * 1000), "webhookEventId": "01UNKNOWN",
               "source": {"type": "user", "userId": user}, "mode": "active"}
    post_webhook(client, [group, unknown])
    assert drain(runtime) == 2
    assert fake_line.deliveries == []
    assert runtime.queue.dead_letters() == []


def test_a_redis_crash_loses_no_accepted_event(tmp_path, settings, events):
    """Append-only persistence: what was acknowledged to LINE survives kill -9 of Redis."""
    from bot.app import create_app
    from bot.runtime import Runtime

    server = EmbeddedRedis(tmp_path / "redis").start()
    try:
        runtime = Runtime(settings.with_(redis_url=server.url))
        client = create_app(runtime.settings, runtime).test_client()
        user = user_id()
        for n in range(20):
            assert post_webhook(client, [events.text(user, f"m{n}")]).status_code == 200
        runtime.close()
        server.kill()
        server.start()
        runtime = Runtime(settings.with_(redis_url=server.url))
        assert runtime.queue.pending() == 20
        runtime.close()
    finally:
        server.stop()


def test_worker_survives_redis_going_away(settings, events, tmp_path, fake_line):
    from bot.runtime import Runtime

    server = EmbeddedRedis(tmp_path / "r2").start()
    runtime = Runtime(settings.with_(redis_url=server.url))
    stop = threading.Event()
    thread = threading.Thread(target=runtime.worker().run, args=(stop,), daemon=True)
    thread.start()
    try:
        server.kill()
        time.sleep(0.5)
        assert thread.is_alive()
        server.start()
        from bot.app import create_app

        client = create_app(runtime.settings, runtime).test_client()
        user = user_id()
        deadline = time.time() + 5
        while post_webhook(client, [events.text(user, "メニュー")]).status_code != 200:
            assert time.time() < deadline
            time.sleep(0.1)
        assert fake_line.wait_for(lambda: len(fake_line.sent_to(user)) == 1, 10)
    finally:
        stop.set()
        thread.join(5)
        runtime.close()
        server.stop()


def test_a_long_event_keeps_its_lease(settings, events, fake_line):
    """LINE slow for longer than the lease: the worker renews it, so no second worker steps in."""
    from bot.app import create_app
    from bot.runtime import Runtime

    runtime = Runtime(settings.with_(lease_s=0.6))
    client = create_app(runtime.settings, runtime).test_client()
    user = user_id()
    fake_line.fail("reply", 500, times=1, hang_s=1.5)
    post_webhook(client, [events.text(user, "メニュー")])
    lease, _ = runtime.queue.claim()
    worker = threading.Thread(target=runtime.worker().work_on, args=(lease,))
    worker.start()
    reclaimed = []
    for _ in range(8):
        time.sleep(0.25)
        reclaimed += runtime.queue.reclaim_expired()
    worker.join(10)
    assert reclaimed == []
    assert [d.kind for d in fake_line.sent_to(user)] == ["push"]
    runtime.close()


def test_worker_loop_survives_any_redis_error(runtime):
    class Failing:
        calls = 0

        def claim(self):
            Failing.calls += 1
            if Failing.calls == 1:
                import redis as redis_module

                raise redis_module.exceptions.TimeoutError("slow")
            if Failing.calls == 2:
                raise ValueError("a bug")
            stop.set()
            return None, None

        def wait_for_work(self, timeout_s):
            pass

    from bot.worker import Worker

    stop = threading.Event()
    worker = Worker(Failing(), lambda event: None)
    stop_wait = stop.wait
    stop.wait = lambda timeout=None: stop_wait(0)  # no 1 s pauses in the test
    worker.run(stop)
    assert Failing.calls == 3


def test_a_long_background_job_does_not_hold_up_the_scheduler(runtime):
    from bot.worker import Job, Scheduler

    release = threading.Event()
    runs, quick = [], []
    slow = Job("slow", 0, lambda: (runs.append(1), release.wait(5)), background=True)
    fast = Job("fast", 0, lambda: quick.append(1))
    scheduler = Scheduler(runtime.queue, jobs=[slow, fast])
    started = time.monotonic()
    for _ in range(5):
        scheduler.tick()
    assert time.monotonic() - started < 1.0      # the ticks went on while the slow job ran
    assert runs == [1] and len(quick) == 5       # one run of the slow job at a time
    release.set()
    slow.running.join(5)
    scheduler.tick()
    assert runs == [1, 1]
    release.set()
