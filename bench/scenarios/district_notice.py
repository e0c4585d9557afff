"""District notice: one notice to 100,000 guardians (the synthetic 2,000-class school of
mass_text, every guardian with the app and one Android device), 5,000 of them with a
socket open on 2 daphne processes; quick: the first 100 classes (5,000 guardians) and
500 sockets. `notice_create()` + the fan-out the Celery task runs (`notice_fanout_run`)
in the bench process, as in `receipts`; meanwhile 2 Celery worker processes (solo pool)
run the delivery tasks each chunk queues, pushing through the FCM backend to the mock FCM
(own process, 50 ms latency, 1 % UNREGISTERED, 0.5 % 503).

Measured: receipts committed (create → fan-out returned), create → notice.created on each
socket (p99), pushes per second (attempts recorded by the delivery pipeline, sampled
every 0.5 s for at most 20 s after the fan-out, quick 15 s; peak over any 1 s), and
whether every token the mock answered UNREGISTERED was deleted from accounts_device.

Baselines: COPY of the same number of receipt rows; raw asyncio POSTs to the same mock
(bench.loadgen.fcm_bare, 500 connections)."""

from __future__ import annotations

import sys
import time
from typing import Any
from unittest import mock

from bench.core import Result, daphne_cmd, free_port, median, percentile, processes
from bench.fleet import (
    Fleet,
    celery_cmd,
    log,
    mass_guardians,
    mass_school,
    merged_times,
    purge_broker,
    tokens_for,
)
from bench.scenarios.push import bare_run as push_bare
from bench.scenarios.receipts import _baseline_once

CLASS_SIZE = 50


def _dsn() -> str:
    from django.db import connection

    s = connection.settings_dict
    dsn = f"host={s['HOST']} port={s['PORT'] or 5432} user={s['USER']} dbname={s['NAME']}"
    return dsn + (f" password={s['PASSWORD']}" if s.get("PASSWORD") else "")


def _push_counts(dispatch_id: int) -> tuple[int, int]:
    """(push attempts answered, deliveries still waiting for a first push)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM delivery_pushattempt pa JOIN delivery_delivery d ON d.id = pa.delivery_id"
            " WHERE d.dispatch_id = %s AND pa.outcome <> 'pending'",
            [dispatch_id],
        )
        answered = int(cur.fetchone()[0])
        cur.execute(
            "SELECT count(*) FROM delivery_delivery WHERE dispatch_id = %s AND push_state = 'pending'",
            [dispatch_id],
        )
        return answered, int(cur.fetchone()[0])


def _unregistered(dispatch_id: int) -> tuple[int, int]:
    """(tokens answered UNREGISTERED, of those still in accounts_device)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(DISTINCT pa.token), count(DISTINCT dev.token) FROM delivery_pushattempt pa"
            " JOIN delivery_delivery d ON d.id = pa.delivery_id"
            " LEFT JOIN accounts_device dev ON dev.token = pa.token"
            " WHERE d.dispatch_id = %s AND pa.outcome = 'unregistered'",
            [dispatch_id],
        )
        gone, left = cur.fetchone()
    return int(gone), int(left)


def _notice(admin_id: int, school_id: int, class_ids: list[int] | None) -> tuple[int, float, float]:
    from backend.accounts.models import User
    from backend.notices import fanout, services

    admin = User.objects.get(pk=admin_id)
    scope: dict[str, Any] = {"class_ids": class_ids} if class_ids else {"school_id": school_id}
    with mock.patch.object(services.tasks.notice_fanout, "delay"):
        start = time.time()
        notice = services.notice_create(
            author=admin,
            title="区教育局通知：暴雨红色预警停课",
            body="各位家长：受暴雨红色预警影响，明天全区中小学停课一天，请做好孩子的居家安排。",
            audience="guardians",
            require_confirmation=True,
            **scope,
        )
        fanout.notice_fanout_run(notice_id=notice.pk)
    return int(notice.pk), start, time.time() - start


