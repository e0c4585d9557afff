"""manage.py import_roster."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backend.accounts.models import User
from backend.audit.models import AuditRecord
from backend.schools.models import RosterImport

from .conftest import csv_bytes, roster_rows, xlsx_bytes


def command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_roster", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_imports_by_school_name_with_progress_and_rejected_rows(
    world: Any, school: Any, tmp_path: Path
) -> None:
    path = tmp_path / "三年级.xlsx"
    path.write_bytes(xlsx_bytes(roster_rows(3) + [["坏", "R9", "火星班", "x", "母亲", "13900009999"]]))

    out, err = command(str(path), "--school", school.name)

    record = RosterImport.objects.get()
    assert out.splitlines() == [
        f"导入 #{record.pk} 西工区第一小学《三年级.xlsx》共 4 行：新增 3，更新 0，未变化 0，拒绝 1",
        "  第 5 行 [unknown_class] 班级“火星班”在本校不存在，请先在管理后台创建",
    ]
    assert "4/4" in err
    assert record.uploaded_by is None
    assert User.objects.filter(student_number__in=["R00000", "R00001", "R00002"]).count() == 3
    audit = AuditRecord.objects.get(action="roster.imported")
    assert (audit.actor, audit.actor_label) == (None, "import_roster 命令")


def test_dry_run_by_id_writes_nothing(world: Any, school: Any, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(csv_bytes(roster_rows(2), encoding="gbk"))

    out, _ = command(str(path), "--school", str(school.pk), "--dry-run", "-v", "0")

    assert out.startswith("预览（未写入） 西工区第一小学《r.csv》共 2 行：新增 2")
    assert not RosterImport.objects.exists()
    assert not User.objects.filter(student_number="R00000").exists()


def test_refusals(world: Any, school: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(CommandError, match=r"\[invalid_file\]"):
        command(str(broken), "--school", school.name)
    with pytest.raises(CommandError, match="找不到学校"):
        command(str(broken), "--school", "不存在的学校")
    with pytest.raises(CommandError, match="找不到学校"):
        command(str(broken), "--school", str(world.counties[0].pk))
    with pytest.raises(CommandError, match="无法读取文件"):
        command(str(tmp_path / "missing.csv"), "--school", school.name)
    assert not RosterImport.objects.exists()
