"""The Flask app factory: `gunicorn 'bot.app:create_app()'` in production."""

from __future__ import annotations

import logging

from flask import Flask, Response
from linebot.v3 import WebhookParser
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.config import Settings
from bot.runtime import Runtime


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    settings = settings or (runtime.settings if runtime else Settings.from_env())
    if settings.env == "production":
        settings.check_for_serving()
    configure_logging(settings.log_level)
    runtime = runtime or Runtime(settings)
    app = Flask(__name__)
    if settings.trusted_proxy_hops:
        # Behind a load balancer: the client's address and scheme come from X-Forwarded-*, set by
        # that many proxies of our own (for the sign-in throttle, the audit log, secure cookies).
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["kosodate"] = runtime
    app.extensions["kosodate.parser"] = WebhookParser(settings.channel_secret)

    from bot import webhook

    app.register_blueprint(webhook.bp)
    if settings.console_secret_key:
        from bot.console import web as console

        console.install(app, settings)
    if settings.development:
        from bot import dev

        dev.install(app, settings)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return Response(f"{exc.code} {exc.name}\n", status=exc.code, mimetype="text/plain")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return Response("500 Internal Server Error\n", status=500, mimetype="text/plain")

    return app
