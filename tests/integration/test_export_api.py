"""Exports over views built by the real projection writer in the real document store: CSV and XLSX downloads
parsed back and compared with the JSON API, under the same scope rules."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from services.monitoring import export
from services.monitoring.app import create_app
from shared.auth import issue_token
from shared.settings import Settings
from tests.eventfactory import PERIOD
from tests.integration.test_indicators_api import seed

pytestmark = pytest.mark.integration

NATIONAL = ("national_officer", "national", None)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client(settings: Settings, unique: str) -> Iterator[FlaskClient]:
    settings = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    seed(settings)
    app = create_app(settings)
    app.config["TESTING"] = True
    with app.test_client() as test_client:
        test_client.settings = settings  # type: ignore[attr-defined]
        yield test_client


def get(client: FlaskClient, path: str, who: tuple[str, str, str | None] = NATIONAL, **query: Any) -> Any:
    role, level, code = who
    token = issue_token(client.settings, sub="u", role=role, scope_level=level, scope_code=code)  # type: ignore[attr-defined]
    return client.get(path, query_string={**PERIOD, **query}, headers={"Authorization": f"Bearer {token}"})


def parsed(response: Any, fmt: str) -> list[dict[str, Any]]:
    """The download's rows as dicts of text (CSV) or cell values (XLSX); empty cells are None."""
    body = response.get_data()
    if fmt == "csv":
        assert body.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(body)).active
        assert sheet.freeze_panes == "A2" and all(cell.font.bold for cell in sheet[1])
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header, *data = rows
    return [{k: (None if v == "" else v) for k, v in zip(header, row, strict=True)} for row in data]


def same(cell: Any, value: Any) -> bool:
    """A downloaded cell against the JSON value (CSV cells are text)."""
    if value is None or cell is None:
        return cell is None and value is None
    if isinstance(value, bool):
        return str(cell).lower() == str(value).lower()
    if isinstance(value, int | float):
        return float(cell) == float(value)
    return str(cell) == str(value)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_view_downloads_as_the_json_shows_it(client: FlaskClient, fmt: str) -> None:
    response = get(client, "/api/v1/export/views/province/13", format=fmt)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == export.FORMATS[fmt]
    disposition = f'attachment; filename="view-province-13-2569-2.{fmt}"'
    assert response.headers["Content-Disposition"] == disposition
    rows = parsed(response, fmt)
    view = get(client, "/api/v1/views/province/13").json
    units = [view, *view["children"]]
    assert [r["code"] for r in rows] == [u["code"] for u in units] == ["13", "13P1", "13P2"]
    assert rows[0]["name_th"] == "ปทุมธานี" and rows[1]["name_th"] == "สพป. 13P1"
    for row, unit in zip(rows, units, strict=True):
        assert same(row["academic_year"], 2569) and same(row["semester"], 2)
        flat = export.flatten({k: v for k, v in unit.items() if k not in export.VIEW_LEFT_OUT})
        assert flat.keys() <= row.keys()
        for column, value in flat.items():
            assert same(row[column], value), (unit["code"], column, row[column], value)
    assert not any("results" in column for column in rows[0])
    assert same(rows[0]["supervision.coverage"], round(2 / 3, 4))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_indicator_table_downloads_as_the_json_shows_it(client: FlaskClient, fmt: str) -> None:
    response = get(client, "/api/v1/export/indicators/esa/13P1", format=fmt)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert (
        response.headers["Content-Disposition"] == f'attachment; filename="indicators-esa-13P1-2569-2.{fmt}"'
    )
    rows = parsed(response, fmt)
    table = get(client, "/api/v1/indicators/esa/13P1").json
    expected = [
        (unit["code"], unit["name_th"], i["code"], i["name_th"], i["value"], i["target"], i["status"])
        for unit in [table["unit"], *table["children"]]
        for i in unit["indicators"]
    ]
    assert len(rows) == len(expected) == 2 * 10
    for row, (code, name, indicator, indicator_name, value, target, status) in zip(
        rows, expected, strict=True
    ):
        assert (row["code"], row["name_th"], row["indicator_code"]) == (code, name, indicator)
        assert row["indicator_name_th"] == indicator_name and row["status"] == status
        assert same(row["value"], value) and same(row["target"], target)
    coverage = next(r for r in rows if r["indicator_code"] == "supervision_coverage")
    assert coverage["status_th"] == "ไม่เป็นไปตามเป้าหมาย" and same(coverage["value"], 0.5)


def test_csv_is_the_default_format(client: FlaskClient) -> None:
    response = get(client, "/api/v1/export/views/school/13010001")
    assert response.status_code == 200 and response.headers["Content-Type"] == export.CSV_TYPE
    assert [r["code"] for r in parsed(response, "csv")] == ["13010001"]


@pytest.mark.parametrize("kind", ["views", "indicators"])
@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("province/13", ("supervisor", "esa", "13P1")),
        ("esa/13P2", ("supervisor", "esa", "13P1")),
        ("school/13010002", ("school_director", "school", "13010001")),
        ("esa/NOPE", NATIONAL),
    ],
)
def test_outside_ones_scope_is_not_found(client: FlaskClient, kind: str, path: str, who: Any) -> None:
    response = get(client, f"/api/v1/export/{kind}/{path}", who, format="xlsx")
    assert response.status_code == 404 and response.json["code"] == 404


@pytest.mark.parametrize(
    ("kind", "query"),
    [
        ("views", {"format": "pdf"}),
        ("views", {"format": ""}),
        ("views", {"inactive_days": 0}),
        ("indicators", {"format": "json"}),
        ("indicators", {"inactive_days": 30}),
        ("indicators", {"sheet": "x"}),
    ],
)
def test_bad_query_parameters_are_422(client: FlaskClient, kind: str, query: dict[str, Any]) -> None:
    response = get(client, f"/api/v1/export/{kind}/esa/13P1", **query)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.json["code"] == 422


def test_exports_need_a_token(client: FlaskClient) -> None:
    assert client.get("/api/v1/export/views/esa/13P1").status_code == 401


def test_downloads_are_documented_with_both_content_types(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    for path in ("/api/v1/export/views/{level}/{code}", "/api/v1/export/indicators/{level}/{code}"):
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]
        assert set(content) == {"text/csv", XLSX}
