"""``accord import``: exit status, human and JSON summaries, the error report file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

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
