"""kosodate-bot's benchmark (`make bench`): webhook ack latency and end-to-end throughput,
against line-bot-sdk's echo bot as a baseline. See bench/run.py."""
