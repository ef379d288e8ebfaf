"""The fake LINE Messaging API in a process of its own, plus a few bench-only endpoints.

    python -m bench.fakeline --port P --token T [--server werkzeug|gunicorn]

It serves bot.fake_line's FakeLine unchanged (same checks: bearer token, reply tokens spent
once, retry keys, message limits) and adds, under /bench/, what the load generator needs
from another process:

    POST /bench/tokens  {"users": [...]}  -> {"tokens": [...]}  one fresh reply token per entry
    POST /bench/reset                      forget deliveries and requests (FakeLine.reset)
    GET  /bench/stats                      deliveries as [to, at, kind] and request statuses
    GET  /bench/count                      how many deliveries so far (cheap, for polling)

`--server gunicorn` serves the same app with gunicorn's gthread worker (one process, so one
FakeLine, keep-alive connections) instead of werkzeug's thread-per-connection server.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

from flask import Blueprint, Flask, current_app, jsonify, request

from bot.fake_line import FakeLine
from bot.fake_line import create_app as create_fake_app


def bench_blueprint() -> Blueprint:
    bp = Blueprint("bench", __name__, url_prefix="/bench")

    def fake() -> FakeLine:
        return current_app.extensions["fake_line"]

    @bp.post("/tokens")
    def tokens():
        users = (request.get_json(silent=True) or {}).get("users") or []
        line = fake()
        return jsonify(tokens=[line.issue_reply_token(str(u)) for u in users])

    @bp.post("/reset")
    def reset():
        fake().reset()
        return jsonify(ok=True)

    @bp.get("/stats")
    def stats():
        line = fake()
        with line._lock:
            deliveries = [[d.to, d.at, d.kind] for d in line.deliveries]
            statuses = Counter(f"{method} {path} {status}" for method, path, status in line.requests)
        return jsonify(deliveries=deliveries, statuses=dict(statuses))

    @bp.get("/count")
    def count():
        return jsonify(deliveries=len(fake().deliveries))

    @bp.get("/ping")
    def ping():
        return jsonify(ok=True)

    return bp


def create_app(access_token: str) -> Flask:
    app = create_fake_app(FakeLine(access_token=access_token))
    app.register_blueprint(bench_blueprint())
    return app


def app_from_env() -> Flask:
    """For gunicorn: `bench.fakeline:app_from_env()` with FAKE_LINE_TOKEN set."""
    return create_app(os.environ["FAKE_LINE_TOKEN"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fakeline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--server", choices=["werkzeug", "gunicorn"], default="werkzeug")
    parser.add_argument("--threads", type=int, default=16, help="gunicorn gthread threads")
    args = parser.parse_args(argv)
    if args.server == "gunicorn":
        os.environ["FAKE_LINE_TOKEN"] = args.token
        os.execv(sys.executable, [
            sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread",
            "--threads", str(args.threads), "--keep-alive", "75", "--backlog", "2048",
            "--bind", f"{args.host}:{args.port}", "--log-level", "warning",
            "bench.fakeline:app_from_env()",
        ])
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per request
    server = make_server(args.host, args.port, create_app(args.token), threaded=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
