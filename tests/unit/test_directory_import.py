"""Master data: row validation with spreadsheet line numbers, the rules, batch planning and the generator."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import pytest

from services.directory.csv_import import Pending, import_file, plan_writes
from services.directory.domain import (
    CLUSTER,
    ESA_AREA,
    KINDS,
    SCHOOL,
    SIZE_BANDS,
    TEACHER,
    Current,
    EsaArea,
    Reference,
    School,
    Verdict,
    classify,
    org_dict,
    org_of,
    payload,
    size_category_for,
    state_digest,
)
from services.directory.generator import SIZE_MIX, STUDENT_RANGES, generate, plan_areas, write_dataset
from services.directory.rows import Row, RowError, read_rows, validate_file
from shared.catalog import catalog
from shared.envelope import Org

DEMO = Path(__file__).resolve().parents[2] / "services" / "directory" / "demo"

ESA_HEADER = "esa_code,name_th,name_en,level,province_code,effective_from"
CLUSTER_HEADER = "cluster_id,name_th,name_en,esa_code,coordinator,models,effective_from"
SCHOOL_HEADER = (
    "school_code,name_th,name_en,esa_code,cluster_id,province_code,amphoe,size_category,students,teachers,"
    "effective_from"
)
TEACHER_HEADER = "teacher_id,school_code,name_th,name_en,email,subject,effective_from"


def csv_text(header: str, *rows: str) -> io.StringIO:
    return io.StringIO("\n".join([header, *rows]) + "\n")


def reference() -> Reference:
    """13P1 (primary, Pathum Thani) with cluster 13P1-C01, 13S1 (secondary, Pathum Thani), 50P1."""
    ref = Reference()
    for code, level, province in (
        ("13P1", "primary", "13"),
        ("13S1", "secondary", "13"),
        ("50P1", "primary", "50"),
    ):
        ref.esa_areas[code] = EsaArea(code, code, code, level, province, "2010-08-23")
    ref.clusters["13P1-C01"] = Org(None, "13P1-C01", "13P1", "13")
    ref.clusters["50P1-C01"] = Org(None, "50P1-C01", "50P1", "50")
    ref.schools["13010001"] = Org("13010001", "13P1-C01", "13P1", "13")
    return ref


def school_row(
    code: str = "13010009",
    esa: str = "13P1",
    cluster: str = "13P1-C01",
    province: str = "13",
    size: str = "small",
    students: int = 80,
    name: str = "โรงเรียนบ้านหนองบัว",
) -> str:
    return f"{code},{name},Ban Nong Bua School,{esa},{cluster},{province},เมืองปทุมธานี,{size},{students},5,2024-05-16"


def check_schools(*rows: str) -> tuple[list[int], list[RowError]]:
    good, errors = validate_file(SCHOOL, csv_text(SCHOOL_HEADER, *rows), reference())
    return [line for line, _ in good], errors


# --- rows and line numbers ---


def test_good_rows_are_read_with_their_spreadsheet_line_numbers() -> None:
    items = list(
        read_rows(SCHOOL, csv_text(SCHOOL_HEADER, school_row("13010009"), "", school_row("13010010")))
    )
    assert [(i.line, i.data["school_code"]) for i in items if isinstance(i, Row)] == [
        (2, "13010009"),
        (4, "13010010"),  # a blank row is still a spreadsheet row
    ]
    row = items[0]
    assert isinstance(row, Row)
    assert (row.data["students"], row.data["effective_from"].isoformat()) == (80, "2024-05-16")


def test_a_bad_cell_reports_file_line_and_column() -> None:
    lines, errors = check_schools(
        school_row("13010009"), school_row("13010010", students=-5), school_row("13010011")
    )
    assert lines == [2, 4]
    assert [(e.file, e.line, e.column) for e in errors] == [("schools.csv", 3, "students")]


def test_missing_required_cells_and_bad_dates_are_row_errors() -> None:
    _, errors = validate_file(
        TEACHER,
        csv_text(
            TEACHER_HEADER,
            "T13010001-09,13010001,,,,,2024-05-16",
            "T13010001-10,13010001,ครูสมชาย,,,,16/05/2567",
        ),
        reference(),
    )
    assert [(e.line, e.column) for e in errors] == [(2, "name_th"), (3, "effective_from")]


def test_a_quoted_cell_with_a_line_break_is_one_spreadsheet_row() -> None:
    text = csv_text(
        TEACHER_HEADER,
        'T13010001-09,13010001,"ครูมาลี\nศรีสุข",,,,2024-05-16',
        "T13010001-10,nope!,x,,,,2024-05-16",
    )
    _, errors = validate_file(TEACHER, text, reference())
    assert [(e.line, e.column) for e in errors] == [(3, "school_code")]


def test_an_unknown_column_fails_the_whole_file_at_line_1() -> None:
    good, errors = validate_file(SCHOOL, csv_text(SCHOOL_HEADER + ",notes", school_row() + ",x"), reference())
    assert good == []
    assert [(e.line, e.column, e.message) for e in errors] == [(1, "notes", "unknown column")]


def test_a_missing_column_fails_the_whole_file() -> None:
    good, errors = validate_file(
        TEACHER, csv_text("teacher_id,school_code,name_th", "T1,13010001,x"), reference()
    )
    assert good == []
    assert {(e.line, e.column, e.message) for e in errors} == {(1, "effective_from", "missing column")}


def test_a_row_longer_than_the_header_is_rejected() -> None:
    _, errors = check_schools(school_row() + ",extra")
    assert [(e.line, e.column) for e in errors] == [(2, "")]


@pytest.mark.parametrize("value", ["$where", "$gt", " $ne"])
def test_operator_injection_values_are_rejected(value: str) -> None:
    lines, errors = check_schools(school_row(name=value), school_row("13010010"))
    assert lines == [3]
    assert [(e.line, e.column) for e in errors] == [(2, "name_th")]
    assert "$" in errors[0].message


def test_unknown_network_models_are_rejected_and_known_ones_kept_in_catalog_order() -> None:
    good, errors = validate_file(
        CLUSTER,
        csv_text(
            CLUSTER_HEADER,
            "13P1-C05,ก,A,13P1,,committee;supervision,2024-05-16",
            "13P1-C06,ข,B,13P1,,training;football,2024-05-16",
            "13P1-C07,ค,C,13P1,,,2024-05-16",
        ),
        reference(),
    )
    assert [(line, c.models, c.province_code) for line, c in good] == [
        (2, ("supervision", "committee"), "13")
    ]
    assert [(e.line, e.column) for e in errors] == [(3, "models"), (4, "models")]


def test_a_key_repeated_with_the_same_effective_date_is_an_error_but_a_history_is_fine() -> None:
    lines, errors = check_schools(
        school_row("13010009"),
        school_row("13010009", students=90),
        school_row("13010009", students=90).replace("2024-05-16", "2025-05-16"),
    )
    assert lines == [2, 4]
    assert [(e.line, e.column, e.message[:13]) for e in errors] == [(3, "school_code", "repeats line ")]


# --- referential rules ---


def test_a_province_must_exist_in_geothai() -> None:
    _, errors = validate_file(ESA_AREA, csv_text(ESA_HEADER, "99P1,x,x,primary,99,2010-08-23"), Reference())
    assert [(e.line, e.column) for e in errors] == [(2, "province_code")]


def test_a_school_needs_a_known_esa_area() -> None:
    _, errors = check_schools(school_row(esa="13P9", cluster=""))
    assert [(e.column, e.message) for e in errors] == [("esa_code", "unknown ESA area '13P9'")]


def test_a_school_in_a_primary_area_is_in_the_areas_province() -> None:
    _, errors = check_schools(school_row("50010009", esa="13P1", cluster="", province="50"))
    assert [e.column for e in errors] == ["province_code"]


def test_a_secondary_area_may_serve_a_neighbouring_province() -> None:
    lines, errors = check_schools(school_row("12510001", esa="13S1", cluster="", province="12"))
    assert (lines, errors) == ([2], [])


def test_a_schools_cluster_must_exist_and_belong_to_its_esa_area() -> None:
    _, errors = check_schools(
        school_row("13010009", cluster="13P1-C99"), school_row("13010010", cluster="50P1-C01")
    )
    assert [(e.line, e.column) for e in errors] == [(2, "cluster_id"), (3, "cluster_id")]
    assert "belongs to ESA area 50P1" in errors[1].message


def test_a_school_without_a_cluster_is_accepted() -> None:
    _, errors = check_schools(school_row(cluster=""))
    assert errors == []


def test_rows_may_refer_to_good_rows_of_the_same_import_but_not_to_bad_ones() -> None:
    ref = Reference()
    validate_file(
        ESA_AREA,
        csv_text(ESA_HEADER, "13P2,ก,A,primary,13,2010-08-23", "13P3,ข,B,primary,99,2010-08-23"),
        ref,
    )
    good, errors = validate_file(
        CLUSTER,
        csv_text(
            CLUSTER_HEADER, "13P2-C01,ก,A,13P2,,training,2024-05-16", "13P3-C01,ข,B,13P3,,training,2024-05-16"
        ),
        ref,
    )
    assert [line for line, _ in good] == [2]
    assert [(e.line, e.column) for e in errors] == [(3, "esa_code")]


def test_a_teacher_needs_a_known_school_and_carries_its_org_path() -> None:
    ref = reference()
    good, errors = validate_file(
        TEACHER,
        csv_text(
            TEACHER_HEADER,
            "T13010001-09,13010001,ครูมาลี,,,,2024-05-16",
            "T13019999-01,13019999,ครูสมชาย,,,,2024-05-16",
        ),
        ref,
    )
    assert [(e.line, e.column) for e in errors] == [(3, "school_code")]
    assert org_of(good[0][1], ref) == Org("13010001", "13P1-C01", "13P1", "13")


# --- size bands ---


@pytest.mark.parametrize(
    ("students", "category"),
    [
        (0, "small"),
        (120, "small"),
        (121, "medium"),
        (600, "medium"),
        (601, "large"),
        (1500, "large"),
        (1501, "extra_large"),
    ],
)
def test_size_category_follows_obec_bands(students: int, category: str) -> None:
    assert size_category_for(students) == category


def test_a_size_category_contradicting_the_student_count_is_an_error() -> None:
    lines, errors = check_schools(
        school_row("13010009", size="small", students=121),
        school_row("13010010", size="medium", students=121),
    )
    assert lines == [3]
    assert [(e.line, e.column) for e in errors] == [(2, "size_category")]
    assert "medium" in errors[0].message


# --- deciding and planning ---


def test_classify_compares_with_the_stored_state() -> None:
    digest = b"a" * 16
    current = Current(3, "2024-05-16", digest)
    assert classify("2024-05-16", digest, None) is Verdict.CREATED
    assert classify("2024-05-16", digest, current) is Verdict.UNCHANGED
    assert classify("2025-05-16", digest, current) is Verdict.UNCHANGED  # same state, only a later date
    assert classify("2024-05-16", b"b" * 16, current) is Verdict.UPDATED  # a correction
    assert classify("2025-05-16", b"b" * 16, current) is Verdict.UPDATED  # a later effective state
    assert classify("2023-05-16", b"b" * 16, current) is Verdict.BACKDATED


def test_the_digest_ignores_the_effective_date_but_not_the_org_path() -> None:
    school = School("13010001", "ก", "A", "13P1", "13P1-C01", "13", "", "small", 80, 5, "2024-05-16")
    org = org_dict(Org("13010001", "13P1-C01", "13P1", "13"))
    later = payload(school) | {"effective_from": "2025-05-16"}
    assert state_digest(payload(school), org, SCHOOL.payload_fields) == state_digest(
        later, org, SCHOOL.payload_fields
    )
    moved = org | {"cluster_id": "13P1-C02"}
    assert state_digest(payload(school), org, SCHOOL.payload_fields) != state_digest(
        payload(school), moved, SCHOOL.payload_fields
    )


def test_plan_writes_versions_events_and_history() -> None:
    org = Org("13010001", "13P1-C01", "13P1", "13")
    new = School("13010001", "ก", "A", "13P1", "13P1-C01", "13", "", "small", 80, 5, "2025-05-16")
    fresh = School("13010002", "ข", "B", "13P1", "13P1-C01", "13", "", "small", 60, 3, "2024-05-16")
    items = [
        Pending(new, payload(new), org, b"x", Verdict.UPDATED, Current(2, "2024-05-16", b"y")),
        Pending(
            fresh, payload(fresh), Org("13010002", "13P1-C01", "13P1", "13"), b"z", Verdict.CREATED, None
        ),
    ]
    writes, counts = plan_writes(SCHOOL, items, {}, actor="import", correlation_id="c-1")
    assert counts == {"created": 1, "updated": 1, "unchanged": 0, "backdated": 0}
    assert [d["_id"] for d in writes.created] == ["13010002"]
    assert [(d["_id"], d["version"]) for d in writes.replaced] == [("13010001", 3)]
    assert writes.superseded == ["13010001"]  # the 2024 state moves to the history
    assert [(e["event_type"], e["aggregate_id"], e["aggregate_version"]) for e in writes.events] == [
        ("directory.SchoolRecorded", "13010001", 3),
        ("directory.SchoolRecorded", "13010002", 1),
    ]
    first = writes.events[0]
    assert (first["producer"], first["event_version"], first["correlation_id"]) == ("directory", 1, "c-1")
    assert first["org"] == org.as_dict()
    for event in writes.events:
        catalog.check(event)  # every event honours its contract


def test_a_backdated_state_goes_to_the_history_only_and_only_once() -> None:
    old = School("13010001", "ก", "A", "13P1", "13P1-C01", "13", "", "small", 80, 5, "2020-05-16")
    item = Pending(
        old,
        payload(old),
        Org("13010001", "13P1-C01", "13P1", "13"),
        b"x",
        Verdict.BACKDATED,
        Current(2, "2024-05-16", b"y"),
    )
    writes, counts = plan_writes(SCHOOL, [item], {}, actor="import", correlation_id="c")
    assert (counts["backdated"], len(writes.history), writes.events) == (1, 1, [])
    assert writes.history[0]["_id"] == "school|13010001|2020-05-16"
    writes, counts = plan_writes(
        SCHOOL, [item], {"school|13010001|2020-05-16": b"x"}, actor="import", correlation_id="c"
    )
    assert (counts["unchanged"], writes.empty()) == (1, True)


# --- the demo set ---


def validate_dir(directory: Path) -> tuple[dict[str, list], list[RowError]]:
    ref = Reference()
    good: dict[str, list] = {}
    errors: list[RowError] = []
    for kind in KINDS:
        with (directory / kind.file).open(encoding="utf-8") as stream:
            rows, bad = validate_file(kind, stream, ref)
        good[kind.name] = [record for _, record in rows]
        errors += bad
    return good, errors


def test_the_demo_set_is_valid_and_holds_the_demo_tokens() -> None:
    good, errors = validate_dir(DEMO)
    assert errors == []
    areas = {a.esa_code: a for a in good["esa_area"]}
    assert set(areas) == {"13P1", "13P2", "50P1", "13S1"}
    assert areas["13P1"].name_th == "สพป.ปทุมธานี เขต 1"
    assert {c.cluster_id for c in good["cluster"]} == {"13P1-C01", "13P1-C02", "13P2-C01", "50P1-C01"}
    schools = {s.school_code: s for s in good["school"]}
    assert 12 <= len(schools) <= 16
    assert (schools["13010001"].cluster_id, schools["50010001"].cluster_id) == ("13P1-C01", "50P1-C01")
    assert {s.size_category for s in schools.values()} == {"small", "medium", "large", "extra_large"}
    teachers = {t.teacher_id: t for t in good["teacher"]}
    assert teachers["T13010001-01"].name_th.startswith("ครูมาลี")
    per_school = Counter(t.school_code for t in teachers.values())
    assert set(per_school) == set(schools) and all(3 <= n <= 6 for n in per_school.values())
    assert all(re.fullmatch(rf"T{t.school_code}-\d\d", t.teacher_id) for t in teachers.values())


# --- the generator ---


def test_areas_cover_all_provinces_with_183_primary_and_62_secondary() -> None:
    areas = plan_areas()
    primary = [a for a in areas if a.level == "primary"]
    secondary = [a for a in areas if a.level == "secondary"]
    assert (len(primary), len(secondary)) == (183, 62)
    assert len({a.province.code for a in primary}) == 77
    assert sum(1 for a in primary if a.province.code == "10") == 1
    assert max(Counter(a.province.code for a in primary).values()) >= 4  # big provinces have several
    served = {d.province_code for a in secondary for d in a.districts}
    assert len(served) == 77
    assert all(re.fullmatch(r"\d\dP[1-9]", a.esa_code) for a in primary)
    assert all(re.fullmatch(r"\d\dS1", a.esa_code) for a in secondary)


@pytest.fixture(scope="module")
def small_set():
    return generate(schools=3000, seed=7)


def test_the_generator_makes_the_requested_shape(small_set) -> None:
    data = small_set
    assert (len(data.esa_areas), len(data.schools)) == (245, 3000)
    assert len({s["school_code"] for s in data.schools}) == 3000
    esa = {a["esa_code"]: a for a in data.esa_areas}
    clusters = {c["cluster_id"]: c for c in data.clusters}
    for s in data.schools:
        code, area = s["school_code"], esa[s["esa_code"]]
        number = int(s["esa_code"][3:]) + (50 if area["level"] == "secondary" else 0)
        assert re.fullmatch(r"\d{8}", code) and code[:2] == s["province_code"] and int(code[2:4]) == number
        assert (
            s["cluster_id"].startswith(f"{s['esa_code']}-C")
            and clusters[s["cluster_id"]]["esa_code"] == s["esa_code"]
        )
        assert size_category_for(s["students"]) == s["size_category"]
        assert s["teachers"] >= 2
    sizes = Counter(s["cluster_id"] for s in data.schools)
    per_area = Counter(s["esa_code"] for s in data.schools)
    for cluster_id, size in sizes.items():
        assert size <= 20 and (size >= 10 or per_area[clusters[cluster_id]["esa_code"]] < 10)
    assert all(re.fullmatch(r"\d\d[PS]\d-C\d\d", c) for c in clusters)


def test_the_generator_follows_the_obec_size_mix(small_set) -> None:
    mix = Counter(s["size_category"] for s in small_set.schools)
    expected = {"small": 0.50, "medium": 0.38, "large": 0.09, "extra_large": 0.03}
    for category, share in expected.items():
        assert mix[category] / 3000 == pytest.approx(share, abs=0.03), category
    students = sum(s["students"] for s in small_set.schools)
    teachers = small_set.teacher_count()
    assert 18 <= students / teachers <= 20.5
    assert 11 <= teachers / 3000 <= 15  # ≈ 380,000 teachers for 29,000 schools


def test_size_data_is_consistent_with_the_bands() -> None:
    for level_mix in SIZE_MIX.values():
        assert sum(level_mix.values()) == pytest.approx(1.0)
    for band in SIZE_BANDS:
        low, high, _ = STUDENT_RANGES[band.category]
        assert band.contains(low) and band.contains(high)


def test_teacher_rows_match_the_schools_teacher_counts(small_set) -> None:
    teachers = list(small_set.teachers())
    assert len(teachers) == small_set.teacher_count()
    assert len({t["teacher_id"] for t in teachers}) == len(teachers)
    first = small_set.schools[0]
    ids = [t["teacher_id"] for t in teachers if t["school_code"] == first["school_code"]]
    assert ids[:2] == [f"T{first['school_code']}-01", f"T{first['school_code']}-02"]
    assert len(ids) == first["teachers"]


def test_the_generator_is_deterministic() -> None:
    one, two, other = generate(400, seed=1), generate(400, seed=1), generate(400, seed=2)
    assert (one.schools, one.clusters) == (two.schools, two.clusters)
    assert list(one.teachers()) == list(two.teachers())
    assert one.schools != other.schools


def test_generated_files_pass_the_import_rules(tmp_path: Path) -> None:
    written = write_dataset(generate(600, seed=3), tmp_path, progress=False)
    good, errors = validate_dir(tmp_path)
    assert errors == []
    assert {name: len(good[k.name]) for name, k in zip(written, KINDS, strict=True)} == written


# --- importing with a stand-in store ---


class FakeRepository:
    """Stores in memory what the import would write."""

    def __init__(self) -> None:
        self.written: list = []

    def current_states(self, kind):
        return {}

    def write(self, writes) -> None:
        self.written.append(writes)


def test_a_thai_windows_encoded_file_is_reported_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "teachers.csv"
    path.write_bytes((TEACHER_HEADER + "\nT13010001-09,13010001,ครูมาลี,,,,2024-05-16\n").encode("cp874"))
    report = import_file(FakeRepository(), TEACHER, path, reference())
    assert [(e.line, e.message[:26]) for e in report.errors] == [(2, "the file is not UTF-8 text")]


def test_import_file_batches_good_rows_with_their_events(tmp_path: Path) -> None:
    path = tmp_path / "teachers.csv"
    rows = [f"T13010001-{n:02d},13010001,ครู{n},,,,2024-05-16" for n in range(1, 8)] + [
        "T1,99999999,x,,,,2024-05-16"
    ]
    path.write_text("\n".join([TEACHER_HEADER, *rows]) + "\n", encoding="utf-8")
    repo = FakeRepository()
    report = import_file(repo, TEACHER, path, reference(), batch_size=3, correlation_id="c")
    assert (report.rows, report.created, [e.line for e in report.errors]) == (8, 7, [9])
    assert [len(w.created) for w in repo.written] == [3, 3, 1]
    assert all(len(w.events) == len(w.created) and w.audit["target"] == "teachers.csv" for w in repo.written)
