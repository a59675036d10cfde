"""Policy targets shared by the services that act on them and the views that report them."""

from __future__ import annotations

# PD hours a teacher should earn per academic year (Buddhist Era); None is the default for other years.
PD_HOURS_TARGETS: dict[int | None, float] = {None: 20.0}


def pd_hours_target(academic_year: int) -> float:
    return PD_HOURS_TARGETS.get(academic_year, PD_HOURS_TARGETS[None])
