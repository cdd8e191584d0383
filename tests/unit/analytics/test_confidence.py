"""The 95% intervals of experiment results, checked against Newcombe's published values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.analytics import confidence


def rounded(interval: confidence.Interval) -> tuple[float, float]:
    return round(interval.lower, 4), round(interval.upper, 4)


class TestWilson:
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I.
    @pytest.mark.parametrize(
        ("successes", "trials", "expected"),
        [
            (81, 263, (0.2553, 0.3662)),
            (15, 148, (0.0624, 0.1605)),
            (0, 20, (0.0, 0.1611)),
            (1, 29, (0.0061, 0.1718)),
        ],
    )
    def test_matches_the_published_intervals(
        self, successes: int, trials: int, expected: tuple[float, float]
    ) -> None:
        assert rounded(confidence.wilson(successes, trials)) == expected

    def test_uses_the_95_percent_normal_quantile(self) -> None:
        assert pytest.approx(1.959963984540054) == confidence.Z

    def test_needs_at_least_one_trial(self) -> None:
        with pytest.raises(confidence.EmptySample):
            confidence.wilson(0, 0)

    def test_refuses_more_successes_than_trials(self) -> None:
        with pytest.raises(ValueError, match="between 0 and trials"):
            confidence.wilson(3, 2)


class TestNewcombe:
    # Newcombe (1998), "Interval estimation for the difference between independent
    # proportions: comparison of eleven methods", Table II, method 10.
    @pytest.mark.parametrize(
        ("first", "second", "expected"),
        [
            ((56, 70), (48, 80), (0.0524, 0.3339)),
            ((9, 10), (3, 10), (0.1705, 0.8090)),
            ((6, 7), (2, 7), (0.0582, 0.8062)),
            ((5, 56), (0, 29), (-0.0381, 0.1926)),
        ],
    )
    def test_matches_the_published_intervals(
        self,
        first: tuple[int, int],
        second: tuple[int, int],
        expected: tuple[float, float],
    ) -> None:
        interval = confidence.newcombe(*first, *second)
        assert rounded(interval) == expected
        assert interval.estimate == pytest.approx(first[0] / first[1] - second[0] / second[1])

    def test_a_clear_difference_excludes_zero_and_a_null_one_does_not(self) -> None:
        assert confidence.newcombe(9, 10, 3, 10).excludes_zero()
        assert not confidence.newcombe(5, 56, 0, 29).excludes_zero()

    def test_needs_trials_on_both_sides(self) -> None:
        with pytest.raises(confidence.EmptySample):
            confidence.newcombe(1, 2, 0, 0)

    @given(
        n1=st.integers(min_value=1, max_value=5000),
        n2=st.integers(min_value=1, max_value=5000),
        data=st.data(),
    )
    def test_always_holds_the_estimate_within_minus_one_and_one(
        self, n1: int, n2: int, data: st.DataObject
    ) -> None:
        x1 = data.draw(st.integers(min_value=0, max_value=n1))
        x2 = data.draw(st.integers(min_value=0, max_value=n2))
        interval = confidence.newcombe(x1, n1, x2, n2)
        assert -1 - 1e-9 <= interval.lower <= interval.estimate <= interval.upper <= 1 + 1e-9
        assert interval.upper > interval.lower
