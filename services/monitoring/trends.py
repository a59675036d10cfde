"""A unit's indicators and activity over several semesters: each semester read with the same figures
(`queries.figures_of`) and the same catalogue evaluation as the indicator table, so a trend point always
equals the table's value for that semester."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from services.monitoring import indicators, queries
from shared.auth import Principal
from shared.calendar import Period

# the activity a chart shows per network model: one count of its figures
ACTIVITY = {"supervision": "visits_done", "training": "sessions_held", "committee": "meetings_held"}


def unit_trends(
    db: Database,
    unit: dict[str, Any],
    periods: list[Period],
    options: queries.ReadOptions,
    viewer: Principal,
    catalogue: indicators.Catalogue,
) -> dict[str, Any]:
    """The unit alone (no children) in each period, oldest first: indicator values and activity counts."""
    series = [queries.figures_of(db, [unit], period, options, viewer=viewer)[0] for period in periods]
    values = [
        {row["code"]: row["value"] for row in indicators.evaluate(figures, period, catalogue)}
        for figures, period in zip(series, periods, strict=True)
    ]
    return {
        **{key: series[0][key] for key in ("level", "code", "name_th", "name_en")},
        "periods": [queries.period_dict(period) for period in periods],
        "indicators": {i.code: [row[i.code] for row in values] for i in catalogue},
        "activity": {
            model: [figures[model].get(count) for figures in series] for model, count in ACTIVITY.items()
        },
    }
