"""School notice to 5,000 guardians: from notice_create() to every receipt committed
(what the request plus the fan-out task do), against psycopg COPY and a multi-row
INSERT of 5,000 rows shaped like the receipts into a table with the same indexes."""

from __future__ import annotations

import json
import time
from typing import Any
from unittest import mock

from bench.core import Result, alternate, median

RECIPIENTS = 5000


def _stack_once(world: Any) -> dict[str, float]:
    from backend.accounts.models import User
    from backend.notices import fanout, services
    from backend.notices.models import Notice
    from backend.realtime import publishing

    admin = User.objects.get(pk=world.admin_id)
    marks: list[float] = []
    original = publishing.publish

    def timed_publish(messages: Any) -> None:
        marks.append(time.perf_counter())  # runs right after each chunk's commit
        original(messages)

    with (
        mock.patch.object(services.tasks.notice_fanout, "delay"),
        mock.patch.object(publishing, "publish", timed_publish),
    ):
        start = time.perf_counter()
        notice = services.notice_create(
            author=admin,
            title="全校通知：明日运动会",
            body="各位家长：明天上午八点举行秋季运动会，请孩子穿运动服、带水杯。" * 3,
            audience="guardians",
            school_id=world.school_id,
            require_confirmation=True,
        )
        fanout.notice_fanout_run(notice_id=notice.pk)
        end = time.perf_counter()
    count = Notice.objects.values_list("recipients_count", flat=True).get(pk=notice.pk)
    assert count == RECIPIENTS, count
    committed = (marks[-1] if marks else end) - start
    return {"committed": committed, "with_publish": end - start}


def _rows(n: int) -> list[tuple[Any, ...]]:
    students = json.dumps([{"id": 1, "name": "学生1", "class_name": "1年级1班"}], ensure_ascii=False)
    return [(1, 100000 + i, "guardian", f"学生{i}妈妈", students) for i in range(n)]


def _baseline_once(dsn: str, how: str, count: int = RECIPIENTS) -> float:
    import psycopg

    rows = _rows(count)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_receipts "
            "(LIKE notices_noticereceipt INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES INCLUDING CONSTRAINTS)"
        )
        conn.execute("TRUNCATE bench_receipts")
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur:
            cols = "notice_id, recipient_id, role, display_name, students, created_at"
            if how == "copy":
                with cur.copy(f"COPY bench_receipts ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row((*row, "2026-11-23T08:00:00+08"))
            else:
                values = ",".join(["(%s,%s,%s,%s,%s,now())"] * len(rows))
                cur.execute(
                    f"INSERT INTO bench_receipts ({cols}) VALUES {values}",
                    [v for row in rows for v in row],
                )
        conn.commit()
        return time.perf_counter() - start


def run(quick: bool, world: Any) -> list[Result]:
    from django.db import connection

    settings = connection.settings_dict
    dsn = f"host={settings['HOST']} port={settings['PORT'] or 5432} user={settings['USER']} dbname={settings['NAME']}"
    if settings.get("PASSWORD"):
        dsn += f" password={settings['PASSWORD']}"
    _baseline_once(dsn, "copy")  # warm both sides
    _stack_once(world)
    repeats = 2 if quick else 5
    copies, stacks = alternate(repeats, lambda: _baseline_once(dsn, "copy"), lambda: _stack_once(world))
    inserts = [_baseline_once(dsn, "insert") for _ in range(repeats)]
    committed = median([s["committed"] for s in stacks])
    with_publish = median([s["with_publish"] for s in stacks])
    copy_s = median(copies)
    insert_s = median(inserts)
    return [
        Result(
            "receipts",
            "school notice 5,000 receipts committed (s)",
            committed,
            "s",
            baseline=copy_s,
            target="≤ 0.3 s and ≤ 3× COPY",
            met=committed <= 0.3 and committed <= 3 * copy_s,
            note=f"multi-row INSERT baseline {insert_s:.3f} s; n={repeats}",
        ),
        Result(
            "receipts",
            "school notice incl. publishing 5,000 socket events (s)",
            with_publish,
            "s",
            baseline=copy_s,
            target="",
            note="to the return of the fan-out, after every chunk's on-commit group_send",
        ),
    ]
