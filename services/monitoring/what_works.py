"""What works: how the achievement change of schools goes with their network's practice, against comparable
schools.

For one ESA area or province and one results year Y:
- each school's change is its O-NET mean in Y minus its mean in Y−1 (pupils tested weigh subjects and grades);
- its *relative* change is that minus the mean change of the other schools of the same province and size
  category (its comparables), so a year that was hard for everyone, or for small schools, does not count;
- its network (cluster) is described by the mix of the three models it practised during academic year Y and by
  its activity intensity: visits, coaching, mentoring and PLC sessions, training sessions held and committee
  meetings held, per school of the network;
- schools are grouped by mix and by intensity band, with counts and spread.

Only schools with at least the small-cell number of pupils tested in both years count, and a group of fewer
than MIN_GROUP schools shows no figures, so no single school's result can be read off. This is an association,
not a causal effect, and the answer says so.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from services.monitoring.achievement_figures import HEADLINE_TEST, headline_mean
from services.monitoring.views import UNITS, VIEWS, view_key
from shared.achievement_tests import RESULT_SEMESTER

MODELS = ("supervision", "training", "committee")
MIN_GROUP = 3
# activities per school of the network in the academic year: upper bounds of each band
INTENSITY_BANDS = (("none", 0.0), ("low", 3.0), ("medium", 8.0), ("high", float("inf")))
MODEL_NAMES = {
    "supervision": ("การนิเทศแบบร่วมมือ", "collaborative supervision"),
    "training": ("การอบรมแบบผสมผสาน", "hybrid training"),
    "committee": ("คณะกรรมการร่วมกับชุมชน", "community committees"),
}
BAND_NAMES = {
    "none": ("ไม่มีกิจกรรม", "no activity"),
    "low": ("น้อย", "low"),
    "medium": ("ปานกลาง", "medium"),
    "high": ("มาก", "high"),
}
CAVEAT = {
    "th": "ผลนี้แสดงความสัมพันธ์ ไม่ใช่เหตุและผล: โรงเรียนที่เลือกทำกิจกรรมมากอาจต่างจากโรงเรียนอื่นในด้านที่ไม่ได้วัด "
    "และกลุ่มที่มีโรงเรียนน้อยมีความคลาดเคลื่อนสูง",
    "en": "This is an association, not causation: schools that do more may differ from others in ways not "
    "measured here, and small groups vary widely by chance.",
}


@dataclass(frozen=True)
class School:
    code: str
    cluster: str | None
    size: str
    change: float


def what_works(db: Database, unit: dict[str, Any], year: int, min_tested: int) -> dict[str, Any]:
    """The analysis for `unit` (an ESA area or province document the caller may read) and results year `year`."""
    province = unit["org"]["province_code"]
    schools = list(db[UNITS].find({"level": "school", "org.province_code": province}))
    changes, reasons = _changes(db, schools, year, min_tested)
    relative = _relative_to_comparables(changes)
    field = "esa_code" if unit["level"] == "esa" else "province_code"
    inside = {s["code"] for s in schools if s.get("org", {}).get(field) == unit["code"]}
    analysed = [s for s in changes if s.code in inside and s.code in relative]
    reasons |= {s.code: "no_comparables" for s in changes if s.code not in relative}
    excluded = dict.fromkeys(("no_results", "small_cells", "no_comparables"), 0)
    for code in inside & set(reasons):
        excluded[reasons[code]] += 1
    networks = _networks(db, {s.cluster for s in analysed if s.cluster}, year)
    by_mix: dict[tuple[str, ...], list[School]] = defaultdict(list)
    by_band: dict[str, list[School]] = defaultdict(list)
    for school in analysed:
        mix, intensity = networks.get(school.cluster or "", ((), 0.0))
        by_mix[mix].append(school)
        by_band[_band(intensity)].append(school)
    return {
        "level": unit["level"],
        "code": unit["code"],
        "name_th": unit.get("name_th", unit["code"]),
        "name_en": unit.get("name_en", unit["code"]),
        "academic_year": year,
        "previous_year": year - 1,
        "schools_analysed": len(analysed),
        "schools_excluded": excluded,
        "by_mix": [_group(_mix_names(mix), schools, relative, networks) for mix, schools in _sorted(by_mix)],
        "by_intensity": [
            _group({"band": band, **_names(BAND_NAMES[band])}, by_band[band], relative, networks)
            for band, _ in INTENSITY_BANDS
            if by_band.get(band)
        ],
        "min_group": MIN_GROUP,
        "caveat_th": CAVEAT["th"],
        "caveat_en": CAVEAT["en"],
    }


def _changes(
    db: Database, schools: list[dict[str, Any]], year: int, min_tested: int
) -> tuple[list[School], dict[str, str]]:
    """Each school's O-NET change from the year before, and why the others have none."""
    keys = [
        view_key("school", s["code"], {"academic_year": y, "semester": RESULT_SEMESTER})
        for s in schools
        for y in (year - 1, year)
    ]
    found = db[VIEWS].find({"_id": {"$in": keys}}, {"code": 1, "period": 1, "achievement": 1})
    sections = {(d["code"], d["period"]["academic_year"]): d.get("achievement", {}) for d in found}
    changes, reasons = [], {}
    for s in schools:
        now, before = sections.get((s["code"], year)), sections.get((s["code"], year - 1))
        (mean, _), (previous, _) = headline_mean(now), headline_mean(before)
        if mean is None or previous is None:
            reasons[s["code"]] = "no_results"
        elif _smallest(now or {}, before or {}) < min_tested:
            reasons[s["code"]] = "small_cells"
        else:
            org = s.get("org", {})
            changes.append(
                School(s["code"], org.get("cluster_id"), s.get("size_category", ""), mean - previous)
            )
    return changes, reasons


