"""Mass text to 100,000 guardians: sms_job_create() for a whole (synthetic) school of
2,000 classes — audience resolved, quota reserved, 100,000 SmsMessage rows written and
submission queued on the Celery broker (Redis) — timed to commit. Baseline: COPY of
100,000 rows into a temp table shaped like sms_smsmessage.

Plus the sms_gateway simulator (its own process) driven by the Aliyun provider the way
tests/sms_gateway's throughput smoke does: numbers accepted per second."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from bench.core import Result, alternate, median
from bench.world import ROOT, bench_env

RECIPIENTS = 100_000
CLASS_SIZE = 50
SCHOOL_CODE = "BENCH-MASS"


def _seed() -> tuple[int, int, int]:
    """(school_id, account_id, admin_id), created once with set-based SQL."""
    from django.db import connection, transaction

    from backend.accounts.models import User
    from backend.schools.models import Org, OrgAdmin
    from backend.sms.models import SmsAccount
    from backend.sms.services.accounts import sms_account_create, sms_account_top_up

    school = Org.objects.filter(code=SCHOOL_CODE).first()
    if school is None:
        with transaction.atomic():
            county = Org.objects.get(name="压测区")
            school = county.add_child(name="压测群发学校", kind=Org.Kind.SCHOOL, code=SCHOOL_CODE)
            Org.objects.filter(pk=school.pk).update(quiet_hours_start="00:00", quiet_hours_end="00:00")
            admin = User.objects.create_user(phone="19900000003", password="bench-pass-2026", name="群发校管")
            OrgAdmin.objects.create(org=school, user=admin, role=OrgAdmin.Role.SCHOOL_ADMIN)
            classes = RECIPIENTS // CLASS_SIZE
            with connection.cursor() as cur:
                cur.execute(
                    "INSERT INTO schools_grade (school_id, name, level) VALUES (%s, '一年级', 1) RETURNING id",
                    [school.pk],
                )
                grade_id = cur.fetchone()[0]
                cur.execute(
                    "INSERT INTO schools_schoolclass (school_id, grade_id, name) "
                    "SELECT %s, %s, '群发' || g || '班' FROM generate_series(1, %s) g",
                    [school.pk, grade_id, classes],
                )
                common = "'!', false, '', true, false, now()"
                cur.execute(
                    "INSERT INTO accounts_user (password, is_superuser, avatar, is_active, is_staff, date_joined,"
                    f" student_number, name) SELECT {common}, 'M' || lpad(g::text, 7, '0'), '学生' || g"
                    " FROM generate_series(0, %s) g",
                    [RECIPIENTS - 1],
                )
                cur.execute(
                    "INSERT INTO accounts_user (password, is_superuser, avatar, is_active, is_staff, date_joined,"
                    f" phone, name) SELECT {common}, '139' || lpad(g::text, 8, '0'), '家长' || g"
                    " FROM generate_series(0, %s) g",
                    [RECIPIENTS - 1],
                )
                cur.execute(
                    "INSERT INTO schools_classmembership (role, is_head_teacher, subject, joined_at, user_id,"
                    " school_class_id) SELECT 'student', false, '', now(), u.id, c.id FROM"
                    " (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM accounts_user"
                    "  WHERE student_number LIKE 'M%%') u JOIN"
                    " (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM schools_schoolclass"
                    "  WHERE school_id = %s) c ON c.n = u.n / %s",
                    [school.pk, CLASS_SIZE],
                )
                cur.execute(
                    "INSERT INTO schools_guardianship (relation, created_at, guardian_id, student_id)"
                    " SELECT '父亲', now(), g.id, s.id FROM"
                    " (SELECT id, substr(phone, 4)::int AS n FROM accounts_user WHERE phone LIKE '139%%') g JOIN"
                    " (SELECT id, substr(student_number, 2)::int AS n FROM accounts_user"
                    "  WHERE student_number LIKE 'M%%') s ON s.n = g.n"
                )
            account = sms_account_create(org=school, signature="压测群发学校", actor=None)
            sms_account_top_up(account=account, segments=100_000_000, actor=None, memo="bench")
        # Fresh statistics after a bulk load, as autovacuum would give a live database
        # later: without them PostgreSQL plans for the empty tables (seen: /me/'s children
        # query seq-scanned 210,000 users, 20 ms instead of 0.05 ms).
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    account = SmsAccount.objects.get(org=school, owner__isnull=True)
    admin_id = User.objects.get(phone="19900000003").pk
    return school.pk, account.pk, admin_id


def _stack_once(school_id: int, account_id: int, admin_id: int, class_ids: tuple[int, ...] = ()) -> float:
    import redis
    from django.conf import settings

    from backend.accounts.models import User
    from backend.sms.audience import Audience
    from backend.sms.models import SmsJob
    from backend.sms.services.jobs import JobDraft, sms_job_create

    admin = User.objects.get(pk=admin_id)
    draft = JobDraft(
        account_id=account_id,
        audience=Audience(class_ids=class_ids) if class_ids else Audience(school_id=school_id),
        template="school_closure",
        params={"reason": "暴雨红色预警", "date": "明天"},
        urgent=True,
    )
    start = time.perf_counter()
    job = sms_job_create(user=admin, draft=draft)
    elapsed = time.perf_counter() - start
    assert SmsJob.objects.get(pk=job.pk).total == (len(class_ids) * CLASS_SIZE or RECIPIENTS), job.total
    # Nobody consumes the bench broker: drop the queued submit tasks.
    redis.Redis.from_url(str(settings.CELERY_BROKER_URL)).delete("celery")
    return elapsed


def _baseline_once(dsn: str, count: int) -> float:
    import psycopg

    with psycopg.connect(dsn) as conn:
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_sms (LIKE sms_smsmessage INCLUDING DEFAULTS"
            " INCLUDING IDENTITY INCLUDING INDEXES INCLUDING CONSTRAINTS)"
        )
        conn.execute("TRUNCATE bench_sms")
        conn.commit()
        cols = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'sms_smsmessage'"
                " AND column_name <> 'id' ORDER BY ordinal_position"
            ).fetchall()
        ]
        sample = conn.execute(
            f"SELECT {', '.join(cols)} FROM sms_smsmessage ORDER BY id DESC LIMIT 1"
        ).fetchone()
        phone_at = cols.index("phone")
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY bench_sms ({', '.join(cols)}) FROM STDIN") as copy:
            for i in range(count):
                row = list(sample)
                row[phone_at] = f"139{i:08d}"
                copy.write_row([json.dumps(v) if isinstance(v, dict | list) else v for v in row])
        conn.commit()
        return time.perf_counter() - start


def _simulator_rate(numbers: int) -> float:
    from sms_gateway.providers import get_provider
    from sms_gateway.providers.base import SendRequest

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sms_gateway",
            "simulate",
            "--port",
            "0",
            "--template",
            "SMS_NOTICE=${class}有新通知《${title}》，回复1确认",
        ],
        cwd=ROOT,
        env=bench_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = json.loads(proc.stdout.readline())["simulator"]
        provider = get_provider("simulator", endpoint=url)
        phones = tuple(f"139{n:08d}" for n in range(numbers))
        request = SendRequest(
            sign_name="压测小学",
            template_code="SMS_NOTICE",
            phones=phones,
            params={"class": "一年级1班", "title": "运动会"},
        )
        provider.send_batch(
            SendRequest(
                sign_name="压测小学", template_code="SMS_NOTICE", phones=phones[:10], params=request.params
            )
        )
        start = time.perf_counter()
        results = provider.send_batch(request)
        elapsed = time.perf_counter() - start
        assert all(r.accepted for r in results)
        return numbers / elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run(quick: bool, world: Any) -> list[Result]:
    from django.db import connection

    t = time.perf_counter()
    school_id, account_id, admin_id = _seed()
    seeded = time.perf_counter() - t
    s = connection.settings_dict
    dsn = f"host={s['HOST']} port={s['PORT'] or 5432} user={s['USER']} dbname={s['NAME']}"
    if s.get("PASSWORD"):
        dsn += f" password={s['PASSWORD']}"
    repeats = 1 if quick else 3
    from backend.sms.models import SmsMessage

    if not SmsMessage.objects.exists():
        _stack_once(school_id, account_id, admin_id)  # the baseline copies a real row's shape
    from backend.schools.models import SchoolClass

    # Quick: the first 200 classes (10,000 recipients); the target scales linearly.
    class_ids: tuple[int, ...] = ()
    count = RECIPIENTS
    if quick:
        class_ids = tuple(
            SchoolClass.objects.filter(school_id=school_id).order_by("id").values_list("id", flat=True)[:200]
        )
        count = len(class_ids) * CLASS_SIZE
    base, stack = alternate(
        repeats,
        lambda: _baseline_once(dsn, count),
        lambda: _stack_once(school_id, account_id, admin_id, class_ids),
    )
    job_s, copy_s = median(stack), median(base)
    budget = 5.0 * count / RECIPIENTS
    rates = [_simulator_rate(5000 if quick else 20000) for _ in range(repeats)]
    rate = median(rates)
    return [
        Result(
            "mass_text",
            f"{count:,}-recipient job: split, reserved, outbox written (s)",
            job_s,
            "s",
            baseline=copy_s,
            target=f"≤ {budget:g} s (5 s per 100,000)",
            met=job_s <= budget,
            note=f"baseline: COPY {count:,} sms_smsmessage-shaped rows; n={repeats}"
            + (f"; first-run seed {seeded:.0f} s" if seeded > 5 else ""),
        ),
        Result(
            "mass_text",
            "sms_gateway simulator throughput (numbers/s)",
            rate,
            "numbers/s",
            target="≥ 5,000/s",
            met=rate >= 5000,
            note="Aliyun provider → simulator process, 1,000-number SendSms calls",
        ),
    ]
