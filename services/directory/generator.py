"""A realistic national master-data set for demos and benchmarks, deterministic for a seed.

77 provinces (geothai), 183 primary ESA areas spread by province size (district count stands in for size;
Bangkok keeps one area although its primary schools are the city's, not OBEC's), 62 secondary areas (one per
province, fifteen small provinces served by a neighbour's area), ~29,000 schools in OBEC's size mix, clusters
of 10–20 schools inside an area, and one teacher row per teacher a school reports (~380,000).

Code scheme (demo tokens depend on it): ESA `{province}P{n}` / `{province}S{n}`; cluster `{esa}-C{nn}`;
school `{province}{esa number:02d}{serial:04d}` with secondary areas numbered 50+n; teacher `T{school}-{nn}`.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geothai
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.directory.domain import PRIMARY, SECONDARY, size_category_for
from services.directory.names import (
    ANUBAN_SCHOOL,
    FIRST_NAMES,
    PLACE_HEADS,
    PLACE_TAILS,
    PRIMARY_SCHOOL_NAMES,
    SECONDARY_SCHOOL_NAMES,
    SUBJECTS,
    SURNAMES,
)
from services.directory.schemas import CSV_COLUMNS
from shared.catalog.directory import MODELS

NATIONAL_SCHOOLS = 29_000
PRIMARY_AREAS = 183
BANGKOK = "10"
SECONDARY_SCHOOL_SHARE = 0.08  # ~2,400 of ~29,000 OBEC schools are in secondary areas
# Fifteen small provinces have no secondary area of their own: guest province -> host province.
SHARED_SECONDARY = {
    "75": "70", "82": "83", "26": "25", "85": "86", "17": "16", "15": "14", "39": "41", "37": "35",
    "49": "48", "58": "50", "91": "90", "23": "22", "18": "60", "51": "52", "38": "43",
}  # fmt: skip
# Size mix by area level; overall ≈ OBEC's 50% small, 38% medium, 9% large, 3% extra large.
SIZE_MIX = {
    PRIMARY: {"small": 0.5304, "medium": 0.3739, "large": 0.0761, "extra_large": 0.0196},
    SECONDARY: {"small": 0.15, "medium": 0.45, "large": 0.25, "extra_large": 0.15},
}
# Students inside each band (low, high, skew > 1 crowds them towards the low end, as real schools are)
STUDENT_RANGES = {
    "small": (15, 120, 1.0),
    "medium": (121, 600, 3.5),
    "large": (601, 1500, 3.5),
    "extra_large": (1501, 2700, 2.5),
}
STUDENTS_PER_TEACHER = (18.0, 20.0)
MIN_TEACHERS = 2
CLUSTER_SIZE = (10, 20)
EFFECTIVE_FROM = {
    PRIMARY: "2010-08-23",  # the primary areas' current boundaries
    SECONDARY: "2021-07-01",  # secondary areas reorganised 42 -> 62
    "cluster": "2024-05-16",
    "school": "2024-05-16",
    "teacher": "2024-05-16",
}
EMAIL_DOMAIN = "anp.example"


@dataclass(frozen=True)
class Area:
    esa_code: str
    level: str
    number: int  # in school codes: n for primary areas, 50 + n for secondary ones
    province: Any  # geothai Province of the seat
    districts: tuple[Any, ...]  # geothai Districts the area serves
    name_th: str
    name_en: str
    weight: float  # share of schools


@dataclass
class DataSet:
    seed: int
    esa_areas: list[dict[str, Any]] = field(default_factory=list)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    schools: list[dict[str, Any]] = field(default_factory=list)

    def teacher_count(self) -> int:
        return sum(s["teachers"] for s in self.schools)

    def teachers(self) -> Iterator[dict[str, Any]]:
        """Teacher rows, made on the fly (the national set has ~380,000)."""
        for school in self.schools:
            yield from teacher_rows(school, self.seed)


def largest_remainder(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split `total` in proportion to `weights` into whole numbers that add up to `total`."""
    whole = sum(weights.values())
    if whole <= 0:
        return dict.fromkeys(weights, 0)
    exact = {key: total * w / whole for key, w in weights.items()}
    shares = {key: math.floor(x) for key, x in exact.items()}
    by_remainder = sorted(weights, key=lambda k: (-(exact[k] - shares[k]), k))
    for key in by_remainder[: total - sum(shares.values())]:
        shares[key] += 1
    return shares


def _districts() -> dict[str, tuple[Any, ...]]:
    return {
        p.code: tuple(sorted(geothai.districts(p.code), key=lambda d: d.code)) for p in geothai.provinces()
    }


def plan_areas() -> list[Area]:
    provinces = sorted(geothai.provinces(), key=lambda p: p.code)
    districts = _districts()
    return _primary_areas(provinces, districts) + _secondary_areas(provinces, districts)


