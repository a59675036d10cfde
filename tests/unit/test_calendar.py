from datetime import date

import pytest

from shared.calendar import Period, period_of, periods_ending


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 5, 16), Period(2569, 1)),
        (date(2026, 10, 20), Period(2569, 1)),  # the October break belongs to the semester just ended
        (date(2026, 11, 23), Period(2569, 2)),
        (date(2027, 2, 1), Period(2569, 2)),
        (date(2020, 6, 15), Period(2562, 2)),  # 2563 started late, in July 2020
        (date(2020, 7, 1), Period(2563, 1)),
        (date(2035, 6, 1), Period(2578, 1)),  # outside the stored years: rule of thumb
    ],
)
def test_period_of(day: date, expected: Period) -> None:
    assert period_of(day) == expected


def test_labels_show_buddhist_era() -> None:
    assert Period(2569, 2).label("th") == "ภาคเรียนที่ 2/2569"
    assert "2026" in Period(2569, 2).label("en")


def test_the_semester_before_crosses_the_academic_year() -> None:
    assert Period(2569, 2).previous() == Period(2569, 1)
    assert Period(2569, 1).previous() == Period(2568, 2)


def test_periods_ending_are_oldest_first() -> None:
    assert periods_ending(Period(2569, 1), 4) == [
        Period(2567, 2),
        Period(2568, 1),
        Period(2568, 2),
        Period(2569, 1),
    ]
    assert periods_ending(Period(2569, 2), 1) == [Period(2569, 2)]
