"""``accord import``: exit status, human and JSON summaries, the error report file."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from accord.cli.management.commands import flush
from accord.storage import models
from tests.integration import portfolio


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


class TestImportCommand:
    def test_a_clean_file_exits_0_and_prints_counts(self, tmp_path: Path) -> None:
        path = portfolio.write(tmp_path, "customers.csv", portfolio.CUSTOMERS)
        status, out, _ = run("customers", str(path))
        assert status == 0
        assert "2 new, 0 updated, 0 unchanged" in out

    def test_json_summary_is_machine_readable(self, tmp_path: Path) -> None:
        path = portfolio.write(tmp_path, "customers.csv", portfolio.CUSTOMERS)
        run("customers", str(path))
        status, out, _ = run("customers", str(path), "--json")
        summary = json.loads(out)
        assert status == 0
        assert summary["accepted"] is True
        assert (summary["inserted"], summary["unchanged"]) == (0, 2)

    def test_a_bad_file_exits_2_writes_the_report_and_changes_nothing(self, tmp_path: Path) -> None:
        path = portfolio.write(
            tmp_path,
            "customers.csv",
            "external_ref,debtor_type,name,country\nC1,ALIEN,Zed,GB\nC2,CONSUMER,,GB\n",
        )
        report = tmp_path / "report.json"
        status, _, err = run("customers", str(path), "--report", str(report))
        assert status == 2
        assert "row 2: column debtor_type" in err
        saved = json.loads(report.read_text())
        assert saved["accepted"] is False
        assert {(e["row"], e["column"]) for e in saved["errors"]} == {
            (2, "debtor_type"),
            (3, "name"),
        }
        assert not models.Customer.objects.exists()

    @pytest.mark.parametrize(
        "content",
        [b"", b"\xff\xfe\x00b\x00i\x00n", b"just,a,header\n"],
        ids=["empty", "utf16", "header"],
    )
    def test_an_unreadable_file_exits_2_with_one_clear_line(
        self, tmp_path: Path, content: bytes
    ) -> None:
        path = portfolio.write(tmp_path, "x.csv", content)
        status, out, err = run("payments", str(path), "--json")
        assert status == 2
        summary = json.loads(out)
        assert summary["problem"]
        assert "Traceback" not in err

    def test_a_missing_file_exits_2(self, tmp_path: Path) -> None:
        status, out, _ = run("payments", str(tmp_path / "nope.csv"), "--json")
        assert status == 2
        assert "cannot open" in json.loads(out)["problem"]

    def test_a_report_in_a_missing_folder_is_refused_before_anything_is_written(
        self, tmp_path: Path
    ) -> None:
        path = portfolio.write(tmp_path, "customers.csv", portfolio.CUSTOMERS)
        with pytest.raises(CommandError, match="does not exist") as caught:
            call_command(
                "import", "customers", str(path), "--report", str(tmp_path / "no" / "r.json")
            )
        assert caught.value.returncode == 2
        assert not models.Customer.objects.exists()


class TestFlushCommand:
    def test_refuses_a_database_that_is_not_disposable(self, settings: Any) -> None:
        settings.ENV = dataclasses.replace(settings.ENV, demo=False, debug=False)
        fake = type("Connection", (), {"settings_dict": {"NAME": "accord_production"}})()
        assert not flush._disposable(fake)
        assert flush._disposable(type("C", (), {"settings_dict": {"NAME": "test_accord"}})())
