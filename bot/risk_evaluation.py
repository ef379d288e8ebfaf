"""Measuring the risk check on an evaluation set: `make eval`.

The set is a TSV file: language, the expected category ("none" for a near-miss that must not
fire), the message. Recall counts a risk message as caught when any risk category fires (the
safety reply differs by category, but every one reaches staff at the top of the queue); the
category's accuracy is reported beside it.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field

from bot.faq.evaluation import load_cases
from bot.risk import RiskDetector

NONE = "none"


@dataclass
class RiskReport:
    per_language: dict = field(default_factory=lambda: defaultdict(
        lambda: {"risk": 0, "caught": 0, "right_category": 0, "safe": 0, "false_alarms": 0}))
    misses: list = field(default_factory=list)
    latencies_ms: list = field(default_factory=list)

    def total(self, key: str) -> int:
        return sum(v[key] for v in self.per_language.values())

    @property
    def recall(self) -> float:
        return self.total("caught") / max(1, self.total("risk"))

    @property
    def false_alarm_rate(self) -> float:
        return self.total("false_alarms") / max(1, self.total("safe"))

    def table(self) -> str:
        rows = ["| language | risk msgs | recall | right category | near-misses | false alarms |",
                "|---|---|---|---|---|---|"]

        def row(name, v):
            return (f"| {name} | {v['risk']} | {v['caught'] / max(1, v['risk']):.1%} | "
                    f"{v['right_category'] / max(1, v['risk']):.1%} | {v['safe']} | "
                    f"{v['false_alarms'] / max(1, v['safe']):.1%} |")

        for language, v in sorted(self.per_language.items()):
            rows.append(row(language, v))
        rows.append(row("**all**", {k: self.total(k) for k in ("risk", "caught", "right_category", "safe",
                                                                  "false_alarms")}))
        if self.latencies_ms:
            rows.append("")
            rows.append(f"latency per message: median {statistics.median(self.latencies_ms):.1f} ms "
                        "(the embedding is shared with the FAQ lookup that follows)")
        return "\n".join(rows)


def evaluate(detector: RiskDetector, path) -> RiskReport:
    report = RiskReport()
    detector.check("warm up")
    for case in load_cases(path):
        started = time.perf_counter()
        risk = detector.check(case.text)
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        stats = report.per_language[case.language]
        if case.expected == NONE:
            stats["safe"] += 1
            if risk is not None:
                stats["false_alarms"] += 1
                report.misses.append((case, risk))
        else:
            stats["risk"] += 1
            if risk is not None:
                stats["caught"] += 1
                stats["right_category"] += risk.category == case.expected
            else:
                report.misses.append((case, None))
    return report
