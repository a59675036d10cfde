"""View reads through the monitoring API against aggregating the raw events on read.

The view side is `GET /api/v1/views/{level}/{code}` through Flask's test client, in process (the whole API
stack: token check, scope, the queries, the response schema and JSON encoding; no HTTP server or network, nor
the reader's JSON decoding, in the figure), for
national, province, district (ESA area) and school pages of semester 2/2568, as a national officer. The
views do not change while they are read, so after its first read a page comes from the figures cache
(services/monitoring/figures_cache.py). Every sampled page is read once before the clock starts: with 11 or 21
units cycled in the timed reads, their first reads (recomputations) would otherwise be the slowest 1 to 10 %
and make the p99. The same pages read with the cache off give what the first read after each projector batch
pays, in the details.

The baseline keeps every event in one `raw_events` collection (its payload, with the org path of the school
it is about, indexed by level and period) and computes the figures a page shows for the unit and each of its
children with one MongoDB aggregation per page (grouped per school, then per unit): visits done, schools
visited, the mean rubric score, PD hours, meetings held and the O-NET mean weighted by pupils tested. That is
fewer figures than the view serves, so the comparison favours the baseline. Once per level, the aggregate's
figures are checked equal to the view's.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from pymongo import ASCENDING
from pymongo.database import Database

from bench import dataset, projector
from bench.harness import Bench, Figure
from services.monitoring.api import FIGURES_CACHE
from services.monitoring.app import create_app
from services.monitoring.figures_cache import FiguresCache
from shared.auth import issue_token
from shared.clients import mongo_client
from shared.settings import Settings

RAW = "raw_events"
PERIOD = {"academic_year": dataset.YEAR, "semester": 2}
CHILD_FIELD = {"national": "province_code", "province": "esa_code", "esa": "cluster_id", "school": None}
LEVEL_FIELD = {"national": None, "province": "province_code", "esa": "esa_code", "school": "school_code"}
COUNTED = (
    "supervision.VisitCompleted",
    "training.CompletionAchieved",
    "committee.MeetingHeld",
    "achievement.ResultRecorded",
)
VIEW_READS = 1000  # per level, spread over several units: the p99 is the 10th slowest
RECOMPUTED_READS = 50  # per level, with the figures cache off
AGGREGATE_READS = 10
AGGREGATE_SECONDS = 20.0  # at most, per level


def run(ctx: Bench) -> list[Figure]:
    settings = views_ready(ctx)
    raw = raw_store(ctx)
    client, uncached = api_client(settings), api_client(settings, cached=False)
    units = sample_units(ctx)
    figures = []
    for level, codes in units.items():
        verify(client, raw, level, codes[0])  # also the warm-up of both sides
        for code in codes:  # each page's first read computes it: that cost is the recomputed figure's
            fetch(client, level, code)
        view_ms = timed(
            ctx, f"view reads: {level}", VIEW_READS, codes, lambda c, lv=level: fetch(client, lv, c)
        )
        recompute_ms = timed(
            ctx,
            f"view reads, recomputed: {level}",
            RECOMPUTED_READS,
            codes,
            lambda c, lv=level: fetch(uncached, lv, c),
        )
        agg_ms = timed(
            ctx,
            f"aggregate on read: {level}",
            AGGREGATE_READS,
            codes,
            lambda c, lv=level: aggregate(raw, lv, c),
            AGGREGATE_SECONDS,
        )
        figures.append(figure(ctx, level, view_ms, recompute_ms, agg_ms, len(codes)))
    return figures


def views_ready(ctx: Bench) -> Settings:
    """The settings of a database holding the projected views (the projector benchmark's, else made here)."""
    if "projected" not in ctx.shared:
        data = dataset.build(ctx)
        dataset.produce(ctx, data)
        settings = projector.fresh(ctx, "reads")
        projector.project(ctx, settings, projector.MEASURED, instances=1)
        ctx.shared["projected"] = settings
    return ctx.shared["projected"]


def api_client(settings: Settings, cached: bool = True) -> Any:
    """The monitoring API in process; `cached=False` recomputes every page, as the first read after each
    projector batch does."""
    app = create_app(settings)
    if not cached:
        app.extensions[FIGURES_CACHE] = FiguresCache(settings.projector_group, max_pages=0)
    app.config["TESTING"] = True
    client = app.test_client()
    token = issue_token(
        settings, sub="bench", role="national_officer", scope_level="national", scope_code=None
    )
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def read_view(client: FlaskClient, level: str, code: str) -> dict[str, Any]:
    return json.loads(fetch(client, level, code))


def fetch(client: FlaskClient, level: str, code: str) -> bytes:
    """The page's body as served (what is timed: decoding it is the reader's cost, not the server's)."""
    response = client.get(f"/api/v1/views/{level}/{code}", query_string=PERIOD)
    if response.status_code != 200:
        raise RuntimeError(
            f"GET view {level}/{code}: {response.status_code} {response.get_data(as_text=True)[:200]}"
        )
    return response.get_data()


# --- the raw store and its aggregation ---------------------------------------------------------------------


def raw_store(ctx: Bench) -> Database:
    """Every activity and results event with the org path of its school, stored once per run."""
    db = mongo_client(ctx.settings)[ctx.settings.db_name("raw")]
    if ctx.shared.get("raw_stored"):
        return db
    data, master = ctx.shared["dataset"], ctx.shared["master"]
    orgs = {s["school_code"]: dataset.school_org(s) for s in master.schools}
    topics = projector.MEASURED
    batch: list[dict[str, Any]] = []
    with ctx.progress("raw events into the store", data.count(topics)) as advance:
        for event in dataset.iter_decoded(data, topics):
            school = event["payload"].get("school_code")
            org = orgs.get(school, event["org"]) if school else event["org"]
            batch.append(
                {
                    "_id": event["event_id"],
                    "event_type": event["event_type"],
                    "org": org,
                    "payload": event["payload"],
                }
            )
            if len(batch) == 5000:
                db[RAW].insert_many(batch, ordered=False)
                advance(len(batch))
                batch = []
        if batch:
            db[RAW].insert_many(batch, ordered=False)
            advance(len(batch))
    period = [("payload.period.academic_year", ASCENDING), ("payload.period.semester", ASCENDING)]
    db[RAW].create_index([*period, ("event_type", ASCENDING)])
    for field in ("province_code", "esa_code", "school_code"):
        db[RAW].create_index([(f"org.{field}", ASCENDING), *period])
    ctx.shared["raw_stored"] = True
    return db


def _is(event_type: str) -> dict[str, Any]:
    return {"$eq": ["$event_type", event_type]}


def _sum_if(event_type: str, value: Any) -> dict[str, Any]:
    return {"$sum": {"$cond": [_is(event_type), value, 0]}}


def _per_school(child: str | None) -> dict[str, Any]:
    """First group: each school's sums (within the child unit the page breaks down by)."""
    visit, onet = (
        "supervision.VisitCompleted",
        {"$and": [_is("achievement.ResultRecorded"), {"$eq": ["$payload.test", "onet"]}]},
    )
    scores = {"$objectToArray": {"$ifNull": ["$payload.rubric_scores", {}]}}
    return {
        "$group": {
            "_id": {"child": f"$org.{child}" if child else None, "school": "$payload.school_code"},
            "visits_done": _sum_if(visit, 1),
            "rubric_sum": _sum_if(visit, {"$sum": {"$map": {"input": scores, "in": "$$this.v"}}}),
            "rubric_count": _sum_if(visit, {"$size": scores}),
            "pd_hours": _sum_if("training.CompletionAchieved", "$payload.hours_credited"),
            "meetings_held": _sum_if("committee.MeetingHeld", 1),
            "onet_sum": {"$sum": {"$cond": [onet, {"$multiply": ["$payload.mean", "$payload.tested"]}, 0]}},
            "onet_tested": {"$sum": {"$cond": [onet, "$payload.tested", 0]}},
        }
    }


# Second group: the schools' sums added up per child unit, and the schools with a visit counted. Two groups
# rather than `$addToSet` of visited schools: SecantusDB's $addToSet compares each value with every one in
# the set, quadratic in the nation's 29,000 schools (MongoDB hashes them).
SUMMED = ("visits_done", "rubric_sum", "rubric_count", "pd_hours", "meetings_held", "onet_sum", "onet_tested")
PER_UNIT = {
    "$group": {
        "_id": "$_id.child",
        **{name: {"$sum": f"${name}"} for name in SUMMED},
        "schools_visited": {
            "$sum": {
                "$cond": [{"$and": [{"$gt": ["$visits_done", 0]}, {"$ne": ["$_id.school", None]}]}, 1, 0]
            }
        },
    }
}


def aggregate(db: Database, level: str, code: str) -> dict[str | None, dict[str, Any]]:
    """The page's figures from the raw events: the unit's (key None) and each child's (key: its code)."""
    match: dict[str, Any] = {
        "payload.period.academic_year": PERIOD["academic_year"],
        "payload.period.semester": PERIOD["semester"],
        "event_type": {"$in": list(COUNTED)},
    }
    if LEVEL_FIELD[level]:
        match[f"org.{LEVEL_FIELD[level]}"] = code
    facets = {"unit": [_per_school(None), PER_UNIT]}
    if CHILD_FIELD[level]:
        facets["children"] = [_per_school(CHILD_FIELD[level]), PER_UNIT]
    found = next(db[RAW].aggregate([{"$match": match}, {"$facet": facets}]))
    rows = found["unit"] + found.get("children", [])
    return {row["_id"] if i >= len(found["unit"]) else None: _figures(row) for i, row in enumerate(rows)}


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "visits_done": row["visits_done"],
        "schools_visited": row["schools_visited"],
        "rubric_mean": round(row["rubric_sum"] / row["rubric_count"], 2) if row["rubric_count"] else None,
        "pd_hours": round(row["pd_hours"], 2),
        "meetings_held": row["meetings_held"],
        "onet_mean": round(row["onet_sum"] / row["onet_tested"], 2) if row["onet_tested"] else None,
    }


