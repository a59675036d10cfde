"""Achievement in the monitoring views, from events applied by the real projection writer to the real store:
weighted means at every level, the comparison with province and nation, and small-cell suppression by reader."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from services.monitoring.app import create_app
from services.monitoring.projection import MonitoringProjection
from shared.auth import issue_token
from shared.clients import mongo_client
from shared.envelope import Org
from shared.projection import DeadLetters, ProjectionWriter, Record
from shared.settings import Settings
from shared.store import Store
from tests.eventfactory import wire
from tests.helpers import numbers
from tests.integration.test_monitoring_api import SCHOOLS, directory_events

pytestmark = pytest.mark.integration

SEMESTER = {"academic_year": 2569, "semester": 2}  # results of 2568 are the latest known then
# (school, year, mean, tested): 13010002 is a small school, with 3 pupils tested
RESULTS = [
    ("13010001", 2567, 38.0, 30),
    ("13010001", 2568, 42.0, 30),
    ("13010002", 2567, 50.0, 3),
    ("13010002", 2568, 60.0, 3),
    ("13020001", 2568, 30.0, 20),
    ("50010001", 2568, 45.0, 47),
]


def result(school: str, year: int, mean: float, tested: int) -> bytes:
    _, cluster, esa, province = next(s for s in SCHOOLS if s[0] == school)
    payload = {
        "result_id": f"onet-{year}-{school}-math-P6",
        "test": "onet",
        "academic_year": year,
        "school_code": school,
        "subject": "math",
        "grade": "P6",
        "mean": mean,
        "tested": tested,
        "replaces": None,
        "period": {"academic_year": year, "semester": 2},
    }
    return wire(
        "achievement.ResultRecorded", payload, Org(school, cluster, esa, province), payload["result_id"]
    )


@pytest.fixture
def client(settings: Settings, unique: str) -> Iterator[FlaskClient]:
    settings = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    store = Store(mongo_client(settings), settings.db_name("monitoring"))
    writer = ProjectionWriter(store, MonitoringProjection(["t"]), settings.projector_group, DeadLetters(None))
    values = [*directory_events(), *(result(*r) for r in RESULTS)]
    writer.apply([Record("t", 0, offset, value) for offset, value in enumerate(values)])
    app = create_app(settings)
    with app.test_client() as test_client:
        test_client.settings = settings  # type: ignore[attr-defined]
        yield test_client


def view(client: FlaskClient, path: str, role: str, level: str, code: str | None) -> Any:
    token = issue_token(client.settings, sub="u", role=role, scope_level=level, scope_code=code)  # type: ignore[attr-defined]
    response = client.get(path, query_string=SEMESTER, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.json
    return response.json


def math(figures: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in figures["achievement"]["results"] if (r["test"], r["subject"]) == ("onet", "math"))


def test_province_view_weighs_means_by_pupils_tested_and_compares_with_the_nation(
    client: FlaskClient,
) -> None:
    province = view(client, "/api/v1/views/province/13", "province_officer", "province", "13")
    row = math(province)
    assert province["achievement"]["academic_year"] == 2568
    assert row["tested"] == 53 and row["schools"] == 3
    assert row["mean"] == round((42 * 30 + 60 * 3 + 30 * 20) / 53, 2)
    assert row["previous_mean"] == round((38 * 30 + 50 * 3) / 33, 2)
    assert row["national_mean"] == round((42 * 30 + 60 * 3 + 30 * 20 + 45 * 47) / 100, 2)
    assert row["province_mean"] == row["mean"]
    districts = {c["code"]: math(c)["mean"] for c in province["children"]}
    assert districts == {"13P1": round((42 * 30 + 60 * 3) / 33, 2), "13P2": 30.0}


def test_a_small_school_is_hidden_from_a_province_officer_and_shown_to_its_own_staff(
    client: FlaskClient,
) -> None:
    outsider = view(client, "/api/v1/views/school/13010002", "province_officer", "province", "13")
    assert outsider["achievement"]["suppressed"] and math(outsider)["mean"] is None
    assert outsider["achievement"]["onet_mean"] is None and 60.0 not in numbers(outsider["achievement"])
    for role, level, code in [
        ("school_director", "school", "13010002"),
        ("esa_officer", "esa", "13P1"),
        ("cluster_coordinator", "cluster", "13P1-C01"),
    ]:
        insider = view(client, "/api/v1/views/school/13010002", role, level, code)
        assert math(insider)["mean"] == 60.0 and math(insider)["change"] == 10.0, role


def test_drill_down_lists_hide_small_cells_from_outsiders_only(client: FlaskClient) -> None:
    national = view(client, "/api/v1/views/cluster/13P1-C01", "national_officer", "national", None)
    schools = {c["code"]: math(c) for c in national["children"]}
    assert schools["13010002"]["suppressed"] and schools["13010002"]["mean"] is None
    assert schools["13010001"]["mean"] == 42.0 and schools["13010001"]["change"] == 4.0
    area = view(client, "/api/v1/views/cluster/13P1-C01", "esa_officer", "esa", "13P1")
    assert {c["code"]: math(c)["mean"] for c in area["children"]}["13010002"] == 60.0
