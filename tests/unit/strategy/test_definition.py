"""Strategy files are validated with errors that say where the problem is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from accord.domain import arrears
from accord.storage import models
from accord.strategy import definition


def default_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(definition.DEFAULT_PATH.read_text())
    return loaded


class TestDefaultStrategy:
    def test_loads_with_a_name_a_version_and_a_rule_per_collections_stage(self) -> None:
        strategy = definition.load()
        assert strategy.label == "default@2026.11.1"
        stages = {stage for rule in strategy.rules for stage in rule.stages}
        assert arrears.DelinquencyStage.CURRENT not in stages
        assert stages == set(arrears.DelinquencyStage) - {arrears.DelinquencyStage.CURRENT}
        assert strategy.thresholds == arrears.DEFAULT_STAGE_THRESHOLDS
        assert strategy.buckets == arrears.DEFAULT_BUCKETS

    def test_sends_written_treatments_by_email_first_and_calls_only_as_tasks(self) -> None:
        for rule in definition.load().rules:
            if rule.treatment is definition.Treatment.CALL_TASK:
                assert rule.channels == (definition.Channel.CALL,)
            else:
                assert rule.channels[0] is definition.Channel.EMAIL
            assert rule.every_days >= 1

    def test_gives_a_plan_five_days_of_grace_unless_told_otherwise(self) -> None:
        assert definition.load().plan_grace_days == 5
        document = default_document()
        del document["plan_grace_days"]
        assert definition.parse(document).plan_grace_days == definition.DEFAULT_PLAN_GRACE_DAYS
        document["plan_grace_days"] = 0
        assert definition.parse(document).plan_grace_days == 0

    def test_uses_the_same_treatment_and_channel_values_as_the_database(self) -> None:
        assert {t.value for t in definition.Treatment} == set(models.Treatment.values)
        assert {c.value for c in definition.Channel} <= set(models.Channel.values)


class TestInvalidStrategies:
    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (lambda d: d.pop("version"), "version is required"),
            (lambda d: d.update(colour="red"), "unknown key 'colour'"),
            (lambda d: d["stages"].update(early_max=200), "stages: thresholds must satisfy"),
            (lambda d: d.update(bucket_edges=[60, 30]), "strictly increasing"),
            (lambda d: d["treatments"][0].update(every_days=0), r"treatments\[0\].every_days"),
            (lambda d: d["treatments"][1].update(treatment="SHOUT"), "'SHOUT' is not one of"),
            (lambda d: d["treatments"][1].update(stages=["PRE_DUE"]), "already has a rule"),
            (lambda d: d["treatments"][0].update(channels=["CALL"]), "CALL_TASK uses exactly"),
            (lambda d: d["treatments"][3].update(channels=["SMS"]), "CALL_TASK uses exactly"),
            (lambda d: d["treatments"][0].update(template="Late Notice!"), "lower-case name"),
            (lambda d: d.update(treatments=[]), "non-empty list of rules"),
            (lambda d: d.update(hold_while_plan_active="yes"), "true or false"),
            (lambda d: d.update(plan_grace_days=-1), "plan_grace_days must be a whole number"),
            (lambda d: d.update(plan_grace_days="5"), "plan_grace_days must be a whole number"),
        ],
    )
    def test_name_the_field_that_is_wrong(self, change: Any, message: str) -> None:
        document = default_document()
        change(document)
        with pytest.raises(definition.InvalidStrategy, match=message):
            definition.parse(document, source="mine.yaml")

    def test_a_missing_file_is_reported_with_its_path(self, tmp_path: Path) -> None:
        with pytest.raises(definition.InvalidStrategy, match="cannot read"):
            definition.load(tmp_path / "absent.yaml")

    def test_a_file_that_is_not_yaml_is_reported(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text("name: [unclosed\n")
        with pytest.raises(definition.InvalidStrategy, match="not valid YAML"):
            definition.load(path)

    def test_a_file_that_is_not_a_mapping_is_reported(self, tmp_path: Path) -> None:
        path = tmp_path / "list.yaml"
        path.write_text("- a\n- b\n")
        with pytest.raises(definition.InvalidStrategy, match="expected a mapping"):
            definition.load(path)
