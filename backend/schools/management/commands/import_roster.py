"""manage.py import_roster --school <id or exact name> <file>: the roster import of the
admin site and the API, from a shell, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from backend.conventions.errors import ApiError
from backend.schools.models import Org
from backend.schools.roster import roster_import


class Command(BaseCommand):
    help = "导入班级花名册（XLSX 或 CSV）：学生姓名、学号、班级、家长姓名、关系、手机号"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="花名册文件（.xlsx 或 .csv）")
        parser.add_argument("--school", required=True, help="学校编号，或学校的完整名称")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入")

    def handle(self, *args: Any, **options: Any) -> None:
        school = self._school(options["school"])
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件 {path}：{exc.strerror}") from None
        bar: Any = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(
                    total=total,
                    unit="行",
                    desc="导入",
                    file=getattr(self.stderr, "_out", None),
                    disable=options["verbosity"] == 0,
                )
            bar.update(done - bar.n)

        try:
            result = roster_import(
                school=school,
                uploaded_by=None,
                file_name=path.name,
                content=content,
                dry_run=options["dry_run"],
                progress=progress,
            )
        except ApiError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        finally:
            if bar is not None:
                bar.close()
        prefix = "预览（未写入）" if options["dry_run"] else f"导入 #{result.pk}"
        self.stdout.write(
            f"{prefix} {school.name}《{result.file_name}》共 {result.total_rows} 行："
            f"新增 {result.created_count}，更新 {result.updated_count}，"
            f"未变化 {result.unchanged_count}，拒绝 {result.rejected_count}"
        )
        for row in result.rows:
            if row["status"] == "rejected":
                self.stdout.write(f"  第 {row['row']} 行 [{row['code']}] {row['message']}")

    def _school(self, value: str) -> Org:
        schools = Org.objects.filter(kind=Org.Kind.SCHOOL)
        matches = list(schools.filter(pk=int(value))) if value.isdigit() else []
        matches = matches or list(schools.filter(name=value))
        if not matches:
            raise CommandError(f"找不到学校：{value}")
        if len(matches) > 1:
            ids = "、".join(str(s.pk) for s in matches)
            raise CommandError(f"有多所学校名为“{value}”（编号 {ids}），请用编号指定")
        return matches[0]
