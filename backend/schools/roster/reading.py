"""Reading a roster file (XLSX or CSV) into header-mapped rows, or refusing it whole.

Everything here is about the file, not the people in it: format and encoding detection,
size and row limits, the header row and its aliases. A file that cannot be read raises
RosterFileError (400) before anything is written."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.conf import settings

from backend.conventions.errors import ApiError

# Canonical column keys and the headers accepted for them (compared after normalize_header).
COLUMNS: dict[str, tuple[str, ...]] = {
    "student_name": ("学生姓名", "student_name"),
    "student_number": ("学号", "student_number", "student_no"),
    "class_name": ("班级", "班级名称", "class", "class_name"),
    "guardian_name": ("家长姓名", "监护人姓名", "guardian_name", "parent_name"),
    "relation": ("关系", "与学生关系", "家长关系", "relation", "relationship"),
    "phone": ("手机号", "手机号码", "家长手机号", "phone", "mobile"),
}
COLUMN_LABELS = {
    "student_name": "学生姓名",
    "student_number": "学号",
    "class_name": "班级",
    "guardian_name": "家长姓名",
    "relation": "关系",
    "phone": "手机号",
}
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_ROWS = 5000
# An XLSX is a zip: refuse archives that would inflate past this (zip bombs).
MAX_UNZIPPED_BYTES = 80 * 1024 * 1024
MAX_COLUMNS = 64
# The header may sit under a title line or two ("2026 级花名册").
HEADER_SEARCH_ROWS = 5

_SEPARATORS = re.compile(r"[\s_\-*＊:：]+")
_SPACES = re.compile(r"\s+")
_FOREIGN_MAGIC = {
    b"\xd0\xcf\x11\xe0": "不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入",
    b"%PDF": "不支持 PDF 文件，请上传 .xlsx 或 CSV 文件",
    b"\x89PNG": "不支持图片文件，请上传 .xlsx 或 CSV 文件",
    b"\xff\xd8\xff": "不支持图片文件，请上传 .xlsx 或 CSV 文件",
    b"GIF8": "不支持图片文件，请上传 .xlsx 或 CSV 文件",
}
_ALIASES = {
    _SEPARATORS.sub("", unicodedata.normalize("NFKC", alias)).lower(): key
    for key, aliases in COLUMNS.items()
    for alias in aliases
}


class RosterFileError(ApiError):
    """The file as a whole cannot be imported; nothing was written."""

    def __init__(self, code: str, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(code, message, status_code=400, fields=fields or {"file": [message]})


@dataclass(frozen=True)
class RosterRow:
    number: int  # the row number a person sees in Excel (the header is usually row 1)
    values: dict[str, str]


@dataclass(frozen=True)
class RosterFile:
    file_format: str  # "xlsx" or "csv"
    encoding: str
    rows: list[RosterRow]


def max_bytes() -> int:
    return int(getattr(settings, "ROSTER_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_rows() -> int:
    return int(getattr(settings, "ROSTER_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def normalize_text(value: str) -> str:
    """Full-width letters, digits and brackets become ASCII (三年级（1）班 = 三年级(1)班),
    runs of whitespace one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()


def normalize_header(value: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).lower()


