"""The baseline: line-bot-sdk's echo bot, as its README shows it, nothing more.

    gunicorn --workers 2 'bench.echo_app:create_app()'

Flask + linebot.v3 WebhookHandler; each text message is answered with the same text,
synchronously, inside the webhook request, via MessagingApi.reply_message. Reads
LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN and LINE_API_BASE_URL. Unlike the README,
which opens an ApiClient per event, it keeps one per process (kept-alive connections), so
the baseline is, if anything, a little faster than the sample.
"""

from __future__ import annotations

import os

from flask import Flask, abort, request
from linebot.v3 import WebhookHandler
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, ReplyMessageRequest, TextMessage
from linebot.v3.webhooks import MessageEvent, TextMessageContent


def create_app() -> Flask:
    configuration = Configuration(host=os.environ.get("LINE_API_BASE_URL", "https://api.line.me"),
                                  access_token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"])
    handler = WebhookHandler(os.environ["LINE_CHANNEL_SECRET"])
    api = MessagingApi(ApiClient(configuration))
    app = Flask(__name__)

    @app.post("/callback")
    def callback():
        signature = request.headers["X-Line-Signature"]
        body = request.get_data(as_text=True)
        try:
            handler.handle(body, signature)
        except InvalidSignatureError:
            abort(400)
        return "OK"

    @app.get("/healthz")
    def healthz():
        return "ok"

    @handler.add(MessageEvent, message=TextMessageContent)
    def handle_message(event):
        api.reply_message_with_http_info(ReplyMessageRequest(
            reply_token=event.reply_token, messages=[TextMessage(text=event.message.text)]))

    return app
