"""Master data of basic education: ESA areas, clusters, schools and teachers, and the rules they obey.

Plain Python without I/O (the province list is reference data packaged with geothai). Each record mirrors
its `directory.*Recorded` payload in shared/catalog/directory.py; dates are ISO strings ("2024-05-16"),
the form they take in documents and on the wire.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, cached_property
from typing import Any, NamedTuple

import geothai

from shared.catalog.directory import MODELS
from shared.envelope import Org

PRIMARY, SECONDARY = "primary", "secondary"


@dataclass(frozen=True)
class SizeBand:
    category: str
    min_students: int
    max_students: int | None  # None: no upper bound

    def contains(self, students: int) -> bool:
        return students >= self.min_students and (self.max_students is None or students <= self.max_students)


# OBEC's school size bands by student count. Kept as data: OBEC has redrawn them before.
SIZE_BANDS: tuple[SizeBand, ...] = (
    SizeBand("small", 0, 120),
    SizeBand("medium", 121, 600),
    SizeBand("large", 601, 1500),
    SizeBand("extra_large", 1501, None),
)


def size_category_for(students: int, bands: tuple[SizeBand, ...] = SIZE_BANDS) -> str:
    for band in bands:
        if band.contains(students):
            return band.category
    raise ValueError(f"no size band holds {students} students")


@cache
def province_codes() -> frozenset[str]:
    return frozenset(p.code for p in geothai.provinces())


@dataclass(frozen=True)
class EsaArea:
    esa_code: str
    name_th: str
    name_en: str
    level: str
    province_code: str  # the area's seat; a secondary area may serve a neighbouring province too
    effective_from: str

    @property
    def key(self) -> str:
        return self.esa_code


@dataclass(frozen=True)
class Cluster:
    cluster_id: str
    name_th: str
    name_en: str
    esa_code: str
    province_code: str  # not in clusters.csv: the province of the cluster's ESA area
    coordinator: str
    models: tuple[str, ...]
    effective_from: str

    @property
    def key(self) -> str:
        return self.cluster_id


@dataclass(frozen=True)
class School:
    school_code: str
    name_th: str
    name_en: str
    esa_code: str
    cluster_id: str | None
    province_code: str
    amphoe: str
    size_category: str
    students: int
    teachers: int
    effective_from: str

    @property
    def key(self) -> str:
        return self.school_code


@dataclass(frozen=True)
class Teacher:
    teacher_id: str
    school_code: str
    name_th: str
    name_en: str
    email: str
    subject: str
    effective_from: str

    @property
    def key(self) -> str:
        return self.teacher_id


Record = EsaArea | Cluster | School | Teacher


@dataclass(frozen=True)
class Kind:
    """One kind of master record: its file, collection, key and event."""

    name: str
    record_type: type
    file: str
    collection: str
    key_field: str
    event_type: str

    @cached_property
    def payload_fields(self) -> tuple[str, ...]:
        return tuple(self.record_type.__dataclass_fields__)


ESA_AREA = Kind("esa_area", EsaArea, "esa_areas.csv", "esa_areas", "esa_code", "directory.EsaAreaRecorded")
CLUSTER = Kind("cluster", Cluster, "clusters.csv", "clusters", "cluster_id", "directory.ClusterRecorded")
SCHOOL = Kind("school", School, "schools.csv", "schools", "school_code", "directory.SchoolRecorded")
TEACHER = Kind("teacher", Teacher, "teachers.csv", "teachers", "teacher_id", "directory.TeacherRecorded")
KINDS: tuple[Kind, ...] = (ESA_AREA, CLUSTER, SCHOOL, TEACHER)  # dependency order


def payload(record: Record) -> dict[str, Any]:
    # a shallow copy: dataclasses.asdict deep-copies and was the import's biggest cost
    data = {name: getattr(record, name) for name in record.__dataclass_fields__}
    if isinstance(record, Cluster):
        data["models"] = list(record.models)
    return data


ORG_FIELDS = tuple(Org.__dataclass_fields__)


def org_dict(org: Org) -> dict[str, str | None]:
    return {name: getattr(org, name) for name in ORG_FIELDS}


@dataclass
class Reference:
    """What rows are checked against: the stored current records plus the good rows of this import."""

    esa_areas: dict[str, EsaArea] = field(default_factory=dict)
    clusters: dict[str, Org] = field(default_factory=dict)
    schools: dict[str, Org] = field(default_factory=dict)

    def remember(self, record: Record, org: Org) -> None:
        if isinstance(record, EsaArea):
            self.esa_areas[record.esa_code] = record
        elif isinstance(record, Cluster):
            self.clusters[record.cluster_id] = org
        elif isinstance(record, School):
            self.schools[record.school_code] = org


def cluster_province(esa_code: str, reference: Reference) -> str:
    """A cluster sits in its ESA area's province ("" while the area is unknown; the rules report that)."""
    area = reference.esa_areas.get(esa_code)
    return area.province_code if area else ""