def run(quick: bool, world: Any) -> list[Result]:
    from backend.delivery.models import Dispatch

    school = mass_school()
    classes = 100 if quick else len(school["class_ids"])
    recipients = classes * CLASS_SIZE
    sockets = 500 if quick else 5_000
    window = 15.0 if quick else 20.0
    class_ids = school["class_ids"][:classes] if quick else None
    tokens = tokens_for(mass_guardians(sockets))
    dsn = _dsn()
    copies = [_baseline_once(dsn, "copy", recipients) for _ in range(2)]

    fcm_port = free_port()
    env = {
        "FCM_ENDPOINT": f"http://127.0.0.1:{fcm_port}",
        "FCM_PROJECT_ID": "bench",
        "BENCH_PUSH_BACKEND": "fcm",
    }
    mock_fcm = [sys.executable, "-m", "backend.delivery.push.mock_fcm", "--port", str(fcm_port), "--latency", "0.05",
                "--unregistered-rate", "0.01", "--unavailable-rate", "0.005", "--seed", "7"]  # fmt: skip
    ports = [free_port(), free_port()]
    purge_broker()
    # Stopped in list order: the workers get SIGTERM before the mock.
    commands = [celery_cmd(f"district{i}") for i in range(2)] + [daphne_cmd(p) for p in ports] + [mock_fcm]
    samples: list[tuple[float, int]] = []
    with processes(commands, [fcm_port, *ports], **env):
        bare_rate = float(push_bare(fcm_port, 5_000)["rate"])
        with Fleet("stack", [f"ws://127.0.0.1:{p}/ws/v1/events/" for p in ports], tokens) as fleet:
            log(f"district_notice: {fleet.connected():,} sockets connected; notice to {recipients:,}")
            notice_id, start, receipts_s = _notice(school["admin_id"], school["school_id"], class_ids)
            log(f"district_notice: fan-out returned after {receipts_s:.1f} s")
            dispatch_id = Dispatch.objects.get(source_type="notice", source_id=notice_id).pk
            t0 = time.monotonic()
            while time.monotonic() - t0 < window:
                answered, waiting = _push_counts(dispatch_id)
                samples.append((time.monotonic(), answered))
                if waiting == 0:
                    break
                time.sleep(0.5)
            stats = fleet.command("STATS", "STATS")
            connected = fleet.connected()
            errors = [e for s in stats for e in s["errors"]]
    purge_broker()
    log(f"district_notice: {samples[-1][1]:,} pushes answered")
    arrivals = merged_times(stats).get(str(notice_id), [])
    socket_lat = [t - start for t in arrivals]
    sock_p99 = percentile(socket_lat, 99)
    # Push rate: answered attempts from the first sample that saw any to the last change.
    moving = [(t, n) for t, n in samples if n > 0]
    rate = peak = 0.0
    if len(moving) >= 2:
        last_change = max(i for i in range(len(moving)) if moving[i][1] != moving[-1][1] or i == 0)
        end = moving[min(last_change + 1, len(moving) - 1)]
        rate = (end[1] - moving[0][1]) / max(end[0] - moving[0][0], 1e-9)
        for i, (t, n) in enumerate(samples):
            later = [(t2, n2) for t2, n2 in samples[i + 1 :] if t2 - t >= 1.0]
            if later:
                peak = max(peak, (later[0][1] - n) / (later[0][0] - t))
    gone, left = _unregistered(dispatch_id)
    scale = f" (quick: {recipients:,} recipients, {sockets:,} sockets)" if quick else ""
    pushed = samples[-1][1] if samples else 0
    return [
        Result(
            "district_notice",
            f"{recipients:,} receipts committed (s){scale}",
            receipts_s,
            "s",
            baseline=median(copies),
            target="≤ 3 s" if not quick else "≤ 0.3 s (3 s per 100,000)",
            met=receipts_s <= 3.0 * recipients / 100_000,
            note="notice_create() → notice_fanout_run() returned (every chunk committed and published); "
            "baseline: COPY of as many receipt rows",
        ),
        Result(
            "district_notice",
            f"create → socket p99 (ms), {connected:,} sockets{scale}",
            sock_p99 * 1000,
            "ms",
            target="≤ 2,000 ms",
            met=sock_p99 <= 2.0 and len(socket_lat) == sockets,
            note=f"{len(socket_lat):,} of {sockets:,} sockets got the notice; p50 "
            f"{percentile(socket_lat, 50) * 1000:.0f} ms" + (f"; errors: {errors[:2]}" if errors else ""),
        ),
        Result(
            "district_notice",
            f"pushes/s through the delivery pipeline, 2 workers{scale}",
            rate,
            "pushes/s",
            baseline=bare_rate,
            target="≥ 1,500/s and ≤ 10,000/s",
            met=rate >= 1500 and peak <= 10_000,
            note=f"{pushed:,} push attempts answered in the window ({window:g} s max); peak over 1 s {peak:,.0f}/s",
        ),
        Result(
            "district_notice",
            f"UNREGISTERED tokens deleted{scale}",
            float(gone - left),
            "tokens",
            baseline=float(gone),
            target="all (= baseline column)",
            met=gone > 0 and left == 0,
            note=f"{gone} tokens answered UNREGISTERED by the mock, {left} still in accounts_device",
        ),
    ]