def _view_figures(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "visits_done": view["supervision"]["visits_done"],
        "schools_visited": view["supervision"]["schools_visited"],
        "rubric_mean": view["supervision"]["rubric_mean"],
        "pd_hours": round(view["training"]["pd_hours"], 2),
        "meetings_held": view["committee"]["meetings_held"],
        "onet_mean": view["achievement"]["onet_mean"],
    }


def verify(client: FlaskClient, db: Database, level: str, code: str) -> None:
    """The baseline computes what the view shows: the unit's and every child's figures must be equal (a mean
    the view suppresses for small cells is left out of the comparison)."""
    view, agg = read_view(client, level, code), aggregate(db, level, code)
    pairs = [(code, _view_figures(view), agg.get(None))]
    pairs += [
        (c["code"], _view_figures(c), agg.get(c["code"]))
        for c in view.get("children", [])
        if c["code"] in agg
    ]
    for unit, shown, computed in pairs:
        if computed is None:
            raise RuntimeError(f"{level} {unit}: the aggregation found nothing the view shows")
        if shown["onet_mean"] is None:
            computed = {**computed, "onet_mean": None}
        if not same_figures(shown, computed):
            raise RuntimeError(f"{level} {unit}: view {shown} != aggregate {computed}")


def same_figures(shown: dict[str, Any], computed: dict[str, Any]) -> bool:
    """Counts equal; sums and means rounded to 2 places within 0.01 (added in another order, a mean on the
    rounding boundary can round either way: 35.93 against 35.92 at full scale)."""
    if shown.keys() != computed.keys():
        return False
    for name, a in shown.items():
        b = computed[name]
        if isinstance(a, float) or isinstance(b, float):
            if a is None or b is None or abs(a - b) > 0.0100001:
                return False
        elif a != b:
            return False
    return True


