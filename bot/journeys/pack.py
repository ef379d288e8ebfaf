"""The journey plan from the city's content pack (`journey.toml`); no file means no journeys."""

from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path

from dialogs.families import BIRTH, DUE, REGISTERED, JourneyPlan, Milestone


class PlanError(Exception):
    pass


def load_plan(content_dir: Path) -> JourneyPlan:
    path = Path(content_dir) / "journey.toml"
    if not path.exists():
        return JourneyPlan()
    try:
        with path.open("rb") as fp:
            data = tomllib.load(fp)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{path}: {exc}") from None
    settings = data.get("settings", {})
    try:
        send_at = time.fromisoformat(settings.get("send_at", "10:00"))
    except ValueError:
        raise PlanError(f"{path}: send_at must be HH:MM") from None
    milestones = []
    for n, raw in enumerate(data.get("milestones", []), 1):
        where = f"{path}: milestone {n}"
        if raw.get("anchor") not in (DUE, BIRTH, REGISTERED):
            raise PlanError(f"{where}: anchor is one of due, birth, registered")
        if not str(raw.get("id", "")).strip() or "|" in raw["id"] or not str(raw.get("text", "")).strip():
            raise PlanError(f"{where}: id (without '|') and text are required")
        if not isinstance(raw.get("days"), int):
            raise PlanError(f"{where}: days must be a whole number")
        faq = tuple(raw.get("faq", ()))
        if len(faq) > 3:
            raise PlanError(f"{where}: at most 3 faq entries")
        milestones.append(Milestone(raw["id"], raw["anchor"], raw["days"], raw["text"].strip(), faq,
                                    bool(raw.get("booking", False)), bool(raw.get("ask_birth", False))))
    if len({m.id for m in milestones}) != len(milestones):
        raise PlanError(f"{path}: milestone ids must be unique")
    return JourneyPlan(tuple(milestones), send_at, int(settings.get("late_days", 7)))