def org_of(record: Record, reference: Reference) -> Org:
    """The org path stamped on the record's events; a teacher's is its school's."""
    if isinstance(record, EsaArea):
        return Org(None, None, record.esa_code, record.province_code)
    if isinstance(record, Cluster):
        return Org(None, record.cluster_id, record.esa_code, record.province_code)
    if isinstance(record, School):
        return Org(record.school_code, record.cluster_id, record.esa_code, record.province_code)
    school = reference.schools.get(record.school_code)
    return school or Org(record.school_code, None, None, None)


Problem = tuple[str, str]  # (column, message)


def problems(record: Record, reference: Reference) -> list[Problem]:
    """Every rule the record breaks, against the reference records."""
    if isinstance(record, EsaArea):
        return _esa_area_problems(record)
    if isinstance(record, Cluster):
        return _cluster_problems(record, reference)
    if isinstance(record, School):
        return _school_problems(record, reference)
    return _teacher_problems(record, reference)


def _unknown_province(code: str) -> list[Problem]:
    return [] if code in province_codes() else [("province_code", f"unknown province code {code!r}")]


def _esa_area_problems(area: EsaArea) -> list[Problem]:
    return _unknown_province(area.province_code)


def _cluster_problems(cluster: Cluster, reference: Reference) -> list[Problem]:
    if cluster.esa_code not in reference.esa_areas:
        return [("esa_code", f"unknown ESA area {cluster.esa_code!r}")]
    unknown = [m for m in cluster.models if m not in MODELS]
    return [("models", f"unknown network models {unknown}")] if unknown else []


def _school_problems(school: School, reference: Reference) -> list[Problem]:
    found = _unknown_province(school.province_code) + _size_problems(school)
    area = reference.esa_areas.get(school.esa_code)
    if area is None:
        return [*found, ("esa_code", f"unknown ESA area {school.esa_code!r}")]
    # Only a primary area is bounded by one province; a secondary area may serve two.
    if area.level == PRIMARY and area.province_code != school.province_code:
        found.append(
            (
                "province_code",
                f"school is in province {school.province_code} "
                f"but primary ESA area {area.esa_code} is in province {area.province_code}",
            )
        )
    if school.cluster_id is not None:
        found += _cluster_membership_problems(school, reference)
    return found


def _cluster_membership_problems(school: School, reference: Reference) -> list[Problem]:
    cluster = reference.clusters.get(school.cluster_id or "")
    if cluster is None:
        return [("cluster_id", f"unknown cluster {school.cluster_id!r}")]
    if cluster.esa_code != school.esa_code:
        return [
            (
                "cluster_id",
                f"cluster {school.cluster_id} belongs to ESA area {cluster.esa_code}, not {school.esa_code}",
            )
        ]
    return []


def _size_problems(school: School) -> list[Problem]:
    expected = size_category_for(school.students)
    if school.size_category == expected:
        return []
    return [
        (
            "size_category",
            f"{school.students} students make a {expected} school, not {school.size_category}",
        )
    ]


def _teacher_problems(teacher: Teacher, reference: Reference) -> list[Problem]:
    if teacher.school_code in reference.schools:
        return []
    return [("school_code", f"unknown school {teacher.school_code!r}")]


# --- history: a record's states by effective date; the current record is the latest effective one ---


class Current(NamedTuple):
    """What is needed of a stored current record to decide about an incoming row (kept compact: the
    national set has ~380,000 teachers)."""

    version: int
    effective_from: str
    digest: bytes


class Verdict(StrEnum):
    CREATED = "created"
    UPDATED = "updated"  # the current record changes: a correction or a later effective state
    UNCHANGED = "unchanged"
    BACKDATED = "backdated"  # an earlier effective state: it joins the history, the current record stays


def state_digest(data: dict[str, Any], org: dict[str, Any], fields: tuple[str, ...]) -> bytes:
    """A fingerprint of a record's state and org path, leaving out its effective date: a row that only
    restates the current record under a later date changes nothing."""
    state = [data.get(name) for name in fields if name != "effective_from"]
    path = [org.get(name) for name in ORG_FIELDS]
    canonical = json.dumps([state, path], ensure_ascii=False, default=str)
    return hashlib.blake2b(canonical.encode(), digest_size=16).digest()


def classify(effective_from: str, digest: bytes, current: Current | None) -> Verdict:
    if current is None:
        return Verdict.CREATED
    if effective_from < current.effective_from:
        return Verdict.BACKDATED
    return Verdict.UNCHANGED if digest == current.digest else Verdict.UPDATED