def _primary_areas(provinces: list[Any], districts: dict[str, tuple[Any, ...]]) -> list[Area]:
    weights = {p.code: 0 if p.code == BANGKOK else len(districts[p.code]) for p in provinces}
    extra = largest_remainder(PRIMARY_AREAS - len(provinces), weights)
    areas = []
    for p in provinces:
        count = 1 + extra[p.code]
        for n, chunk in enumerate(_split(districts[p.code], count), start=1):
            suffix_th, suffix_en = (f" เขต {n}", f" {n}") if count > 1 else ("", "")
            weight = 1.0 if p.code == BANGKOK else float(len(chunk))
            areas.append(
                Area(
                    f"{p.code}P{n}",
                    PRIMARY,
                    n,
                    p,
                    tuple(chunk),
                    f"สพป.{p.name_th}{suffix_th}",
                    f"{p.name_en} Primary ESA{suffix_en}",
                    weight,
                )
            )
    return areas


def _secondary_areas(provinces: list[Any], districts: dict[str, tuple[Any, ...]]) -> list[Area]:
    by_code = {p.code: p for p in provinces}
    primary_weight = sum(len(d) for code, d in districts.items() if code != BANGKOK) + 1.0
    all_districts = sum(len(d) for d in districts.values())
    per_district = primary_weight * SECONDARY_SCHOOL_SHARE / (1 - SECONDARY_SCHOOL_SHARE) / all_districts
    areas = []
    for p in provinces:
        if p.code in SHARED_SECONDARY:
            continue
        served = [p] + [by_code[g] for g, host in sorted(SHARED_SECONDARY.items()) if host == p.code]
        served_districts = tuple(d for q in served for d in districts[q.code])
        areas.append(
            Area(
                f"{p.code}S1",
                SECONDARY,
                51,
                p,
                served_districts,
                "สพม." + " ".join(q.name_th for q in served),
                " ".join(q.name_en for q in served) + " Secondary ESA",
                per_district * len(served_districts),
            )
        )
    return areas


def _split(items: tuple[Any, ...], parts: int) -> list[tuple[Any, ...]]:
    """`parts` contiguous chunks of nearly equal length."""
    size, rest = divmod(len(items), parts)
    chunks, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < rest else 0)
        chunks.append(items[start:end])
        start = end
    return chunks


def generate(schools: int = NATIONAL_SCHOOLS, seed: int = 2024) -> DataSet:
    """The data set's ESA areas, clusters and schools (teachers are made on demand)."""
    rng = random.Random(seed)
    areas = plan_areas()
    data = DataSet(seed, esa_areas=[_esa_row(a) for a in areas])
    shares = largest_remainder(schools, {a.esa_code: a.weight for a in areas})
    serials: Counter[tuple[str, int]] = Counter()
    for area in areas:
        area_schools = _area_schools(area, shares[area.esa_code], rng, serials)
        data.clusters += _cluster_schools(area, area_schools, rng)
        data.schools += area_schools
    return data


def _esa_row(area: Area) -> dict[str, Any]:
    return {
        "esa_code": area.esa_code,
        "name_th": area.name_th,
        "name_en": area.name_en,
        "level": area.level,
        "province_code": area.province.code,
        "effective_from": EFFECTIVE_FROM[area.level],
    }


def _area_schools(
    area: Area, count: int, rng: random.Random, serials: Counter[tuple[str, int]]
) -> list[dict[str, Any]]:
    # Mueang (the provincial seat, district code xx01) has more schools than the other districts.
    weights = [3 if d.code.endswith("01") else 1 for d in area.districts]
    picks = sorted(rng.choices(area.districts, weights=weights, k=count), key=lambda d: d.code)
    named: set[str] = set()
    rows = []
    for district in picks:
        serials[(district.province_code, area.number)] += 1
        serial = serials[(district.province_code, area.number)]
        code = f"{district.province_code}{area.number:02d}{serial:04d}"
        name_th, name_en = _school_name(area, district, district.code not in named, rng)
        named.add(district.code)
        rows.append(_school_row(code, name_th, name_en, area, district, rng))
    return rows


def _school_name(area: Area, district: Any, first_in_district: bool, rng: random.Random) -> tuple[str, str]:
    """A primary area's first school in a district is its Anuban (model kindergarten-primary) school."""
    head, tail = rng.choice(PLACE_HEADS), rng.choice(PLACE_TAILS)
    values = {
        "th": head[0] + tail[0],
        "en": f"{head[1]} {tail[1]}",
        "amphoe_th": district.name_th,
        "amphoe_en": district.name_en,
    }
    if area.level == PRIMARY and first_in_district:
        pattern_th, pattern_en = ANUBAN_SCHOOL
    else:
        patterns = PRIMARY_SCHOOL_NAMES if area.level == PRIMARY else SECONDARY_SCHOOL_NAMES
        pattern_th, pattern_en, _ = rng.choices(patterns, weights=[p[2] for p in patterns])[0]
    return pattern_th.format(**values), pattern_en.format(**values)


