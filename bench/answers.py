"""How long a parent's question takes to answer, on this machine: the FAQ lookup alone (the target
is p95 < 20 ms per query) and the whole check a text gets before any dialog (risk check, then the
FAQ lookup, which shares the risk check's embedding).

The questions are the FAQ evaluation set's (tests/eval/faq.tsv: ten languages, real lengths). Every
run is uncached, as for a text the bot has never seen; a question's figure is the median of three
runs, so that one run disturbed by the rest of the machine does not decide it.
`python -m bench.answers` prints the figures; `measure_answers()` returns them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.load import percentile
from bot.config import Settings
from bot.faq.evaluation import load_cases
from bot.runtime import Runtime

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "eval" / "faq.tsv"
FAQ_P95_TARGET_MS = 20.0


@dataclass(frozen=True)
class AnswerLatency:
    questions: int
    threads: int
    faq_median_ms: float
    faq_p95_ms: float
    message_median_ms: float
    message_p95_ms: float
    other_load: float  # the machine's 1-minute load average just before the run

    @property
    def meets_target(self) -> bool:
        return self.faq_p95_ms < FAQ_P95_TARGET_MS

    def line(self) -> str:
        return (f"answers: FAQ lookup median {self.faq_median_ms:.1f} ms, p95 {self.faq_p95_ms:.1f} ms "
                f"(target < {FAQ_P95_TARGET_MS:g} ms: {'PASS' if self.meets_target else 'FAIL'}); a text's "
                f"whole check (risk, then FAQ) median {self.message_median_ms:.1f} ms, p95 "
                f"{self.message_p95_ms:.1f} ms; {self.questions} questions in ten languages, uncached, "
                f"model on {self.threads} thread(s); load before the run {self.other_load:.2f}")


def measure_answers(path: Path = QUESTIONS) -> AnswerLatency:
    other_load = os.getloadavg()[0]
    settings = Settings.from_env()
    runtime = Runtime(settings)
    matcher, detector = runtime.answers.matcher, runtime.risk
    if not matcher.semantic:
        raise RuntimeError("the embedding model did not load: there is no model latency to measure")
    encoder = matcher.encoder
    texts = [case.text for case in load_cases(path)]
    detector.check("warm up")
    matcher.rank("warm up")
    faq, message = [], []
    for text in texts:
        runs = []
        for _ in range(3):
            encoder.forget()
            runs.append(matcher.rank(text, cached=False).elapsed_ms)
        faq.append(statistics.median(runs))
        runs = []
        for _ in range(3):
            encoder.forget()
            started = time.perf_counter()
            detector.check(text)
            matcher.rank(text, cached=False)
            runs.append((time.perf_counter() - started) * 1000)
        message.append(statistics.median(runs))
    runtime.close()
    return AnswerLatency(len(texts), settings.faq_model_threads, statistics.median(faq), percentile(faq, 95),
                         statistics.median(message), percentile(message, 95), other_load)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.answers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="a TSV in the FAQ evaluation format")
    args = parser.parse_args(argv)
    print(measure_answers(args.questions).line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
