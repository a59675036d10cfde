"""The conditions of the alert rules, judged on one unit's figures (a `queries.figures_of` item): each rule
code registers its logic here with the thresholds and message variants its JSON must define."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from services.monitoring import queries
from shared.achievement_tests import RESULT_SEMESTER
from shared.calendar import BE_OFFSET, Period
from shared.targets import pd_hours_target

if TYPE_CHECKING:
    from services.monitoring.alerts.rules import Rule, Rules

TEST_LABELS = {"onet": "O-NET", "nt": "NT", "rt": "RT", "gpa": "GPA"}
GRADE_TH = {"P": "ป.", "M": "ม."}
THAI_MONTHS = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)


@dataclass(frozen=True)
class Context:
    """What a rule is judged against besides the figures: the period read, today, the small-cell size."""

    period: Period
    today: date
    min_tested: int


@dataclass(frozen=True)
class Finding:
    """What a rule measured on one unit; messages and details matter only when it fires."""

    value: float | None
    threshold: float
    firing: bool
    evidence: str
    variant: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)


Evaluator = Callable[["Rule", dict[str, Any], Context], "Finding | None"]


@dataclass(frozen=True)
class Logic:
    evaluate: Evaluator
    thresholds: tuple[str, ...]
    variants: tuple[str, ...]
    params: tuple[str, ...]  # placeholders of its own


LOGIC: dict[str, Logic] = {}


def logic(
    code: str, thresholds: tuple[str, ...], variants: tuple[str, ...], params: tuple[str, ...] = ()
) -> Callable[[Evaluator], Evaluator]:
    """Register the logic of a rule code; its JSON must define exactly these thresholds and variants."""

    def decorate(fn: Evaluator) -> Evaluator:
        LOGIC[code] = Logic(fn, thresholds, variants, params)
        return fn

    return decorate


def view_url(figures: dict[str, Any], **query: Any) -> str:
    """The relative URL of the view a rule read (the alert's evidence)."""
    url = f"/api/v1/views/{figures['level']}/{figures['code']}"
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def thai_date(iso: str | None) -> str:
    """2026-10-01 as Thai readers write it: 1 ต.ค. 2569 (Buddhist Era)."""
    if not iso:
        return "-"
    day = date.fromisoformat(iso)
    return f"{day.day} {THAI_MONTHS[day.month - 1]} {day.year + BE_OFFSET}"


def _period_query(ctx: Context) -> dict[str, int]:
    return {"academic_year": ctx.period.academic_year, "semester": ctx.period.semester}


@logic("school_not_visited", ("days",), ("visited", "never"), ("latest_visit_date", "latest_visit_date_th"))
def _not_visited(rule: Rule, figures: dict[str, Any], ctx: Context) -> Finding:
    """More than `days` since the latest completed visit in any semester, or never visited."""
    supervision = figures.get("supervision") or {}
    days, since = rule.values["days"], supervision.get("days_since_visit")
    evidence = view_url(figures)
    if since is None:
        return Finding(
            None, days, True, evidence, "never", {"latest_visit_date": "-", "latest_visit_date_th": "-"}
        )
    latest_date = supervision.get("latest_visit_date")
    latest = {"latest_visit_date": latest_date, "latest_visit_date_th": thai_date(latest_date)}
    return Finding(since, days, since > days, evidence, "visited", latest)


@logic("follow_ups_overdue", ("max_overdue",), ("overdue",))
def _follow_ups(rule: Rule, figures: dict[str, Any], ctx: Context) -> Finding:
    overdue = (figures.get("supervision") or {}).get("follow_ups_overdue") or 0
    limit = rule.values["max_overdue"]
    return Finding(overdue, limit, overdue > limit, view_url(figures, **_period_query(ctx)), "overdue")


@logic("pd_hours_behind", ("min_share",), ("behind",), ("target", "min_share_percent"))
def _pd_hours(rule: Rule, figures: dict[str, Any], ctx: Context) -> Finding | None:
    """From mid-year (semester 2): year-to-date hours per teacher below a share of the yearly target."""
    per_teacher = (figures.get("training") or {}).get("pd_hours_year_per_teacher")
    if ctx.period.semester != 2 or per_teacher is None:
        return None  # not judged before mid-year, nor without teachers
    target = pd_hours_target(ctx.period.academic_year)
    share = rule.values["min_share"]
    minimum = round(share * target, 2)
    params = {"target": target, "min_share_percent": round(share * 100, 1)}
    evidence = view_url(figures, **_period_query(ctx))
    return Finding(per_teacher, minimum, per_teacher < minimum, evidence, "behind", params)


@logic("committee_inactive", ("days",), ("inactive",), ("total",))
def _committees(rule: Rule, figures: dict[str, Any], ctx: Context) -> Finding:
    """Any committee without a meeting for more than `days` (the figures must be read with that many days:
    see `read_options`)."""
    committee = figures.get("committee") or {}
    days, inactive = rule.values["days"], committee.get("committees_inactive") or 0
    params = {"total": committee.get("committees_total", 0)}
    evidence = view_url(figures, inactive_days=int(days))
    return Finding(inactive, days, inactive > 0, evidence, "inactive", params)


@logic(
    "achievement_drop",
    ("points",),
    ("one", "many"),
    (
        "test",
        "grade",
        "grade_th",
        "subject_th",
        "subject_en",
        "mean",
        "previous_mean",
        "previous_year",
        "others",
    ),
)
def _achievement(rule: Rule, figures: dict[str, Any], ctx: Context) -> Finding | None:
    """Any result whose mean fell by more than `points` from the year before, counting only results with at
    least `min_tested` pupils in both years, so an alert never reveals a suppressed small cell."""
    achievement = figures.get("achievement") or {}
    year, points = achievement.get("academic_year"), rule.values["points"]
    if year is None:
        return None  # no results yet
    results = achievement.get("results") or []
    drops = sorted(
        (d for row in results if (d := _drop(row, ctx.min_tested))),
        key=lambda d: (-d["drop"], d["test"], d["grade"], d["subject"]),
    )
    evidence = view_url(figures, academic_year=year, semester=RESULT_SEMESTER)
    if not drops:
        return Finding(None, points, False, evidence)
    firing = [d for d in drops if d["drop"] > points]
    worst = (firing or drops)[0]
    evidence += f"#achievement/{worst['test']}/{worst['grade']}/{worst['subject']}"  # names the subject
    params = _drop_params(worst, year, len(firing) - 1)
    variant = "many" if len(firing) > 1 else "one"
    return Finding(worst["drop"], points, bool(firing), evidence, variant, params, firing)


def _drop(row: dict[str, Any], min_tested: int) -> dict[str, Any] | None:
    """A result's fall from the year before (negative: it rose), when both years are large enough."""
    mean, previous = row.get("mean"), row.get("previous_mean")
    tested, previous_tested = row.get("tested"), row.get("previous_tested")
    if None in (mean, previous, tested, previous_tested) or row.get("suppressed"):
        return None
    if tested < min_tested or previous_tested < min_tested or row.get("previous_suppressed"):
        return None
    keys = ("test", "grade", "subject", "subject_name_th", "subject_name_en", "tested", "previous_tested")
    return {
        **{k: row.get(k) for k in keys},
        "mean": mean,
        "previous_mean": previous,
        "drop": round(previous - mean, 2),  # rounded first: 60.1 − 55.1 is exactly 5 points
    }


def _drop_params(drop: dict[str, Any], year: int, others: int) -> dict[str, Any]:
    grade = str(drop["grade"])
    return {
        "test": TEST_LABELS.get(drop["test"], str(drop["test"]).upper()),
        "grade": grade,
        "grade_th": GRADE_TH.get(grade[:1], grade[:1]) + grade[1:],
        "subject_th": drop.get("subject_name_th") or drop["subject"],
        "subject_en": drop.get("subject_name_en") or drop["subject"],
        "mean": drop["mean"],
        "previous_mean": drop["previous_mean"],
        "academic_year": year,
        "previous_year": year - 1,
        "others": others,
    }


# --- judging one unit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """One rule on one unit: firing (with its messages) or not; `value` is what was measured, if anything."""

    rule: Rule
    unit: dict[str, Any]  # level, code, name_th, name_en, org (from the figures)
    firing: bool
    value: float | None = None
    threshold: float | None = None
    message_th: str = ""
    message_en: str = ""
    evidence: str = ""
    details: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return alert_key(self.rule.code, self.unit["level"], self.unit["code"])


def alert_key(rule: str, level: str, code: str) -> str:
    return f"{rule}:{level}:{code}"


def applicable(rules: Rules, level: str) -> list[Rule]:
    return [rule for rule in rules if level in rule.levels]


def judge(rules: Rules, figures: dict[str, Any], ctx: Context) -> list[Verdict]:
    """Every rule applying to the unit's level, judged on its figures (a `queries.figures_of` item)."""
    unit = {k: figures.get(k) for k in ("level", "code", "name_th", "name_en", "org")}
    verdicts = []
    for rule in applicable(rules, figures["level"]):
        found = LOGIC[rule.code].evaluate(rule, figures, ctx)
        if found is None:
            verdicts.append(Verdict(rule, unit, False))
        elif not found.firing:
            verdicts.append(Verdict(rule, unit, False, found.value, found.threshold))
        else:
            th, en = messages(rule, found, unit, ctx)
            verdict = Verdict(
                rule, unit, True, found.value, found.threshold, th, en, found.evidence, found.details
            )
            verdicts.append(verdict)
    return verdicts


def firing(rules: Rules, figures: dict[str, Any], ctx: Context) -> list[Verdict]:
    """The alerts that fire for one unit."""
    return [v for v in judge(rules, figures, ctx) if v.firing]


def messages(rule: Rule, found: Finding, unit: dict[str, Any], ctx: Context) -> tuple[str, str]:
    params = {
        "name_th": unit.get("name_th") or unit.get("code"),
        "name_en": unit.get("name_en") or unit.get("code"),
        "value": found.value,
        "threshold": found.threshold,
        "academic_year": ctx.period.academic_year,
        "period_th": ctx.period.label("th"),
        "period_en": ctx.period.label("en"),
        **rule.values,
        **found.params,
    }
    shown = {name: _number(value) for name, value in params.items()}
    templates = rule.messages[found.variant]
    return templates["th"].format(**shown), templates["en"].format(**shown)


def _number(value: Any) -> Any:
    """12.0 reads as 12, 3.456 as 3.46; everything else as it is."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 2)
    return value


def read_options(rules: Rules, today: date, min_tested: int, inactive_days: int) -> queries.ReadOptions:
    """The figures' read options: committees are inactive after the committee rule's days, if it exists."""
    rule = next((r for r in rules if r.code == "committee_inactive"), None)
    days = int(rule.values["days"]) if rule else inactive_days
    return queries.ReadOptions(days, today, min_tested)
