"""What works, over views built by the real projection writer in the real store: relative change against
comparable schools, grouped by the network's mix of models and its activity intensity."""

from __future__ import annotations

import csv
import io
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

pytestmark = pytest.mark.integration

YEAR = 2568
# school -> (cluster, esa, O-NET change from 2567 to 2568, pupils tested)
SCHOOLS = {
    **{f"1301000{i}": ("13P1-C01", "13P1", 6.0, 20) for i in range(1, 5)},
    "13010005": ("13P1-C01", "13P1", 9.0, 3),  # a small cell: left out
    **{f"1301100{i}": ("13P1-C02", "13P1", 0.0, 20) for i in range(1, 5)},
    **{f"1302000{i}": ("13P2-C01", "13P2", 3.0, 20) for i in range(1, 4)},
}


def directory() -> list[bytes]:
    events = []
    for esa in ("13P1", "13P2"):
        payload = {"esa_code": esa, "name_th": esa, "name_en": esa, "level": "primary", "province_code": "13"}
        events.append(
            wire(
                "directory.EsaAreaRecorded",
                payload | {"effective_from": "2025-05-16"},
                Org(None, None, esa, "13"),
                esa,
            )
        )
    for cluster, esa in {(c, e) for c, e, *_ in SCHOOLS.values()}:
        payload = {"cluster_id": cluster, "name_th": cluster, "name_en": cluster, "esa_code": esa}
        payload |= {"province_code": "13", "models": [], "effective_from": "2025-05-16"}
        events.append(wire("directory.ClusterRecorded", payload, Org(None, cluster, esa, "13"), cluster))
    for school, (cluster, esa, *_) in SCHOOLS.items():
        payload = {"school_code": school, "name_th": school, "name_en": school, "esa_code": esa}
        payload |= {"cluster_id": cluster, "province_code": "13", "amphoe": "", "size_category": "small"}
        payload |= {"students": 100, "teachers": 6, "effective_from": "2025-05-16"}
        events.append(wire("directory.SchoolRecorded", payload, Org(school, cluster, esa, "13"), school))
    return events


def results() -> list[bytes]:
    events = []
    for school, (cluster, esa, change, tested) in SCHOOLS.items():
        for year, mean in ((YEAR - 1, 40.0), (YEAR, 40.0 + change)):
            payload = {
                "result_id": f"{school}-{year}",
                "test": "onet",
                "academic_year": year,
                "school_code": school,
            }
            payload |= {"subject": "math", "grade": "P6", "mean": mean, "tested": tested, "replaces": None}
            payload |= {"period": {"academic_year": year, "semester": 2}}
            events.append(
                wire("achievement.ResultRecorded", payload, Org(school, cluster, esa, "13"), school)
            )
    return events


def visits(count: int) -> list[bytes]:
    """Visits in cluster 13P1-C01 during academic year 2568: 12 visits over 5 schools is a low intensity."""
    events = []
    for i in range(count):
        payload = {
            "visit_id": f"V{i}",
            "school_code": "13010001",
            "visit_date": "2026-01-10",
            "mode": "onsite",
        }
        payload |= {"rubric_scores": {"assessment": 3}, "teachers_observed": []}
        payload |= {"period": {"academic_year": YEAR, "semester": 2}}
        events.append(
            wire("supervision.VisitCompleted", payload, Org("13010001", "13P1-C01", "13P1", "13"), f"V{i}")
        )
    return events


@pytest.fixture
def client(settings: Settings, unique: str) -> Iterator[FlaskClient]:
    settings = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    store = Store(mongo_client(settings), settings.db_name("monitoring"))
    writer = ProjectionWriter(store, MonitoringProjection(["t"]), settings.projector_group, DeadLetters(None))
    values = [*directory(), *results(), *visits(12)]
    writer.apply([Record("t", 0, offset, value) for offset, value in enumerate(values)])
    with create_app(settings).test_client() as test_client:
        test_client.settings = settings  # type: ignore[attr-defined]
        yield test_client


def analysis(client: FlaskClient, path: str, level: str = "province", code: str | None = "13") -> Any:
    token = issue_token(client.settings, sub="u", role="province_officer", scope_level=level, scope_code=code)  # type: ignore[attr-defined]
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_province_groups_relative_change_by_mix_and_intensity(client: FlaskClient) -> None:
    response = analysis(client, "/api/v1/what-works/province/13")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["academic_year"] == YEAR and body["schools_analysed"] == 11
    assert body["schools_excluded"] == {"no_results": 0, "small_cells": 1, "no_comparables": 0}
    mixes = {tuple(g["mix"]): g for g in body["by_mix"]}
    # a school of 13P1-C01 gained 6 where its 10 comparables gained (3×6 + 4×0 + 3×3) / 10 = 2.7 on average
    assert mixes[("supervision",)]["schools"] == 4 and mixes[("supervision",)]["mean_relative_change"] == 3.3
    assert mixes[()]["schools"] == 7 and mixes[()]["networks"] == 2
    assert mixes[()]["mean_relative_change"] == round((4 * -3.3 + 3 * 0.0) / 7, 2)
    bands = {g["band"]: g["schools"] for g in body["by_intensity"]}
    assert bands == {"low": 4, "none": 7}
    assert "not causation" in body["caveat_en"] and "ไม่ใช่เหตุและผล" in body["caveat_th"]


def test_an_esa_area_is_compared_with_comparables_from_its_whole_province(client: FlaskClient) -> None:
    body = analysis(client, "/api/v1/what-works/esa/13P2", "esa", "13P2").json
    (group,) = body[
        "by_mix"
    ]  # its schools gained 3, as did the mean of their comparables across the province
    assert group["schools"] == 3 and not group["too_few"] and group["mean_relative_change"] == 0.0
    area = analysis(client, "/api/v1/what-works/esa/13P1", "esa", "13P1").json
    assert {tuple(g["mix"]): g["schools"] for g in area["by_mix"]} == {("supervision",): 4, (): 4}


def test_outside_scope_or_a_level_not_analysed_is_not_found(client: FlaskClient) -> None:
    assert analysis(client, "/api/v1/what-works/esa/13P2", "esa", "13P1").status_code == 404
    assert analysis(client, "/api/v1/what-works/school/13010001").status_code == 404
    assert analysis(client, "/api/v1/what-works/province/13?limit=5").status_code == 422


def test_the_analysis_downloads_as_csv_with_one_row_per_group(client: FlaskClient) -> None:
    response = analysis(client, "/api/v1/export/what-works/province/13?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    by_group = {(r["grouping"], r["mix"] or r["band"]): r for r in rows}
    assert by_group[("mix", "supervision")]["mean_relative_change"] == "3.3"
    assert by_group[("intensity", "none")]["schools"] == "7" and len(rows) == 4