def cell_text(value: Any) -> str:
    """A cell as the text the person typed. Excel stores 13800000000 and 20260101 as
    numbers, sometimes as floats: give them back without '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return normalize_text(str(value))


def read_roster(*, file_name: str, content: bytes) -> RosterFile:
    """Detect the format, decode and map the header; raise RosterFileError if unusable."""
    if not content:
        raise RosterFileError("empty_file", "文件为空")
    if len(content) > max_bytes():
        raise RosterFileError("file_too_large", f"文件超过 {max_bytes() // (1024 * 1024)} MB 上限")
    for magic, message in _FOREIGN_MAGIC.items():
        if content.startswith(magic):
            raise RosterFileError("unsupported_format", message)
    if content.startswith(b"PK\x03\x04"):
        raw_rows, file_format, encoding = _xlsx_rows(content), "xlsx", ""
    else:
        text, encoding = _decode(content)
        raw_rows, file_format = _csv_rows(text), "csv"
    return RosterFile(file_format=file_format, encoding=encoding, rows=_map_rows(raw_rows))


def _decode(content: bytes) -> tuple[str, str]:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a byte-order mark, tab-separated.
        candidates = ["utf-16"]
    else:
        # Excel on Chinese Windows saves CSV in GBK; gb18030 is its superset.
        candidates = ["utf-8-sig", "utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text, "utf-8" if encoding.startswith("utf-8") else encoding
    raise RosterFileError("unsupported_format", "无法识别的文件格式，请上传 .xlsx 或 CSV 文件")


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max([",", "\t", ";"], key=first_line.count)
    rows: list[tuple[int, list[str]]] = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1):
            rows.append((number, [cell_text(c) for c in cells[:MAX_COLUMNS]]))
            _check_row_count(rows)
    except csv.Error as exc:
        raise RosterFileError("invalid_file", f"CSV 文件格式有误：{exc}") from None
    return rows


def _xlsx_rows(content: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise RosterFileError("invalid_file", "Excel 文件已损坏，无法读取") from None
    if "xl/workbook.xml" not in names:
        raise RosterFileError("unsupported_format", "这不是 Excel（.xlsx）文件，请上传 .xlsx 或 CSV 文件")
    if inflated > MAX_UNZIPPED_BYTES:
        raise RosterFileError("file_too_large", "Excel 文件内容过大，请拆分后再导入")
    rows: list[tuple[int, list[str]]] = []
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many unrelated types on damaged files
        raise RosterFileError("invalid_file", "Excel 文件已损坏，无法读取") from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise RosterFileError("empty_file", "Excel 文件中没有工作表")
        for number, cells in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), 1):
            rows.append((number, [cell_text(c) for c in cells]))
            _check_row_count(rows)
    except RosterFileError:
        raise
    except Exception:  # noqa: BLE001 - a damaged sheet fails while streaming, with any type
        raise RosterFileError("invalid_file", "Excel 文件已损坏，无法读取") from None
    finally:
        workbook.close()
    return rows


def _check_row_count(rows: list[tuple[int, list[str]]]) -> None:
    # Physical rows, blank ones included, bound the work; data rows are checked after mapping.
    if len(rows) > max_rows() * 2 + HEADER_SEARCH_ROWS:
        raise RosterFileError("too_many_rows", f"数据超过 {max_rows()} 行上限，请拆分后再导入")


def _header_keys(cells: list[str]) -> dict[str, int]:
    keys: dict[str, int] = {}
    duplicates: list[str] = []
    for index, cell in enumerate(cells):
        key = _ALIASES.get(normalize_header(cell))
        if key is None:
            continue
        if key in keys:
            duplicates.append(COLUMN_LABELS[key])
        else:
            keys[key] = index
    if duplicates:
        message = f"表头中有重复的列：{'、'.join(duplicates)}"
        raise RosterFileError("duplicate_columns", message)
    return keys


def _map_rows(raw_rows: list[tuple[int, list[str]]]) -> list[RosterRow]:
    non_blank = [(n, cells) for n, cells in raw_rows if any(cells)]
    if not non_blank:
        raise RosterFileError("empty_file", "文件中没有内容")
    best: dict[str, int] = {}
    header_at = 0
    for position, (_, cells) in enumerate(non_blank[:HEADER_SEARCH_ROWS]):
        keys = _header_keys(cells)
        if len(keys) > len(best):
            best, header_at = keys, position
        if len(keys) == len(COLUMNS):
            break
    missing = [COLUMN_LABELS[key] for key in COLUMNS if key not in best]
    if missing:
        message = f"缺少必需的列：{'、'.join(missing)}（第一行应为表头：{'、'.join(COLUMN_LABELS.values())}）"
        raise RosterFileError("missing_columns", message, fields={"file": [message], "columns": missing})
    rows = [
        RosterRow(
            number=number,
            values={key: cells[index] if index < len(cells) else "" for key, index in best.items()},
        )
        for number, cells in non_blank[header_at + 1 :]
    ]
    rows = [row for row in rows if any(row.values.values())]
    if not rows:
        raise RosterFileError("empty_file", "文件中只有表头，没有数据行")
    if len(rows) > max_rows():
        raise RosterFileError("too_many_rows", f"数据超过 {max_rows()} 行上限，请拆分后再导入")
    return rows
