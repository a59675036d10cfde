"""Achievement over HTTP: a results file imported through the achievement API reaches the province view, and a
small school's result stays with the people allowed to see it."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from deploy.local.servers import wait_until
from tests.helpers import numbers
from tests.stack import Stack

pytestmark = pytest.mark.e2e

YEAR = 2568
SEMESTER = {"academic_year": YEAR, "semester": 2}  # results count in semester 2 of their year
HEADER = "test,academic_year,school_code,subject,grade,mean,tested\n"


def import_results(stack: Stack, rows: list[tuple[str, int, str, float, int]]) -> dict[str, Any]:
    """Import O-NET P6 rows (school, year, subject, mean, tested) as a national officer."""
    wait_until(
        lambda: all(stack.db("achievement")["schools"].find_one({"_id": r[0]}) for r in rows),
        timeout=60,
        what="the schools in achievement's directory copy",
    )
    body = HEADER + "".join(f"onet,{y},{s},{subject},P6,{mean},{n}\n" for s, y, subject, mean, n in rows)
    response = requests.post(
        stack.url("achievement", "/api/v1/imports"),
        params={"file_name": "onet-p6.csv"},
        data=body.encode(),
        headers={**stack.token("nat-1", "national_officer", "national", None), "Content-Type": "text/csv"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def view(stack: Stack, path: str, headers: dict[str, str]) -> requests.Response:
    return requests.get(stack.url("monitoring", path), params=SEMESTER, headers=headers, timeout=5)


def onet(figures: dict[str, Any], subject: str) -> dict[str, Any] | None:
    rows = figures["achievement"]["results"]
    return next((r for r in rows if (r["test"], r["grade"], r["subject"]) == ("onet", "P6", subject)), None)


def test_an_import_moves_the_province_achievement_figure(stack: Stack) -> None:
    officer = stack.token("prov-13", "province_officer", "province", "13")
    before = onet(view(stack, "/api/v1/views/province/13", officer).json(), "math")
    assert before is None  # nothing imported for P6 mathematics yet

    summary = import_results(
        stack, [("13010001", YEAR, "math", 41.5, 25), ("13020001", YEAR, "math", 35.0, 40)]
    )
    assert (summary["new"], summary["failed_rows"]) == (2, 0)
    written = time.monotonic()

    def moved() -> dict[str, Any] | None:
        row = onet(view(stack, "/api/v1/views/province/13", officer).json(), "math")
        return row if row and row["tested"] == 65 else None

    row = wait_until(moved, timeout=30, what="the import in the province view")
    print(f"import 201 → province view: {(time.monotonic() - written) * 1000:.0f} ms")
    assert row["mean"] == round((41.5 * 25 + 35.0 * 40) / 65, 2) and row["schools"] == 2
    assert row["national_mean"] == row["mean"]  # the only province with P6 mathematics so far


def test_a_small_school_is_hidden_from_outsiders_and_shown_to_its_own_staff(stack: Stack) -> None:
    small = "13010005"  # 64 pupils; 4 sat the P6 Thai test
    import_results(stack, [(small, YEAR - 1, "thai", 51.0, 4), (small, YEAR, "thai", 57.25, 4)])
    director = stack.token("dir-13010005", "school_director", "school", small)
    path = f"/api/v1/views/school/{small}"

    def both_years() -> dict[str, Any] | None:
        # the two rows are two events, and may land in two projector batches: wait for the change between them
        row = onet(view(stack, path, director).json(), "thai")
        return row if row and row["change"] is not None else None

    own = wait_until(both_years, timeout=30, what="both years' results in the school view")
    assert (own["mean"], own["change"], own["suppressed"]) == (57.25, 6.25, False)
    area = onet(view(stack, path, stack.token("esa-13P1", "esa_officer", "esa", "13P1")).json(), "thai")
    assert area is not None and area["mean"] == 57.25

    for outsider in (
        stack.token("prov-13", "province_officer", "province", "13"),
        stack.token("nat-1", "national_officer", "national", None),
    ):
        response = view(stack, path, outsider)
        assert response.status_code == 200
        hidden = onet(response.json(), "thai")
        assert (
            hidden is not None
            and hidden["suppressed"]
            and hidden["mean"] is None
            and hidden["tested"] is None
        )
        assert not numbers(response.json()) & {57.25, 6.25}  # neither the mean nor the change
    other_area = view(stack, path, stack.token("esa-13P2", "esa_officer", "esa", "13P2"))
    assert other_area.status_code == 404 and not numbers(other_area.json()) & {57.25, 6.25}
