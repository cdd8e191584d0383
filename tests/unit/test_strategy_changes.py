"""How two strategy versions differ: typed diff lines and changes in plain English."""

from __future__ import annotations

import yaml

from accord.storage import extract
from accord.strategy import definition
from accord.usecases import strategies


def changed(edit: object) -> list[str]:
    data = yaml.safe_load(definition.default_source())
    edit(data)  # type: ignore[operator]
    return strategies.describe_changes(definition.load(), definition.parse(data, source="edited"))


class TestDescribeChanges:
    def test_the_same_rules_have_no_changes(self) -> None:
        assert changed(lambda data: None) == []

    def test_a_removed_segment_and_a_changed_condition_are_named(self) -> None:
        def edit(data: dict) -> None:  # type: ignore[type-arg]
            data["segments"] = [s for s in data["segments"] if s["name"] != "vulnerable"]
            data["paths"].pop("supportive")
            data["segments"][0]["when"]["stages"] = ["EARLY"]

        found = changed(edit)
        assert "Segment vulnerable removed." in found
        assert "Path supportive removed." in found
        assert "Segment early_arrears: condition stages changed to EARLY (was EARLY, PRE_DUE)." in (
            found
        )

    def test_arms_steps_and_settings_are_named(self) -> None:
        def edit(data: dict) -> None:  # type: ignore[type-arg]
            arms = data["segments"][1]["experiment"]["arms"]
            arms[0]["percent"], arms[1]["percent"] = 80, 20
            data["paths"]["standard"]["steps"][3]["from_dpd"] = 45
            data["paths"]["standard"]["steps"][1]["channels"] = ["SMS", "EMAIL"]
            data["recent_payment_days"] = 10

        found = changed(edit)
        assert any(
            c.startswith("Segment early_arrears: experiment early-sms-first arms") for c in found
        )
        assert (
            "Path standard: step PLAN_OFFER now starts 45 days past due (was 61 days past due)."
            in found
        )
        assert "Path standard: step LATE_NOTICE channels SMS, EMAIL (was EMAIL, SMS, LETTER)." in (
            found
        )
        assert "Recent-payment days changed from 7 to 10." in found


class TestDiffLines:
    def test_lines_are_typed_without_file_headers(self) -> None:
        lines = strategies.diff_lines("a\nb\nc\n", "a\nB\nc\n")
        assert [(line.kind.value, line.text) for line in lines] == [
            ("hunk", "@@ -1,3 +1,3 @@"),
            ("context", "a"),
            ("remove", "b"),
            ("add", "B"),
            ("context", "c"),
        ]

    def test_equal_texts_have_no_lines(self) -> None:
        assert strategies.diff_lines("a\n", "a\n") == []


class TestPlaceholders:
    def test_django_placeholders_become_the_drivers(self) -> None:
        sql = "SELECT 1 WHERE a = %s AND b IN (%s)"
        assert extract._placeholders(sql, "sqlite") == "SELECT 1 WHERE a = ? AND b IN (?)"
        assert extract._placeholders(sql, "postgresql") == "SELECT 1 WHERE a = $1 AND b IN ($2)"
