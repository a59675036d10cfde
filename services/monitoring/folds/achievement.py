"""Achievement results become sums in the `achievement` section of the views of their year's semester 2.

Per (test, grade, subject) every level keeps `sum` (mean × pupils tested), `tested` and `results` (schools with
a result), so a mean weighted by the number tested is one division on read and every change is an increment.
A correction carries the values it `replaces`: its difference is added, and it is not a new result.
"""

from __future__ import annotations

from services.monitoring.views import Event, ViewBatch

SECTION = "achievement"


def result_key(test: str, grade: str, subject: str) -> str:
    return f"{test}.{grade}.{subject}"


def preload(events: list[Event]) -> dict[str, list[str]]:
    return {}


def on_result_recorded(batch: ViewBatch, event: Event) -> None:
    p = event["payload"]
    key = result_key(p["test"], p["grade"], p["subject"])
    total, tested, results = p["mean"] * p["tested"], p["tested"], 1
    replaced = p.get("replaces")
    if replaced:
        total -= replaced["mean"] * replaced["tested"]
        tested -= replaced["tested"]
        results = 0
    inc = {f"{key}.sum": total, f"{key}.tested": tested, f"{key}.results": results}
    batch.views(SECTION, event, event["org"], inc=inc)


HANDLERS = {"achievement.ResultRecorded": on_result_recorded}
