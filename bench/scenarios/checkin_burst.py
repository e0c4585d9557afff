"""Check-in burst: the evening rush. 500 check-ins/s offered for 10 s (quick: 1 s),
open-loop, to `POST /api/v1/checkin-campaigns/{id}/checkins/` on 2 daphne processes,
each from a different real student with their own JWT (5,000 students, a fresh campaign
over the school's 100 classes per run). The teacher of those classes holds a socket;
2 Celery worker processes run `checkins_announce_class` (one batch per class). Measured:
check-ins answered 201 per second, request p99 (from the scheduled send, so queueing
counts), and the teacher's `checkin.created` p99 (request sent → frame on the teacher's socket).

Baseline: the bare ASGI app (bench.loadgen.bare_asgi) under the same 2 daphne setup, the
same open-loop POSTs."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

from bench.core import Result, daphne_cmd, free_port, percentile, processes
from bench.fleet import Fleet, celery_cmd, log, merged_times, purge_broker, tokens_for
from bench.world import ROOT, bench_env

RATE = 500.0


def _consents(school_id: int) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO privacy_guardianconsent (scope, policy_version, granted_at, guardian_id, student_id)"
            " SELECT 'basic', '2026-11-01', now(), g.guardian_id, g.student_id FROM schools_guardianship g"
            " JOIN schools_classmembership m ON m.user_id = g.student_id AND m.role = 'student'"
            " JOIN schools_schoolclass c ON c.id = m.school_class_id AND c.school_id = %s"
            " WHERE NOT EXISTS (SELECT 1 FROM privacy_guardianconsent p"
            "  WHERE p.student_id = g.student_id AND p.withdrawn_at IS NULL)",
            [school_id],
        )


def _campaign(world: Any) -> int:
    from django.utils import timezone

    from backend.checkins.models import CheckinCampaign, CheckinCampaignClass

    today = timezone.localdate()
    campaign = CheckinCampaign.objects.create(
        school_id=world.school_id,
        created_by_id=world.teacher_id,
        created_by_name="压测老师",
        title=f"压测打卡 {uuid.uuid4().hex[:6]}",
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=1),
        weekdays=[1, 2, 3, 4, 5, 6, 7],
        content_types=[],
    )
    CheckinCampaignClass.objects.bulk_create(
        [CheckinCampaignClass(campaign=campaign, school_class_id=c) for c in world.class_ids]
    )
    return int(campaign.pk)


def _offer(requests: list[list[str]]) -> dict[str, Any]:
    fd, path = tempfile.mkstemp(suffix=".json", prefix="bench-requests-")
    with os.fdopen(fd, "w") as f:
        json.dump(requests, f)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.loadgen.http_open", "--requests-file", path, "--rate", str(RATE)],
        cwd=ROOT,
        env=bench_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if not proc.stdout.readline().startswith("READY"):
        proc.kill()
        raise RuntimeError("http_open did not start")
    out, _ = proc.communicate("go\n", timeout=150)
    os.unlink(path)
    return dict(json.loads(out.strip().splitlines()[-1]))


def _summary(out: dict[str, Any], ok: int) -> dict[str, float]:
    rows = [r for r in out["rows"] if r]
    good = [r for r in rows if r[2] == ok]
    if not good:
        return {"rate": 0.0, "p99": float("nan"), "ok": 0}
    first = min(r[0] for r in rows)
    last = max(r[0] + r[1] for r in good)
    return {
        "rate": len(good) / max(last - first, 1e-9),
        "p99": percentile([r[1] for r in rows], 99),
        "ok": len(good),
    }


def run(quick: bool, world: Any) -> list[Result]:
    from backend.schools.models import ClassMembership

    seconds = 1.0 if quick else 10.0  # quick: the drain of a longer burst alone took ~45 s
    count = int(RATE * seconds)
    _consents(world.school_id)
    students = list(
        ClassMembership.objects.filter(school_class_id__in=world.class_ids, role=ClassMembership.Role.STUDENT)
        .order_by("user_id")
        .values_list("user_id", flat=True)[:count]
    )
    tokens = tokens_for(students)
    teacher = tokens_for([world.teacher_id])
    campaign = _campaign(world)

    def body(student: int) -> str:
        return json.dumps(
            {"student_id": student, "text": "今天读了二十分钟课外书。", "client_id": uuid.uuid4().hex}
        )

    bare_ports, stack_ports = [free_port(), free_port()], [free_port(), free_port()]
    bare_cmds = [daphne_cmd(p, "bench.loadgen.bare_asgi:app") for p in bare_ports]
    with processes(bare_cmds, bare_ports):
        bare_out = _offer(
            [
                [f"http://127.0.0.1:{bare_ports[i % 2]}", "/", str(tok), body(s)]
                for i, (s, tok) in enumerate(zip(students, tokens, strict=True))
            ]
        )
    bare = _summary(bare_out, 200)
    log(f"checkin_burst: bare {bare['rate']:.0f}/s")

    purge_broker()
    commands = [daphne_cmd(p) for p in stack_ports] + [celery_cmd(f"checkins{i}") for i in range(2)]
    path = f"/api/v1/checkin-campaigns/{campaign}/checkins/"
    with processes(commands, stack_ports):
        urls = [f"ws://127.0.0.1:{p}/ws/v1/events/" for p in stack_ports]
        with Fleet("stack", urls, list(teacher)) as fleet:
            # Warm up both processes (imports, first queries, pools) with a GET of the campaign.
            for port in stack_ports:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(
                    "GET",
                    f"/api/v1/checkin-campaigns/{campaign}/",
                    headers={"Authorization": f"Bearer {teacher[0]}"},
                )
                conn.getresponse().read()
                conn.close()
            out = _offer(
                [
                    [f"http://127.0.0.1:{stack_ports[i % 2]}", path, str(tok), body(s)]
                    for i, (s, tok) in enumerate(zip(students, tokens, strict=True))
                ]
            )
            stack = _summary(out, 201)
            log(f"checkin_burst: {stack['ok']:,} of {count:,} answered 201, {stack['rate']:.0f}/s")
            ids = {str(r[3]): r[0] for r in out["rows"] if r and r[2] == 201}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                stats = fleet.command("STATS", "STATS")
                if sum(int(s["total"]) for s in stats) >= len(ids):
                    break
                time.sleep(0.5)
            times = merged_times(stats)
    purge_broker()
    events = [times[key][0] - sent for key, sent in ids.items() if key in times]
    missing = len(ids) - len(events)
    ev_p99 = percentile(events, 99) if events else float("nan")
    label = f" ({count:,} in {seconds:g} s)"
    errors = out["errors"][:2]
    note = f"{stack['ok']:,} of {count:,} answered 201" + (f"; errors: {errors}" if errors else "")
    return [
        Result(
            "checkin_burst",
            f"check-ins/s sustained at 500/s offered{label}",
            stack["rate"],
            "req/s",
            baseline=bare["rate"],
            target="≥ 300/s",
            met=stack["rate"] >= 300 and stack["ok"] == count,
            note=note,
        ),
        Result(
            "checkin_burst",
            f"check-in p99 (ms){label}",
            stack["p99"] * 1000,
            "ms",
            baseline=bare["p99"] * 1000,
            target="≤ 200 ms",
            met=stack["p99"] <= 0.2,
            note="from the scheduled send (open loop), so time queued counts",
        ),
        Result(
            "checkin_burst",
            f"teacher's checkin.created p99 (ms){label}",
            ev_p99 * 1000,
            "ms",
            target="≤ 250 ms",
            met=ev_p99 <= 0.25 and missing == 0,
            note=f"request sent → frame on the teacher's socket; {missing} events not received within 30 s; "
            "2 Celery worker processes (solo pool)",
        ),
    ]
