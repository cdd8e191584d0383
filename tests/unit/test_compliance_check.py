"""``accord compliance check``: the documented examples, strict parsing, and the JSON Schemas."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from django.core.management import call_command

from accord.domain.compliance import checkfile

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs/examples/compliance"
SCHEMAS = ROOT / "docs/schemas"
DOC = ROOT / "docs/compliance-check.md"

INPUTS = sorted(
    path
    for path in EXAMPLES.glob("*.json")
    if not path.name.endswith((".expected.json", ".operator.json"))
)


def validator(name: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(json.loads((SCHEMAS / name).read_text()))


INPUT_SCHEMA = validator("compliance-check-input.schema.json")
OUTPUT_SCHEMA = validator("compliance-check-output.schema.json")
OPERATOR_SCHEMA = validator("compliance-operator-settings.schema.json")


def run(
    *args: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    if monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    try:
        call_command("compliance", "check", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def companion(path: Path, kind: str) -> Path:
    return path.with_name(path.name.removesuffix(".json") + f".{kind}.json")


EXAMPLE_1 = load(EXAMPLES / "01a-seven-calls-debt-a.json")


class TestDocumentedExamples:
    def test_every_worked_example_of_compliance_md_has_a_file(self) -> None:
        numbers = {path.name.split("-")[0].rstrip("abc") for path in INPUTS}
        assert {"01", "02", "03", "04", "05", "06", "08", "14", "15", "16", "17"} <= numbers

    @pytest.mark.parametrize("path", INPUTS, ids=lambda path: path.stem)
    def test_the_command_prints_the_documented_output(self, path: Path) -> None:
        args = ["--input", str(path)]
        operator = companion(path, "operator")
        if operator.exists():
            args += ["--operator", str(operator)]
        status, out, err = run(*args)
        assert (status, err) == (0, "")
        assert json.loads(out) == load(companion(path, "expected"))

    @pytest.mark.parametrize("path", INPUTS, ids=lambda path: path.stem)
    def test_the_docs_page_shows_the_example_and_its_output(self, path: Path) -> None:
        page = DOC.read_text()
        assert f"examples/compliance/{path.name}" in page
        expected = json.dumps(load(companion(path, "expected")), indent=2, ensure_ascii=False)
        assert expected in page

    @pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda path: path.stem)
    def test_every_example_file_validates_against_its_schema(self, path: Path) -> None:
        if path.name.endswith(".expected.json"):
            schema = OUTPUT_SCHEMA
        elif path.name.endswith(".operator.json"):
            schema = OPERATOR_SCHEMA
        else:
            schema = INPUT_SCHEMA
        assert [error.message for error in schema.iter_errors(load(path))] == []


class TestTheCommand:
    def test_reads_stdin_when_input_is_a_dash_or_absent(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        text = json.dumps(EXAMPLE_1)
        for args in (("--input", "-"), ()):
            status, out, _ = run(*args, stdin=text, monkeypatch=monkeypatch)
            assert status == 0
            assert json.loads(out)["allowed"] is False

    def test_an_unknown_field_exits_2_with_its_path_on_stderr_and_nothing_on_stdout(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        document = copy.deepcopy(EXAMPLE_1)
        document["history"][2]["colour"] = "red"
        status, out, err = run(stdin=json.dumps(document), monkeypatch=monkeypatch)
        assert (status, out) == (2, "")
        assert json.loads(err) == {
            "error": {
                "file": "input",
                "path": "$.history[2].colour",
                "message": "is not a known field",
            }
        }

    def test_text_that_is_not_json_is_an_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        status, out, err = run(stdin="{not json", monkeypatch=monkeypatch)
        assert (status, out) == (2, "")
        assert json.loads(err)["error"]["path"] == "$"

    def test_a_bad_operator_file_names_that_file(self, tmp_path: Path) -> None:
        settings = tmp_path / "operator.json"
        settings.write_text('{"weekly_contact_budget": -1}')
        status, _, err = run("--input", str(INPUTS[0]), "--operator", str(settings))
        assert status == 2
        assert json.loads(err)["error"] == {
            "file": "operator",
            "path": "$.weekly_contact_budget",
            "message": "must be a whole number, 0 or more",
        }


def changed(path: str, value: Any) -> dict[str, Any]:
    """Return example 1 with the value at a simple JSON path replaced (or deleted)."""
    document = copy.deepcopy(EXAMPLE_1)
    target: Any = document
    keys: list[str | int] = []
    for part in path.removeprefix("$.").replace("]", "").replace("[", ".").split("."):
        keys.append(int(part) if part.isdigit() else part)
    for key in keys[:-1]:
        if isinstance(target, dict) and key not in target:
            target[key] = {}
        target = target[key]
    if value is _DELETE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return document


_DELETE = object()

# (JSON path, bad value): each rejected by the parser at that path and by the schema.
REJECTED = [
    ("$.surprise", 1),
    ("$.policies", []),
    ("$.policies", ["us-tx"]),
    ("$.policies", ["us-reg-f", "us-reg-f"]),
    ("$.now", "2026-02-06T15:00:00"),
    ("$.now", "6 Feb 2026"),
    ("$.consumer.id", ""),
    ("$.consumer.nickname", "Al"),
    ("$.consumer.inconvenient_times", [{"start": "25:00", "end": "09:00"}]),
    ("$.consumer.refused_channels", ["fax"]),
    ("$.consumer.opt_outs", [{"channel": "call", "at": "2026-02-01T10:00:00Z"}]),
    ("$.consumer.breathing_space", {"start": "2026-02-01T10:00:00Z", "kind": "long"}),
    ("$.consumer.vulnerabilities", [{"driver": "health", "recorded_at": "2026-02-01T10:00:00Z"}]),
    ("$.consumer.preferences", {"pause": {"end": "2026-02-01T10:00:00Z"}}),
    ("$.debts[0].dispute", {"received": "2026-02-01T10:00:00Z"}),
    ("$.history[0].channel", "pigeon"),
    ("$.history[0].direction", "sideways"),
    ("$.history[0].connected", "yes"),
    ("$.history[0].conversation", 1),
    ("$.attempt.purpose", "threat"),
    ("$.attempt.debt_ids", []),
    ("$.attempt.channel", _DELETE),
]


class TestParserAndSchemaAgree:
    @pytest.mark.parametrize(
        ("path", "value"),
        REJECTED,
        ids=lambda v: "missing" if v is _DELETE else str(v)[:40],
    )
    def test_a_bad_document_is_rejected_by_both_at_that_path(self, path: str, value: Any) -> None:
        document = changed(path, value)
        assert not INPUT_SCHEMA.is_valid(document)
        with pytest.raises(checkfile.CheckFileError) as error:
            checkfile.parse_check(document)
        assert error.value.path.startswith(path.rsplit(".", 1)[0] if value is _DELETE else path)

    def test_a_conversation_on_an_email_is_rejected_by_both(self) -> None:
        document = changed("$.history[0].channel", "email")
        document["history"][0]["conversation"] = True
        assert not INPUT_SCHEMA.is_valid(document)
        with pytest.raises(checkfile.CheckFileError, match="only for a call"):
            checkfile.parse_check(document)

    def test_a_limited_content_email_is_rejected_by_both(self) -> None:
        document = changed("$.attempt.channel", "email")
        document["attempt"]["purpose"] = "limited_content"
        assert not INPUT_SCHEMA.is_valid(document)
        with pytest.raises(checkfile.CheckFileError) as error:
            checkfile.parse_check(document)
        assert error.value.path == "$.attempt.purpose"

    def test_what_the_schema_cannot_say_the_parser_still_rejects(self) -> None:
        """An unknown zone, a debt not listed, an end before its start, a 30 February."""
        for path, value in [
            ("$.consumer.time_zones", ["Mars/Olympus_Mons"]),
            ("$.attempt.debt_ids", ["debt-z"]),
            (
                "$.consumer.breathing_space",
                {"start": "2026-02-01T10:00:00Z", "end": "2026-01-01T10:00:00Z"},
            ),
            ("$.now", "2026-02-30T10:00:00Z"),
        ]:
            with pytest.raises(checkfile.CheckFileError) as error:
                checkfile.parse_check(changed(path, value))
            assert error.value.path.startswith(path)