def _school_row(
    code: str, name_th: str, name_en: str, area: Area, district: Any, rng: random.Random
) -> dict[str, Any]:
    mix = SIZE_MIX[area.level]
    category = rng.choices(list(mix), weights=list(mix.values()))[0]
    low, high, skew = STUDENT_RANGES[category]
    students = low + round((high - low) * rng.random() ** skew)
    teachers = max(MIN_TEACHERS, round(students / rng.uniform(*STUDENTS_PER_TEACHER)))
    return {
        "school_code": code,
        "name_th": name_th,
        "name_en": name_en,
        "esa_code": area.esa_code,
        "cluster_id": "",
        "province_code": district.province_code,
        "amphoe": district.name_th,
        "size_category": size_category_for(students),
        "students": students,
        "teachers": teachers,
        "effective_from": EFFECTIVE_FROM["school"],
    }


def cluster_sizes(count: int, rng: random.Random) -> list[int]:
    """Split an area's schools into clusters of 10-20 (an area with fewer schools has one cluster)."""
    if count == 0:
        return []
    low, high = CLUSTER_SIZE
    fewest = math.ceil(count / high)
    parts = rng.randint(fewest, max(fewest, count // low))
    size, rest = divmod(count, parts)
    return [size + (1 if i < rest else 0) for i in range(parts)]


def _cluster_schools(area: Area, schools: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Neighbouring schools (sorted by district) form a cluster; each row gets its cluster_id."""
    clusters, start = [], 0
    for n, size in enumerate(cluster_sizes(len(schools), rng), start=1):
        members = schools[start : start + size]
        start += size
        cluster_id = f"{area.esa_code}-C{n:02d}"
        for school in members:
            school["cluster_id"] = cluster_id
        clusters.append(_cluster_row(cluster_id, area, members[0], n, rng))
    return clusters


def _cluster_row(
    cluster_id: str, area: Area, first: dict[str, Any], n: int, rng: random.Random
) -> dict[str, Any]:
    district = next(d for d in area.districts if d.name_th == first["amphoe"])
    first_name, surname = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    # the best networks mix the three models, so mixes are more common than single models
    models = rng.sample(MODELS, rng.choices([1, 2, 3], weights=[2, 3, 5])[0])
    return {
        "cluster_id": cluster_id,
        "name_th": f"กลุ่มเครือข่าย{district.name_th} {n}",
        "name_en": f"{district.name_en} Network {n}",
        "esa_code": area.esa_code,
        "coordinator": f"ผอ.{first_name[0]} {surname[0]}",
        "models": ";".join(m for m in MODELS if m in models),
        "effective_from": EFFECTIVE_FROM["cluster"],
    }


def teacher_rows(school: dict[str, Any], seed: int) -> Iterator[dict[str, Any]]:
    # Seeded per school: a school's teachers do not depend on the schools generated before it.
    rng = random.Random(f"{seed}:{school['school_code']}")
    for n in range(1, school["teachers"] + 1):
        teacher_id = f"T{school['school_code']}-{n:02d}"
        first_name, surname = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        yield {
            "teacher_id": teacher_id,
            "school_code": school["school_code"],
            "name_th": f"ครู{first_name[0]} {surname[0]}",
            "name_en": f"{first_name[1]} {surname[1]}",
            "email": f"{teacher_id.lower()}@{EMAIL_DOMAIN}",
            "subject": rng.choice(SUBJECTS),
            "effective_from": EFFECTIVE_FROM["teacher"],
        }


def write_dataset(data: DataSet, out_dir: Path, *, progress: bool = True) -> dict[str, int]:
    """Write the four CSV files; returns the rows written per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=True)
    files = {
        "esa_areas.csv": ("esa_area", data.esa_areas, len(data.esa_areas)),
        "clusters.csv": ("cluster", data.clusters, len(data.clusters)),
        "schools.csv": ("school", data.schools, len(data.schools)),
        "teachers.csv": ("teacher", data.teachers(), data.teacher_count()),
    }
    written = {}
    with Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not (progress and console.is_terminal),
    ) as bar:
        for name, (kind, rows, total) in files.items():
            task = bar.add_task(name, total=total)
            written[name] = _write_csv(
                out_dir / name, CSV_COLUMNS[kind], rows, lambda n, t=task: bar.advance(t, n)
            )
    return written


def _write_csv(path: Path, columns: tuple[str, ...], rows: Any, advance: Any) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        for count, row in enumerate(rows, start=1):
            writer.writerow(row)
            if count % 1000 == 0:
                advance(1000)
    advance(count % 1000)
    return count