# --- timing ------------------------------------------------------------------------------------------------


def sample_units(ctx: Bench) -> dict[str, list[str]]:
    """Units to read per level, the same ones for both sides. The first of each is the one verified: a
    province whose areas serve no other province (so its drill-down and the raw org paths agree)."""
    master = ctx.shared["master"]
    provinces = sorted({s["province_code"] for s in master.schools})
    areas = sorted({s["esa_code"] for s in master.schools if s["esa_code"].startswith("13")})
    others = sorted({s["esa_code"] for s in master.schools})[::25]
    schools = sorted(s["school_code"] for s in master.schools)
    return {
        "national": ["TH"],
        "province": ["13", *[p for p in provinces[::8] if p != "13"]],
        "esa": [areas[0], *others],
        "school": [next(s for s in schools if s.startswith("13")), *schools[:: max(1, len(schools) // 20)]],
    }


def timed(
    ctx: Bench,
    what: str,
    reads: int,
    codes: list[str],
    read: Callable[[str], Any],
    budget: float | None = None,
) -> list[float]:
    """Milliseconds per read, cycling over `codes`; past `budget` seconds it stops (a national aggregation
    of the full data set takes minutes, so there it may be a single read)."""
    times: list[float] = []
    began = time.perf_counter()
    with ctx.progress(what, reads) as advance:
        for i in range(reads):
            start = time.perf_counter()
            read(codes[i % len(codes)])
            times.append((time.perf_counter() - start) * 1000)
            advance(1)
            if budget is not None and time.perf_counter() - began > budget:
                break
    return times


def percentile(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figure(
    ctx: Bench, level: str, view_ms: list[float], recompute_ms: list[float], agg_ms: list[float], units: int
) -> Figure:
    p50, p99 = statistics.median(view_ms), percentile(view_ms, 0.99)
    agg_p50 = statistics.median(agg_ms)
    ratio = agg_p50 / p50
    title = {"national": "national", "province": "province", "esa": "district (ESA)", "school": "school"}[
        level
    ]
    return Figure(
        f"view_read_{level}",
        f"View read p99, {title} page",
        round(p99, 2),
        "ms",
        baseline="aggregate the raw events on read (p50)",
        baseline_value=round(agg_p50, 1),
        ratio=round(ratio, 1),
        target="p99 ≤ 20 ms, ≥ 100× faster",
        met=p99 <= 20 and ratio >= 100,
        details={
            "view_p50_ms": round(p50, 2),
            "view_p99_ms": round(p99, 2),
            "view_reads": len(view_ms),
            # what the first read after each projector batch pays (the figures cache is emptied by then)
            "recomputed_p50_ms": round(statistics.median(recompute_ms), 2),
            "recomputed_p99_ms": round(percentile(recompute_ms, 0.99), 2),
            "recomputed_reads": len(recompute_ms),
            "recomputed_vs_aggregate": round(agg_p50 / statistics.median(recompute_ms), 1),
            "aggregate_p50_ms": round(agg_p50, 1),
            "aggregate_p99_ms": round(percentile(agg_ms, 0.99), 1),
            "aggregate_reads": len(agg_ms),
            "units": units,
            "scale": ctx.scale.name,
            "how": "Flask test client in process, figures cache on (the views did not change during the reads; "
            "each page read once before the timed reads); "
            "ratio = aggregate p50 / view p50; verified equal once",
        },
    )
