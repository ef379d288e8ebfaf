"""`python -m bot run | worker | i18n | richmenu …`"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from bot.config import ConfigError, Settings

log = logging.getLogger("bot")


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum, frame):
        log.info("signal %s: finishing the work at hand, then stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run(settings: Settings) -> int:
    """Web, workers and scheduler in one process; a private Redis when REDIS_URL is unset."""
    from werkzeug.serving import make_server

    from bot.app import configure_logging, create_app
    from bot.redis_server import EmbeddedRedis
    from bot.runtime import Runtime
    from bot.worker import join_all, run_threads

    configure_logging(settings.log_level)
    embedded = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.data_dir / "redis").start()
        settings = settings.with_(redis_url=embedded.url)
    runtime = Runtime(settings)
    stop = threading.Event()
    try:
        runtime.warm_up()
        if settings.development:
            _development_console_account(runtime)
        app = create_app(settings, runtime)
        server = make_server(settings.host, settings.port, app, threaded=True)
        targets = [(f"worker-{i}", runtime.worker(f"worker-{i}").run) for i in range(settings.workers)]
        targets.append(("scheduler", runtime.scheduler().run))
        threads = run_threads(targets, stop)
        web = threading.Thread(target=server.serve_forever, name="web", daemon=True)
        web.start()
        where = f"http://{settings.host}:{settings.port}"
        log.info("kosodate-bot on %s (webhook %s/callback)%s", where, where,
                 f"; simulator {where}/dev/" if settings.development else "")
        _stop_on_signals(stop)
        stop.wait()
        server.shutdown()
        join_all(threads)
    finally:
        runtime.close()
        if embedded:
            embedded.stop()
            log.info("embedded Redis stopped; data kept in %s", embedded.data_dir)
    return 0


def _development_console_account(runtime) -> None:
    """A development server's Redis is private: its console gets an admin with a new password
    at every start, printed here."""
    import secrets

    accounts = runtime.staff_accounts
    password = secrets.token_urlsafe(12)
    if accounts.get("admin") is None:
        accounts.add("admin", password, "admin")
    else:
        accounts.set_password("admin", password)
    log.warning("staff console: sign in as admin with password %s (new at every start of a development server)",
                password)


def worker(settings: Settings) -> int:
    from bot.app import configure_logging
    from bot.runtime import Runtime
    from bot.worker import join_all, run_threads

    configure_logging(settings.log_level)
    runtime = Runtime(settings)
    runtime.warm_up()
    stop = threading.Event()
    _stop_on_signals(stop)
    threads = run_threads([(f"worker-{i}", runtime.worker().run) for i in range(max(1, settings.workers))]
                          + [("scheduler", runtime.scheduler().run)], stop)
    try:
        stop.wait()
    finally:
        join_all(threads)
        runtime.close()
    return 0


def match(settings: Settings, text: str) -> int:
    import json

    from bot.runtime import Runtime

    logging.basicConfig(level="WARNING")
    runtime = Runtime(settings)
    answers = runtime.answers
    city = runtime.city
    ranking = answers.rank(text)
    faq = None
    if ranking.verdict != "none":
        top = city.entry(ranking.top.entry_id)
        faq = {"id": top.id, "score": ranking.top.score, "verdict": ranking.verdict,
               "question_ja": top.question, "answer_ja": top.answer,
               "candidates": [{"id": c.entry_id, "score": c.score, "question_ja": city.entry(c.entry_id).question}
                              for c in ranking.candidates]}
    risk = runtime.risk.check(text)
    print(json.dumps({"language": answers.language_of(text), "risk": risk.as_dict() if risk else None,
                      "faq": faq}, ensure_ascii=False))
    return 0


def evaluate_risk(settings: Settings, path: str, show_misses: bool) -> int:
    from bot.risk_evaluation import evaluate as run_evaluation
    from bot.runtime import Runtime

    logging.basicConfig(level="WARNING")
    detector = Runtime(settings).risk
    report = run_evaluation(detector, path)
    print(f"Risk check ({'keywords + e5 examples' if detector.semantic else 'keywords only'}) on {path}\n")
    print(report.table())
    if show_misses:
        for case, risk in report.misses:
            found = f"{risk.category} via {risk.via}: {risk.evidence}" if risk else "nothing"
            print(f"  {case.language}\t{case.expected}\t{case.text}\t→ {found}")
    return 0


def evaluate(settings: Settings, path: str, show_misses: bool) -> int:
    from bot.faq.evaluation import evaluate as run_evaluation
    from bot.faq.evaluation import load_cases
    from bot.runtime import Runtime

    logging.basicConfig(level="WARNING")
    matcher = Runtime(settings).answers.matcher
    report = run_evaluation(matcher, load_cases(path))
    print(f"FAQ matching ({'e5 + n-grams' if matcher.semantic else 'n-grams only'}) on {path}\n")
    print(report.table())
    if show_misses:
        for case, ids, verdict, score in report.misses:
            print(f"  {case.language}\t{case.expected}\t{case.text}\t→ {ids} {verdict} {score:.3f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="web, workers and scheduler in one process (private Redis if REDIS_URL is unset)")
    w = sub.add_parser("worker", help="handle queued events (and run the scheduler)")
    w.add_argument("--threads", type=int, default=None, help="worker threads in this process (default 1)")
    m = sub.add_parser("match", help="what the bot would do with a message (JSON), for content editors")
    m.add_argument("text")
    e = sub.add_parser("eval", help="FAQ matching accuracy on an evaluation set")
    e.add_argument("file", nargs="?", default="tests/eval/faq.tsv")
    e.add_argument("--misses", action="store_true", help="list the messages it got wrong")
    e.add_argument("--lexical-only", action="store_true", help="the fallback without the embedding model")
    r = sub.add_parser("eval-risk", help="risk check recall and false alarms on an evaluation set")
    r.add_argument("file", nargs="?", default="tests/eval/risk.tsv")
    r.add_argument("--misses", action="store_true", help="list the messages it got wrong")
    r.add_argument("--keywords-only", action="store_true", help="the fallback without the embedding model")
    sub.add_parser("index", help="store the FAQ's and the risk examples' embeddings (after content or catalogs change)")
    i = sub.add_parser("i18n", help="the catalog workflow")
    i.add_argument("step", choices=["extract", "update", "compile", "check", "all"])
    from bot.bookings import cli as bookings_cli
    from bot.console import cli as staff_cli
    from bot.richmenu import cli as richmenu_cli
    bookings_cli.add_parser(sub)
    staff_cli.add_parser(sub)
    richmenu_cli.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "i18n":
        from bot import i18n

        return i18n.main([args.step])
    try:
        settings = Settings.from_env()
        if args.command == "index":
            from bot.faq.matcher import Encoder, build_documents, write_index
            from bot import risk
            from bot.runtime import Runtime

            logging.basicConfig(level="INFO")
            runtime = Runtime(settings)
            encoder = Encoder(threads=os.cpu_count() or 1)  # a one-off job: use every core
            print(write_index(runtime.city, runtime.catalogs.translator, settings.content_dir / "index", encoder))
            print(risk.write_index(risk.RiskPhrases.load(settings.risk_dir), encoder, settings.risk_dir / "index",
                                   risk.ordinary_questions(runtime.city, build_documents(runtime.city,
                                                                                         runtime.catalogs.translator)),
                                   settings.content_dir / "index"))
            return 0
        if args.command == "match":
            return match(settings, args.text)
        if args.command == "eval-risk":
            if args.keywords_only:
                settings = settings.with_(semantic_matching=False)
            return evaluate_risk(settings, args.file, args.misses)
        if args.command == "eval":
            if args.lexical_only:
                settings = settings.with_(semantic_matching=False)
            return evaluate(settings, args.file, args.misses)
        if args.command == "slots":
            return bookings_cli.run(args, settings)
        if args.command == "staff":
            return staff_cli.run(args, settings)
        if args.command == "richmenu":
            return richmenu_cli.run(args, settings)
        if args.command == "run":
            return run(settings)
        settings = settings.with_(workers=args.threads or int(os.environ.get("WORKER_THREADS") or 1))
        return worker(settings)
    except ConfigError as exc:
        print(f"configuration: {exc}", file=sys.stderr)
        return 2
