"""Alert rules judged on hand-built figures: each fires past its threshold and not at it, overrides, messages."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.monitoring import alerts
from services.monitoring.alerts import state
from shared.calendar import Period
from shared.catalog import catalog
from shared.envelope import utcnow
from shared.settings import Settings

TODAY = date(2026, 12, 1)
SEM2 = alerts.Context(Period(2569, 2), TODAY, min_tested=5)
SEM1 = alerts.Context(Period(2569, 1), date(2026, 7, 1), min_tested=5)
ORG = {"school_code": "13010001", "cluster_id": "13P1-C01", "esa_code": "13P1", "province_code": "13"}


def figures(level: str = "school", code: str = "13010001", **sections: dict[str, Any]) -> dict[str, Any]:
    base: dict[str, Any] = {
        "level": level,
        "code": code,
        "name_th": "โรงเรียนบ้านหนองบัว",
        "name_en": "Ban Nong Bua School",
        "org": ORG if level == "school" else {k: v for k, v in ORG.items() if k != "school_code"},
        "supervision": {"days_since_visit": 10, "latest_visit_date": "2026-11-21", "follow_ups_overdue": 0},
        "training": {"pd_hours_year_per_teacher": 20.0},
        "committee": {"committees_total": 1, "committees_inactive": 0},
        "achievement": {"academic_year": None, "results": []},
    }
    for name, values in sections.items():
        base[name] = {**base[name], **values}
    return base


def rules(**overrides: Any) -> alerts.Rules:
    return alerts.with_overrides(alerts.base_rules(), overrides, {"committee_inactive_days": 90}, "test")


def fired(figs: dict[str, Any], ctx: alerts.Context = SEM2, **overrides: Any) -> dict[str, alerts.Verdict]:
    return {v.rule.code: v for v in alerts.firing(rules(**overrides), figs, ctx)}


def result(mean: float, previous: float, tested: int = 30, previous_tested: int = 30, **kw: Any) -> dict:
    return {
        "test": "onet",
        "grade": "P6",
        "subject": "math",
        "subject_name_th": "คณิตศาสตร์",
        "subject_name_en": "Mathematics",
        "mean": mean,
        "previous_mean": previous,
        "tested": tested,
        "previous_tested": previous_tested,
        "suppressed": False,
        "previous_suppressed": False,
        **kw,
    }


def with_results(*rows: dict[str, Any]) -> dict[str, Any]:
    return figures(achievement={"academic_year": 2568, "previous_year": 2567, "results": list(rows)})


# --- the rules file -------------------------------------------------------------------------------------


def test_every_rule_in_the_file_has_logic_and_defaults() -> None:
    effective = alerts.rules(Settings())
    assert [r.code for r in effective] == [
        "school_not_visited",
        "follow_ups_overdue",
        "pd_hours_behind",
        "committee_inactive",
        "achievement_drop",
    ]
    values = {r.code: r.values for r in effective}
    assert values["school_not_visited"] == {"days": 60}
    assert values["follow_ups_overdue"] == {"max_overdue": 0}
    assert values["pd_hours_behind"] == {"min_share": 0.5}
    assert values["committee_inactive"] == {"days": 90}  # from settings.committee_inactive_days
    assert values["achievement_drop"] == {"points": 5}
    assert alerts.rules(Settings(committee_inactive_days=30))[3].values == {"days": 30}


# --- school_not_visited -----------------------------------------------------------------------------------


def test_not_visited_fires_past_the_days_and_not_at_them() -> None:
    assert "school_not_visited" not in fired(figures(supervision={"days_since_visit": 60}))
    verdict = fired(figures(supervision={"days_since_visit": 61, "latest_visit_date": "2026-10-01"}))[
        "school_not_visited"
    ]
    assert (verdict.value, verdict.threshold) == (61, 60)
    assert verdict.evidence == "/api/v1/views/school/13010001"
    assert verdict.message_th == (
        "โรงเรียนบ้านหนองบัว ไม่ได้รับการนิเทศมาแล้ว 61 วัน (ครั้งล่าสุดเมื่อ 1 ต.ค. 2569) เกินเกณฑ์ 60 วัน"
    )
    assert "61 days" in verdict.message_en


def test_a_school_never_visited_fires_with_its_own_message() -> None:
    verdict = fired(figures(supervision={"days_since_visit": None, "latest_visit_date": None}))[
        "school_not_visited"
    ]
    assert verdict.value is None
    assert verdict.message_th == "โรงเรียนบ้านหนองบัว ยังไม่เคยได้รับการนิเทศ"
    assert verdict.message_en == "Ban Nong Bua School has never had a supervision visit"


def test_school_rules_do_not_apply_to_a_cluster() -> None:
    cluster = figures("cluster", "13P1-C01", supervision={"days_since_visit": None, "follow_ups_overdue": 9})
    assert set(fired(cluster)) == set()
    assert [r.code for r in alerts.applicable(rules(), "cluster")] == ["committee_inactive"]


# --- follow_ups_overdue ------------------------------------------------------------------------------------


def test_overdue_follow_ups_fire_above_the_allowance() -> None:
    assert "follow_ups_overdue" not in fired(figures())
    verdict = fired(figures(supervision={"follow_ups_overdue": 2}))["follow_ups_overdue"]
    assert (verdict.value, verdict.threshold) == (2, 0)
    assert verdict.evidence == "/api/v1/views/school/13010001?academic_year=2569&semester=2"
    assert "ภาคเรียนที่ 2/2569" in verdict.message_th
    assert "follow_ups_overdue" not in fired(
        figures(supervision={"follow_ups_overdue": 2}), follow_ups_overdue={"max_overdue": 2}
    )


# --- pd_hours_behind -------------------------------------------------------------------------------------


def test_pd_hours_fire_below_half_the_target_from_mid_year_only() -> None:
    # the yearly target is 20 hours: half is 10
    assert "pd_hours_behind" not in fired(figures(training={"pd_hours_year_per_teacher": 10.0}))
    verdict = fired(figures(training={"pd_hours_year_per_teacher": 9.99}))["pd_hours_behind"]
    assert (verdict.value, verdict.threshold) == (9.99, 10.0)
    assert "ร้อยละ 50" in verdict.message_th and "20 ชั่วโมง" in verdict.message_th
    assert "pd_hours_behind" not in fired(figures(training={"pd_hours_year_per_teacher": 0.0}), SEM1)
    assert "pd_hours_behind" not in fired(figures(training={"pd_hours_year_per_teacher": None}))


def test_pd_hours_share_override() -> None:
    behind = figures(training={"pd_hours_year_per_teacher": 12.0})
    assert "pd_hours_behind" not in fired(behind)
    assert fired(behind, pd_hours_behind={"min_share": 0.75})["pd_hours_behind"].threshold == 15.0


# --- committee_inactive ----------------------------------------------------------------------------------


def test_inactive_committees_fire_at_school_and_cluster() -> None:
    assert "committee_inactive" not in fired(figures())
    verdict = fired(figures(committee={"committees_total": 3, "committees_inactive": 1}))[
        "committee_inactive"
    ]
    assert (verdict.value, verdict.threshold) == (1, 90)
    assert verdict.evidence == "/api/v1/views/school/13010001?inactive_days=90"
    assert verdict.message_th.endswith("ไม่ได้ประชุมมานานกว่า 90 วัน จำนวน 1 คณะ จากทั้งหมด 3 คณะ")
    cluster = figures("cluster", "13P1-C01", committee={"committees_total": 2, "committees_inactive": 2})
    assert fired(cluster)["committee_inactive"].evidence == "/api/v1/views/cluster/13P1-C01?inactive_days=90"


def test_read_options_use_the_committee_rules_days() -> None:
    options = alerts.read_options(rules(committee_inactive={"days": 30}), TODAY, 5, inactive_days=90)
    assert (options.inactive_days, options.today, options.min_tested) == (30, TODAY, 5)


# --- achievement_drop ------------------------------------------------------------------------------------


def test_achievement_drop_fires_past_the_points_and_not_at_them() -> None:
    assert "achievement_drop" not in fired(with_results(result(55.0, 60.0)))  # exactly 5 points
    assert "achievement_drop" not in fired(with_results(result(55.1, 60.1)))  # float noise is still 5
    verdict = fired(with_results(result(54.9, 60.0)))["achievement_drop"]
    assert (verdict.value, verdict.threshold) == (5.1, 5)
    assert (
        verdict.evidence
        == "/api/v1/views/school/13010001?academic_year=2568&semester=2#achievement/onet/P6/math"
    )
    assert verdict.message_th == (
        "โรงเรียนบ้านหนองบัว คะแนนเฉลี่ย O-NET ชั้น ป.6 คณิตศาสตร์ ปีการศึกษา 2568 เท่ากับ 54.9 "
        "ลดลง 5.1 คะแนนจากปีการศึกษา 2567 (60) มากกว่าเกณฑ์ 5 คะแนน"
    )
    assert verdict.details[0]["subject"] == "math"


def test_achievement_drop_ignores_small_cells_in_either_year() -> None:
    assert "achievement_drop" not in fired(with_results(result(30.0, 60.0, tested=4)))
    assert "achievement_drop" not in fired(with_results(result(30.0, 60.0, previous_tested=4)))
    assert "achievement_drop" not in fired(with_results(result(30.0, 60.0, previous_tested=None)))
    assert "achievement_drop" in fired(with_results(result(30.0, 60.0, tested=5, previous_tested=5)))


def test_achievement_drop_names_the_worst_subject_and_counts_the_others() -> None:
    rows = [
        result(50.0, 57.0),
        result(40.0, 52.0, subject="thai", subject_name_th="ภาษาไทย", subject_name_en="Thai"),
        result(70.0, 60.0, subject="science"),
    ]
    verdict = fired(with_results(*rows))["achievement_drop"]
    assert verdict.value == 12.0
    assert verdict.evidence.endswith("#achievement/onet/P6/thai")
    assert "ภาษาไทย" in verdict.message_th and "อีก 1 รายการ" in verdict.message_th
    assert [d["subject"] for d in verdict.details] == ["thai", "math"]
    assert "achievement_drop" not in fired(with_results(*rows), achievement_drop={"points": 12})


def test_no_results_means_no_achievement_verdict() -> None:
    assert "achievement_drop" not in fired(figures())


# --- overrides ---------------------------------------------------------------------------------------------


def test_threshold_overrides_change_when_rules_fire() -> None:
    figs = figures(supervision={"days_since_visit": 31})
    assert "school_not_visited" not in fired(figs)
    verdict = fired(figs, school_not_visited={"days": 30})["school_not_visited"]
    assert verdict.threshold == 30 and "เกินเกณฑ์ 30 วัน" in verdict.message_th


def test_an_overrides_file_is_read_from_settings(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"school_not_visited": {"days": 45}, "committee_inactive": {"days": 120}}))
    effective = {r.code: r.values for r in alerts.rules(Settings(alert_rules_file=str(path)))}
    assert effective["school_not_visited"] == {"days": 45}
    assert effective["committee_inactive"] == {"days": 120}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"no_such_rule": {"days": 1}}, "unknown alert rules"),
        ({"school_not_visited": {"weeks": 1}}, "some of the thresholds"),
        ({"school_not_visited": {"days": 0}}, "from 1 to 3650"),
        ({"school_not_visited": {"days": 10.5}}, "whole number"),
        ({"school_not_visited": {"days": "60"}}, "expected a number"),
        ({"school_not_visited": {"days": None}}, "expected a number"),
        ({"pd_hours_behind": {"min_share": 1.5}}, "from 0 to 1"),
        ({"achievement_drop": {"points": True}}, "expected a number"),
        ([], "expected an object"),
    ],
)
def test_invalid_overrides_are_refused_with_a_clear_error(overrides: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        alerts.with_overrides(alerts.base_rules(), overrides, {"committee_inactive_days": 90}, "f.json")


def test_an_unreadable_overrides_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        alerts.rules(Settings(alert_rules_file=str(bad)))
    with pytest.raises(ValueError, match="cannot be read"):
        alerts.rules(Settings(alert_rules_file=str(tmp_path / "missing.json")))


def test_a_rules_file_with_an_unknown_placeholder_is_refused() -> None:
    raw = json.loads(alerts.RULES_FILE.read_text("utf-8"))
    raw[1]["messages"]["overdue"]["th"] = "{name_th} {nonsense}"
    with pytest.raises(ValueError, match="bad placeholder"):
        alerts.parse(raw)
    raw = json.loads(alerts.RULES_FILE.read_text("utf-8"))
    raw[0]["levels"] = ["galaxy"]
    with pytest.raises(ValueError, match="levels"):
        alerts.parse(raw)


def test_rules_describe_their_effective_thresholds() -> None:
    described = rules(school_not_visited={"days": 30})[0].describe()
    assert described["thresholds"][0] | {"label_th": "", "label_en": ""} == {
        "name": "days",
        "value": 30,
        "default": 60,
        "setting": None,
        "min": 1,
        "max": 3650,
        "integer": True,
        "label_th": "",
        "label_en": "",
    }


# --- events ------------------------------------------------------------------------------------------------


def test_transition_events_meet_their_contract() -> None:
    verdict = fired(figures(supervision={"days_since_visit": None}))["school_not_visited"]
    now = utcnow()
    doc = {**state._identity(verdict), **state._content(verdict), "raised_at": now, "version": 1}
    raised = state._event("monitoring.AlertRaised", doc, now)
    catalog.check(raised)
    assert raised["org"] == ORG and raised["aggregate_id"] == "school_not_visited:school:13010001"
    cleared = state._event("monitoring.AlertCleared", {**doc, "cleared_at": now, "version": 2}, now)
    catalog.check(cleared)
    assert cleared["payload"]["message_th"].startswith("ยกเลิกการแจ้งเตือน “โรงเรียนไม่ได้รับการนิเทศเป็นเวลานาน”")
    decoded = catalog.decode(catalog.serialize(cleared))
    assert decoded["payload"]["evidence"] == "/api/v1/views/school/13010001"