def _smallest(*sections: dict[str, Any]) -> float:
    """The fewest pupils tested in any headline result of the sections."""
    tested = [
        cell.get("tested", 0)
        for section in sections
        for by_subject in section.get(HEADLINE_TEST, {}).values()
        for cell in by_subject.values()
        if cell.get("tested", 0) > 0
    ]
    return min(tested, default=0)


def _relative_to_comparables(changes: list[School]) -> dict[str, float]:
    """A school's change minus the mean change of the other schools of its size category (in its province)."""
    by_size: dict[str, list[School]] = defaultdict(list)
    for school in changes:
        by_size[school.size].append(school)
    relative = {}
    for peers in by_size.values():
        total = sum(p.change for p in peers)
        for school in peers:
            if len(peers) > 1:
                relative[school.code] = school.change - (total - school.change) / (len(peers) - 1)
    return relative


def _networks(db: Database, clusters: set[str], year: int) -> dict[str, tuple[tuple[str, ...], float]]:
    """Per network: the models it practised in academic year `year`, and its activities per school."""
    keys = [view_key("cluster", c, {"academic_year": year, "semester": s}) for c in clusters for s in (1, 2)]
    activity: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(MODELS, 0.0))
    for doc in db[VIEWS].find({"_id": {"$in": keys}}, {"code": 1, **dict.fromkeys(MODELS, 1)}):
        for model, count in _activities(doc).items():
            activity[doc["code"]][model] += count
    sizes = {
        u["code"]: u.get("schools_total", 0)
        for u in db[UNITS].find(
            {"level": "cluster", "code": {"$in": list(clusters)}}, {"code": 1, "schools_total": 1}
        )
    }
    return {
        c: (
            tuple(m for m in MODELS if activity[c][m] > 0),
            sum(activity[c].values()) / sizes[c] if sizes.get(c) else 0.0,
        )
        for c in clusters
    }


def _activities(view: dict[str, Any]) -> dict[str, float]:
    supervision, training, committee = (view.get(m, {}) for m in MODELS)
    return {
        "supervision": sum(
            supervision.get(k, 0)
            for k in ("visits_done", "coaching_sessions", "mentoring_sessions", "plc_sessions")
        ),
        "training": training.get("sessions_scheduled", 0) - training.get("sessions_cancelled", 0),
        "committee": committee.get("meetings_held", 0),
    }


def _band(intensity: float) -> str:
    return next(band for band, upper in INTENSITY_BANDS if intensity <= upper)


def _names(pair: tuple[str, str]) -> dict[str, str]:
    return {"label_th": pair[0], "label_en": pair[1]}


def _mix_names(mix: tuple[str, ...]) -> dict[str, Any]:
    if not mix:
        return {"mix": [], "label_th": "ไม่มีกิจกรรมเครือข่าย", "label_en": "no network activity"}
    return {
        "mix": list(mix),
        "label_th": " + ".join(MODEL_NAMES[m][0] for m in mix),
        "label_en": " + ".join(MODEL_NAMES[m][1] for m in mix),
    }


def _sorted(groups: dict[tuple[str, ...], list[School]]) -> list[tuple[tuple[str, ...], list[School]]]:
    """More models first, then in the models' order."""
    return sorted(groups.items(), key=lambda item: (-len(item[0]), [MODELS.index(m) for m in item[0]]))


SPREAD = (
    "mean_change",
    "mean_relative_change",
    "median_relative_change",
    "sd_relative_change",
    "p25_relative_change",
    "p75_relative_change",
    "min_relative_change",
    "max_relative_change",
)


def _group(
    label: dict[str, Any],
    schools: list[School],
    relative: dict[str, float],
    networks: dict[str, tuple[tuple[str, ...], float]],
) -> dict[str, Any]:
    values = sorted(relative[s.code] for s in schools)
    group = {
        **label,
        "schools": len(schools),
        "networks": len({s.cluster for s in schools if s.cluster in networks}),
        "too_few": len(values) < MIN_GROUP,
    }
    if group["too_few"]:
        return group | dict.fromkeys(SPREAD, None)
    quartiles = statistics.quantiles(values, n=4, method="inclusive")
    return group | {
        "mean_change": round(statistics.fmean(s.change for s in schools), 2),
        "mean_relative_change": round(statistics.fmean(values), 2),
        "median_relative_change": round(statistics.median(values), 2),
        "sd_relative_change": round(statistics.stdev(values), 2),
        "p25_relative_change": round(quartiles[0], 2),
        "p75_relative_change": round(quartiles[2], 2),
        "min_relative_change": round(values[0], 2),
        "max_relative_change": round(values[-1], 2),
    }
