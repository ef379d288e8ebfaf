"""Measuring the matcher on an evaluation set: `make eval`.

The set is a TSV file: language, the expected entry id (or "-" for a question the FAQ does not
cover, which must not be answered), and the message as a parent would type it.
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.faq.matcher import FaqMatcher

OUT_OF_SCOPE = "-"


@dataclass(frozen=True)
class Case:
    language: str
    expected: str
    text: str


@dataclass
class Report:
    per_language: dict = field(default_factory=lambda: defaultdict(lambda: {"n": 0, "top1": 0, "top3": 0}))
    out_of_scope: int = 0
    rejected: int = 0
    answered_wrongly: int = 0   # confident answers that were the wrong entry
    confident: int = 0
    verdicts: dict = field(default_factory=lambda: {"answer": 0, "choose": 0, "none": 0})
    latencies_ms: list = field(default_factory=list)
    misses: list = field(default_factory=list)

    def _sum(self, key: str) -> int:
        return sum(v[key] for v in self.per_language.values())

    @property
    def top1(self) -> float:
        n = self._sum("n")
        return self._sum("top1") / n if n else 0.0

    @property
    def top3(self) -> float:
        n = self._sum("n")
        return self._sum("top3") / n if n else 0.0

    @property
    def rejection(self) -> float:
        return self.rejected / self.out_of_scope if self.out_of_scope else 1.0

    def p95_ms(self) -> float:
        return statistics.quantiles(self.latencies_ms, n=20)[-1] if len(self.latencies_ms) > 1 else 0.0

    def table(self) -> str:
        rows = ["| language | n | top-1 | top-3 |", "|---|---|---|---|"]
        for language, v in sorted(self.per_language.items()):
            rows.append(f"| {language} | {v['n']} | {v['top1'] / v['n']:.1%} | {v['top3'] / v['n']:.1%} |")
        rows.append(f"| **all** | {self._sum('n')} | **{self.top1:.1%}** | **{self.top3:.1%}** |")
        rows.append("")
        n = self._sum("n")
        rows.append(f"out-of-scope rejected: {self.rejected}/{self.out_of_scope} = {self.rejection:.1%}; "
                    f"confident answers that were wrong: {self.answered_wrongly}/{self.confident}")
        rows.append(f"in-scope messages: answered at once {self.verdicts['answer'] / n:.1%}, offered as one of "
                    f"three {self.verdicts['choose'] / n:.1%}, told 'not found' {self.verdicts['none'] / n:.1%}")
        if self.latencies_ms:
            rows.append(f"latency per query: median {statistics.median(self.latencies_ms):.1f} ms, "
                        f"p95 {self.p95_ms():.1f} ms")
        return "\n".join(rows)


def load_cases(path: Path) -> list[Case]:
    cases = []
    with Path(path).open(encoding="utf-8") as fp:
        for row in csv.reader(fp, delimiter="\t"):
            if not row or row[0].startswith("#"):
                continue
            language, expected, text = row[0].strip(), row[1].strip(), row[2].strip()
            cases.append(Case(language, expected, text))
    return cases


def _uncached(matcher: FaqMatcher, text: str):
    if matcher.encoder is not None:
        matcher.encoder.forget()
    return matcher.rank(text, cached=False)


def evaluate(matcher: FaqMatcher, cases: list[Case]) -> Report:
    report = Report()
    matcher.rank("warm up")
    for case in cases:
        # A query's latency is the median of three uncached runs: one run on a shared 2-core
        # machine swings by ±30% with whatever else is running.
        runs = [_uncached(matcher, case.text) for _ in range(3)]
        ranking = runs[0]
        report.latencies_ms.append(statistics.median(r.elapsed_ms for r in runs))
        ids = [c.entry_id for c in ranking.candidates]
        verdict = ranking.verdict
        if case.expected == OUT_OF_SCOPE:
            report.out_of_scope += 1
            if verdict == "none":
                report.rejected += 1
            else:
                report.misses.append((case, ids[:1], verdict, ranking.top.score))
            continue
        stats = report.per_language[case.language]
        stats["n"] += 1
        report.verdicts[verdict] += 1
        if ids[:1] == [case.expected]:
            stats["top1"] += 1
        else:
            report.misses.append((case, ids[:3], verdict, ranking.top.score if ranking.top else 0))
        if case.expected in ids[:3]:
            stats["top3"] += 1
        if verdict == "answer":
            report.confident += 1
            if ids[0] != case.expected:
                report.answered_wrongly += 1
    return report
