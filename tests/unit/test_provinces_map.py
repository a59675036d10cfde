"""The boundary map's province list: the committed JSON is what the generator makes from the installed SVG."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter

import geothai
import pytest

from services.monitoring.dashboard.tools import provinces as tool


@pytest.fixture(scope="module")
def paths() -> list[tuple[str, str]]:
    if not tool.SVG.is_file():
        pytest.fail(f"{tool.SVG} is missing: run `make assets` (npm ci in services/monitoring/dashboard/)")
    return tool.svg_paths()


@pytest.fixture(scope="module")
def data() -> dict:
    return json.loads(tool.OUT.read_text(encoding="utf-8"))


def test_committed_file_is_what_the_generator_makes(paths: list, data: dict) -> None:
    assert data == tool.build(), (
        "provinces.json is stale: run python -m services.monitoring.dashboard.tools.provinces"
    )


def test_77_unique_codes_and_names_matching_geothai(data: dict) -> None:
    codes = [p["code"] for p in data["provinces"]]
    assert len(codes) == 77 == len(set(codes))
    by_code = {p.code: p for p in geothai.provinces()}
    assert set(codes) == set(by_code)
    for p in data["provinces"]:
        assert (p["name_th"], p["name_en"]) == (by_code[p["code"]].name_th, by_code[p["code"]].name_en)
    assert data["source"]
    assert data["attribution"]["package"] == "@svg-maps/thailand"
    assert data["attribution"]["license"] == "CC-BY-4.0"


def test_every_map_id_is_one_path_of_the_svg(paths: list, data: dict) -> None:
    ids = Counter(path_id for path_id, _ in paths)
    map_ids = [p["map_id"] for p in data["provinces"]] + data["water"]
    assert len(map_ids) == len(set(map_ids))
    for map_id in map_ids:
        assert ids[map_id] == 1, map_id


def test_the_only_path_that_is_not_a_province_is_the_lake(paths: list, data: dict) -> None:
    provinces = {p["map_id"] for p in data["provinces"]}
    others = [(path_id, label) for path_id, label in paths if path_id not in provinces]
    assert others == [("lksg", "Lake Songkha")]
    assert data["water"] == ["lksg"]


def test_the_svg_is_the_shape_the_map_expects(paths: list) -> None:
    root = ET.parse(tool.SVG).getroot()
    assert root.get("viewBox") == "0 0 560 1025"
    assert len(paths) == 78
    assert all(path_id and label for path_id, label in paths)


def test_spelling_table_entries_are_all_used(paths: list) -> None:
    labels = {label for _, label in paths}
    names = {p.name_en for p in geothai.provinces()}
    for svg_name, geothai_name in tool.SPELLINGS.items():
        assert svg_name in labels and svg_name not in names and geothai_name in names
