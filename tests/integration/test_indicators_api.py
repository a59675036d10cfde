"""The indicator API over views built by the real projection writer in the real document store: values read
from the same figures as `/views`, statuses against the catalogue's targets, scope rules and overrides."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from services.monitoring import indicators
from services.monitoring.app import create_app
from services.monitoring.projection import MonitoringProjection
from shared.auth import issue_token
from shared.calendar import Period
from shared.clients import mongo_client
from shared.projection import DeadLetters, ProjectionWriter, Record
from shared.settings import Settings
from shared.store import Store
from tests.eventfactory import PERIOD
from tests.integration.test_monitoring_achievement import RESULTS, result
from tests.integration.test_monitoring_api import SCHOOLS, committee_events, directory_events, visit

pytestmark = pytest.mark.integration

NATIONAL = ("national_officer", "national", None)


def seeded_events() -> list[bytes]:
    """Visits (13010001 twice, 13020001 once), committee meetings in 13P1, O-NET results of 2567 and 2568."""
    return [
        *directory_events(),
        visit(*SCHOOLS[0], "V1", 2),
        visit(*SCHOOLS[0], "V2", 4),
        visit(*SCHOOLS[2], "V3", 3),
        *committee_events(),
        *(result(*r) for r in RESULTS),
    ]


def seed(settings: Settings) -> None:
    store = Store(mongo_client(settings), settings.db_name("monitoring"))
    writer = ProjectionWriter(store, MonitoringProjection(["t"]), settings.projector_group, DeadLetters(None))
    writer.apply([Record("t", 0, offset, value) for offset, value in enumerate(seeded_events())])


@pytest.fixture
def client(settings: Settings, unique: str) -> Iterator[FlaskClient]:
    settings = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    seed(settings)
    app = create_app(settings)
    app.config["TESTING"] = True
    with app.test_client() as test_client:
        test_client.settings = settings  # type: ignore[attr-defined]
        yield test_client


def get(client: FlaskClient, path: str, who: tuple[str, str, str | None], **query: Any) -> Any:
    role, level, code = who
    token = issue_token(client.settings, sub="u", role=role, scope_level=level, scope_code=code)  # type: ignore[attr-defined]
    return client.get(path, query_string={**PERIOD, **query}, headers={"Authorization": f"Bearer {token}"})


def statuses(unit: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    return {i["code"]: (i["value"], i["status"]) for i in unit["indicators"]}


def source_value(figures: dict[str, Any], source: str) -> Any:
    for part in source.split("."):
        figures = figures.get(part) if isinstance(figures, dict) else None  # type: ignore[assignment]
    return figures


def test_an_esa_areas_indicators_and_its_childrens(client: FlaskClient) -> None:
    response = get(client, "/api/v1/indicators/esa/13P1", NATIONAL)
    assert response.status_code == 200, response.json
    table = response.json
    assert table["unit"]["code"] == "13P1" and table["unit"]["name_th"] == "สพป. 13P1"
    assert table["period"]["label_th"] == "ภาคเรียนที่ 2/2569" and table["as_of"] is not None
    area = statuses(table["unit"])
    assert area["supervision_coverage"] == (0.5, "off_track")  # 1 of 2 schools visited
    assert area["rubric_mean"] == (3.0, "on_track")
    assert area["committee_meetings"] == (1.0, "at_risk")  # 2 meetings, 2 committees
    assert area["community_participation"] == (0.5, "on_track")
    assert area["action_item_completion"] == (1.0, "on_track")
    assert area["achievement_mean"] == (round((42 * 30 + 60 * 3) / 33, 2), "at_risk")
    assert area["achievement_change"][1] == "on_track"
    assert area["training_completion"] == (None, "no_data")
    assert area["pd_hours_per_teacher"] == (0.0, "off_track")
    coverage = next(i for i in table["unit"]["indicators"] if i["code"] == "supervision_coverage")
    assert coverage["status_th"] == "ไม่เป็นไปตามเป้าหมาย" and coverage["name_en"] == "Supervision coverage"
    assert (coverage["target"], coverage["at_risk"], coverage["unit"]) == (1.0, 0.7, "share")
    children = {c["code"]: statuses(c) for c in table["children"]}
    assert set(children) == {"13P1-C01"}
    assert children["13P1-C01"]["supervision_coverage"] == (0.5, "off_track")


def test_indicator_values_are_the_view_figures(client: FlaskClient) -> None:
    """Every value and status agrees with `/views` and the catalogue, for the unit and each child."""
    catalogue = {i.code: i for i in indicators.base_catalogue()}
    for path in ("province/13", "cluster/13P1-C01", "national/TH"):
        view = get(client, f"/api/v1/views/{path}", NATIONAL).json
        table = get(client, f"/api/v1/indicators/{path}", NATIONAL).json
        pairs = [(view, table["unit"]), *zip(view["children"], table["children"], strict=True)]
        for figures, unit in pairs:
            assert unit["code"] == figures["code"]
            for row in unit["indicators"]:
                indicator = catalogue[row["code"]]
                assert row["value"] == source_value(figures, indicator.source), (path, row)
                target, at_risk = indicator.thresholds(Period(2569, 2))
                expected = indicators.status(row["value"], target, at_risk, indicator.direction)
                assert (row["target"], row["at_risk"], row["status"]) == (target, at_risk, expected)


def test_school_level_statuses_and_small_cells(client: FlaskClient) -> None:
    cluster = get(client, "/api/v1/indicators/cluster/13P1-C01", NATIONAL).json
    schools = {c["code"]: statuses(c) for c in cluster["children"]}
    assert schools["13010001"]["supervision_coverage"] == (1.0, "on_track")
    assert schools["13010002"]["supervision_coverage"] == (0.0, "off_track")
    assert schools["13010002"]["rubric_mean"] == (None, "no_data")
    # 3 pupils tested: hidden from a national officer, shown to the ESA area's staff
    assert schools["13010002"]["achievement_mean"] == (None, "no_data")
    area = get(client, "/api/v1/indicators/cluster/13P1-C01", ("esa_officer", "esa", "13P1")).json
    assert {c["code"]: statuses(c) for c in area["children"]}["13010002"]["achievement_mean"] == (
        60.0,
        "on_track",
    )


def test_pd_hours_targets_follow_the_semester(client: FlaskClient) -> None:
    first = get(client, "/api/v1/indicators/esa/13P1", NATIONAL, semester=1).json
    pd = next(i for i in first["unit"]["indicators"] if i["code"] == "pd_hours_per_teacher")
    assert (pd["target"], pd["at_risk"]) == (10, 6)
    assert first["period"]["semester"] == 1


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/api/v1/indicators/province/13", ("supervisor", "esa", "13P1")),
        ("/api/v1/indicators/esa/13P2", ("supervisor", "esa", "13P1")),
        ("/api/v1/indicators/school/13010002", ("school_director", "school", "13010001")),
        ("/api/v1/indicators/esa/NOPE", NATIONAL),
        ("/api/v1/indicators/planet/13", NATIONAL),
    ],
)
def test_outside_ones_scope_is_not_found(client: FlaskClient, path: str, who: Any) -> None:
    response = get(client, path, who)
    assert response.status_code == 404
    assert "indicators" not in json.dumps(response.json)


@pytest.mark.parametrize("query", [{"inactive_days": 30}, {"semester": 3}, {"year": 2569}])
def test_bad_query_parameters_are_422(client: FlaskClient, query: dict[str, Any]) -> None:
    response = get(client, "/api/v1/indicators/esa/13P1", NATIONAL, **query)
    assert response.status_code == 422, response.json


def test_indicators_need_a_token(client: FlaskClient) -> None:
    assert client.get("/api/v1/indicators").status_code == 401
    assert client.get("/api/v1/indicators/esa/13P1").status_code == 401


def test_the_catalogue_lists_definitions_and_status_labels(client: FlaskClient) -> None:
    response = get(client, "/api/v1/indicators", ("school_director", "school", "13010001"))
    assert response.status_code == 200
    catalogue = response.json
    assert len(catalogue["indicators"]) == 10
    pd = next(i for i in catalogue["indicators"] if i["code"] == "pd_hours_per_teacher")
    assert pd["target"] == {"1": 10, "2": 20} and pd["at_risk"] == {"1": 6, "2": 14}
    assert pd["source"] == "training.pd_hours_year_per_teacher" and pd["unit"] == "hours"
    assert {s["code"]: s["label_en"] for s in catalogue["statuses"]}["at_risk"] == "At risk"


def test_a_targets_file_changes_targets_and_statuses(settings: Settings, unique: str, tmp_path: Path) -> None:
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps({"supervision_coverage": {"target": 0.5, "at_risk": 0.4}}), "utf-8")
    settings = settings.with_overrides(
        db_prefix=f"{settings.db_prefix}_{unique}", indicator_targets_file=str(targets)
    )
    seed(settings)
    with create_app(settings).test_client() as client:
        client.settings = settings  # type: ignore[attr-defined]
        catalogue = get(client, "/api/v1/indicators", NATIONAL).json
        coverage = next(i for i in catalogue["indicators"] if i["code"] == "supervision_coverage")
        assert (coverage["target"], coverage["at_risk"]) == (0.5, 0.4)
        table = get(client, "/api/v1/indicators/esa/13P1", NATIONAL).json
        assert statuses(table["unit"])["supervision_coverage"] == (0.5, "on_track")
