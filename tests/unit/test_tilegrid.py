"""The tile-grid map of the provinces: the committed JSON is what the generator makes, and it reads as Thailand."""

from __future__ import annotations

import json

import geothai
import pytest

from services.monitoring.dashboard.tools import tilegrid

REGIONS = {"central", "north", "northeast", "east", "west", "south"}


@pytest.fixture(scope="module")
def grid() -> dict:
    return json.loads(tilegrid.OUT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cells(grid: dict) -> dict[str, tuple[int, int]]:
    return {p["code"]: (p["col"], p["row"]) for p in grid["provinces"]}


def test_committed_file_is_what_the_generator_makes(grid: dict) -> None:
    assert grid == tilegrid.build()


def test_77_unique_codes_matching_geothai(grid: dict) -> None:
    codes = [p["code"] for p in grid["provinces"]]
    assert len(codes) == 77 == len(set(codes))
    by_code = {p.code: p for p in geothai.provinces()}
    assert set(codes) == set(by_code)
    for p in grid["provinces"]:
        assert p["name_th"] == by_code[p["code"]].name_th
        assert p["name_en"] == by_code[p["code"]].name_en
        assert p["region"] in REGIONS
    assert grid["source"]


def test_cells_are_unique_and_the_grid_is_small(grid: dict, cells: dict[str, tuple[int, int]]) -> None:
    assert len(set(cells.values())) == 77
    assert min(c for c, _ in cells.values()) == 0 and min(r for _, r in cells.values()) == 0
    assert max(c for c, _ in cells.values()) < 15
    assert max(r for _, r in cells.values()) < 25


def test_regions_follow_the_six_region_system(grid: dict) -> None:
    counts: dict[str, int] = {}
    for p in grid["provinces"]:
        counts[p["region"]] = counts.get(p["region"], 0) + 1
    assert counts == {"central": 22, "north": 9, "northeast": 20, "east": 7, "west": 5, "south": 14}


def test_shape(cells: dict[str, tuple[int, int]]) -> None:
    bangkok, chiang_mai, ubon = cells["10"], cells["50"], cells["34"]
    assert bangkok[1] > chiang_mai[1]  # Bangkok south of Chiang Mai
    assert ubon[0] > bangkok[0]  # Ubon Ratchathani east of Bangkok
    assert cells["96"][1] == max(r for _, r in cells.values())  # Narathiwat on the southernmost row
    assert cells["21"][0] > bangkok[0] and cells["21"][1] > bangkok[1]  # Rayong lower right of Bangkok
    assert cells["71"][0] < bangkok[0]  # Kanchanaburi west of Bangkok
    assert cells["86"][1] > bangkok[1]  # Chumphon south of Bangkok


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("13", "10"),  # Pathum Thani – Bangkok
        ("12", "10"),  # Nonthaburi – Bangkok
        ("11", "10"),  # Samut Prakan – Bangkok
        ("50", "57"),  # Chiang Mai – Chiang Rai
        ("50", "58"),  # Chiang Mai – Mae Hong Son
        ("90", "94"),  # Songkhla – Pattani
        ("20", "21"),  # Chon Buri – Rayong
        ("40", "41"),  # Khon Kaen – Udon Thani
        ("84", "80"),  # Surat Thani – Nakhon Si Thammarat
        ("71", "72"),  # Kanchanaburi – Suphan Buri
        ("30", "31"),  # Nakhon Ratchasima – Buri Ram
        ("95", "96"),  # Yala – Narathiwat
    ],
)
def test_bordering_provinces_stay_close(cells: dict[str, tuple[int, int]], a: str, b: str) -> None:
    (ca, ra), (cb, rb) = cells[a], cells[b]
    assert max(abs(ca - cb), abs(ra - rb)) <= 2


def test_assignment_is_deterministic_and_resolves_collisions() -> None:
    points = {"a": (1.0, 1.0), "b": (1.1, 1.0), "c": (0.9, 1.1)}
    weights = {"a": 3.0, "b": 2.0, "c": 1.0}
    first = tilegrid.assign(points, weights)
    assert first == tilegrid.assign(points, weights)
    assert len(set(first.values())) == 3
