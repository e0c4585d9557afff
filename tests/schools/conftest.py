"""Roster files built in the test (XLSX with openpyxl, CSV in any encoding)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

HEADER = ["学生姓名", "学号", "班级", "家长姓名", "关系", "手机号"]


def xlsx_bytes(rows: Iterable[Sequence[Any]], header: Sequence[str] | None = HEADER) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    if header is not None:
        sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(
    rows: Iterable[Sequence[Any]], header: Sequence[str] | None = HEADER, encoding: str = "utf-8"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def roster_rows(count: int, *, class_name: str = "三年级(1)班", start: int = 0) -> list[list[str]]:
    """`count` students, each with one guardian, numbers R0000… phones 1860000…"""
    return [
        [f"学生{i}", f"R{i:05d}", class_name, f"家长{i}", "母亲", f"186{i:08d}"]
        for i in range(start, start + count)
    ]


@pytest.fixture
def admin_of(world: Any) -> Any:
    return world.school_admins[0]


@pytest.fixture
def school(world: Any) -> Any:
    return world.schools[0]
