"""Provider faults (issue #12 item 6): the real aliyun provider against the Dysmsapi
simulator, and the real firebase-admin FCM backend against the mock FCM, both HTTP servers
on loopback, scripted to answer 5xx, time out and rate-limit. What must hold: bounded
retries with backoff, no retry of permanent errors, ambiguous sends reconciled and not
resent, everything delivered once the fault clears, no duplicates, quota exact to the
segment. SMS texts go through the product's submit / sweep / reconcile services (tasks
run eagerly, time moves by the sweep's `now` or time-machine); delivery reports the
simulator posts are collected by a sink and fed to our webhook."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.reliability.servers import wait_until

pytestmark = pytest.mark.django_db

CALLBACK_TOKEN = "reliability-callback-token"
READ_TIMEOUT = 1  # seconds the aliyun provider waits for an answer


class ReportSink:
    """Where the simulator POSTs its delivery reports: kept, then handed to our webhook."""

    def __init__(self) -> None:
        bodies = self.bodies = []  # type: list[bytes]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/report"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def sink() -> Iterator[ReportSink]:
    server = ReportSink()
    yield server
    server.stop()


@pytest.fixture
def simulator(sink: ReportSink, settings: Any) -> Iterator[Any]:
    from tests.sms.simulated import simulator_as_provider

    with simulator_as_provider(
        settings,
        callback_token=CALLBACK_TOKEN,
        callback_ips=[],
        seed=3,
        read_timeout=READ_TIMEOUT,
        report_url=sink.url,
    ) as sim:
        yield sim


class Sms:
    """A school account and jobs on it, and the provider's view of what went out."""

    def __init__(self, world: Any, sim: Any, sink: ReportSink, run: Callable[..., Any], api: Any) -> None:
        from backend.sms.services import sms_account_create, sms_account_top_up

        self.world, self.sim, self.sink, self.run, self.api = world, sim, sink, run, api
        self.account = sms_account_create(org=world.schools[0], signature="【西工区第一小学】")
        sms_account_top_up(account=self.account, segments=1_000)
        self.posted = 0

    def job(self, template: str = "school_closure", **params: str) -> Any:
        from backend.sms.audience import Audience
        from backend.sms.services import JobDraft, sms_job_create

        draft = JobDraft(
            account_id=self.account.pk,
            audience=Audience(class_ids=(self.world.classes[0].pk,), roles=("guardians",)),
            template=template,
            params=params or {"reason": "暴雨红色预警", "date": "明天"},
            urgent=True,  # not held by quiet hours
        )
        return self.run(sms_job_create, user=self.world.school_admins[0], draft=draft)

    def sweep(self, now: datetime | None = None) -> dict[str, int]:
        from backend.sms.services import sms_sweep

        return dict(self.run(sms_sweep, now=now))

    def rows(self, job: Any) -> list[Any]:
        from backend.sms.models import SmsMessage

        return list(SmsMessage.objects.filter(job=job).order_by("id"))

    def states(self, job: Any) -> Counter[str]:
        return Counter(r.state for r in self.rows(job))

    def deliver_reports(self) -> None:
        """Wait for the simulator's reports and post them to our webhook."""
        assert self.sim.wait_for_callbacks(timeout=10)
        for body in self.sink.bodies[self.posted :]:
            response = self.run(
                self.api.post,
                f"/api/v1/sms/callbacks/simulator/report/?token={CALLBACK_TOKEN}",
                data=body,
                content_type="application/json",
            )
            assert response.status_code == 200, response.content
        self.posted = len(self.sink.bodies)

    def assert_quota_exact(self, *, delivered: int, segments_each: int) -> None:
        from backend.sms.models import SmsAccount
        from backend.sms.selectors import ledger_mismatches

        account = SmsAccount.objects.get(pk=self.account.pk)
        assert (account.balance, account.reserved) == (1_000 - delivered * segments_each, 0)
        assert ledger_mismatches() == []


@pytest.fixture
def sms(
    world: Any, simulator: Any, sink: ReportSink, api: Any, django_capture_on_commit_callbacks: Any
) -> Sms:
    from tests.sms.factories import add_guardians

    add_guardians(world.classes[0], 17)  # + the world's 3: 20 families

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return Sms(world, simulator, sink, run, api)


FAMILIES = 20


def test_sms_5xx_and_rate_limits_back_off_then_deliver_each_text_once(sms: Sms) -> None:
    from backend.sms.models import MessageState

    sim = sms.sim
    sim.fail_next("isp.SYSTEM_ERROR", "系统出现错误", http_status=500)
    sim.fail_next("ServiceUnavailable", "The request has failed due to a temporary failure", http_status=503)
    sim.fail_next("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1000")
    job = sms.job()
    assert job.total == FAMILIES

    # attempt 1: 500 → deferred 30 s; 2: 503 → 60 s; 3: rate limit (minute window) → 60 s
    for attempt, (code, delay) in enumerate(
        [("isp.SYSTEM_ERROR", 30), ("ServiceUnavailable", 60), ("isv.BUSINESS_LIMIT_CONTROL", 60)], start=1
    ):
        rows = sms.rows(job)
        assert {(r.state, r.error_code, r.attempts) for r in rows} == {(MessageState.DEFERRED, code, attempt)}
        due = rows[0].next_attempt_at
        assert {r.next_attempt_at - r.deferred_at for r in rows} == {timedelta(seconds=delay)}
        assert sms.sweep(now=due - timedelta(seconds=1))["retried"] == 0  # not before its time
        assert sim.requests["SendSms"] == attempt
        assert sms.sweep(now=due)["retried"] == FAMILIES

    assert sim.requests["SendSms"] == 4
    assert sms.states(job) == {MessageState.SUBMITTED: FAMILIES}
    sms.deliver_reports()
    assert sms.states(job) == {MessageState.DELIVERED: FAMILIES}
    counts = sim.send_counts()
    assert len(counts) == FAMILIES
    assert set(counts.values()) == {1}
    sms.assert_quota_exact(delivered=FAMILIES, segments_each=job.segments_per_message)


def test_sms_retries_are_bounded_then_the_quota_is_released(sms: Sms) -> None:
    from backend.sms.models import MessageState
    from backend.sms.services.submission import MAX_ATTEMPTS

    sms.sim.fail_next("isp.SYSTEM_ERROR", "系统出现错误", http_status=500, times=50)
    job = sms.job()
    delays = []
    for _ in range(MAX_ATTEMPTS - 1):
        row = sms.rows(job)[0]
        assert row.state == MessageState.DEFERRED
        delays.append((row.next_attempt_at - row.deferred_at).total_seconds())
        sms.sweep(now=row.next_attempt_at)
    assert delays == [30 * 2**n for n in range(MAX_ATTEMPTS - 1)]  # exponential backoff
    assert sms.states(job) == {MessageState.FAILED: FAMILIES}
    assert {r.attempts for r in sms.rows(job)} == {MAX_ATTEMPTS}
    assert sms.sim.requests["SendSms"] == MAX_ATTEMPTS
    sms.sweep(now=sms.rows(job)[0].failed_at + timedelta(days=1))
    assert sms.sim.requests["SendSms"] == MAX_ATTEMPTS  # given up for good
    assert sms.sim.sends == []
    sms.assert_quota_exact(delivered=0, segments_each=job.segments_per_message)


def test_sms_permanent_errors_are_not_retried(sms: Sms) -> None:
    from backend.sms.models import MessageState

    bad = sms.world.guardians[0][1].phone
    sms.sim.reject_number(bad)  # Aliyun refuses the whole call and does not say which number
    job = sms.job()
    rows = {r.phone: r for r in sms.rows(job)}
    assert rows[bad].state == MessageState.FAILED
    assert rows[bad].error_code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert sms.states(job) == {MessageState.SUBMITTED: FAMILIES - 1, MessageState.FAILED: 1}
    calls = sms.sim.requests["SendSms"]
    assert calls <= 2 * FAMILIES.bit_length() + 1  # halves until the number is isolated

    sms.sim.fail_next("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法(不存在或被拉黑)")
    misconfigured = sms.job("safety_reminder", topic="暴雨期间远离河道")
    assert sms.states(misconfigured) == {MessageState.FAILED: FAMILIES}
    assert sms.sim.requests["SendSms"] == calls + 1

    sms.sweep(now=datetime.now().astimezone() + timedelta(days=1))
    assert sms.sim.requests["SendSms"] == calls + 1  # neither is tried again
    sms.deliver_reports()
    assert sms.states(job) == {MessageState.DELIVERED: FAMILIES - 1, MessageState.FAILED: 1}
    counts = sms.sim.send_counts()
    assert bad not in counts
    assert len(counts) == FAMILIES - 1
    assert set(counts.values()) == {1}
    sms.assert_quota_exact(delivered=FAMILIES - 1, segments_each=job.segments_per_message)


def test_sms_timeouts_are_reconciled_not_resent(sms: Sms, time_machine: Any) -> None:
    from backend.sms.models import MessageState, SmsMessage

    sim = sms.sim
    sim.stall_next(READ_TIMEOUT + 2)  # accepted, but the answer comes after the provider gave up
    accepted = sms.job()
    assert sms.states(accepted) == {MessageState.AMBIGUOUS: FAMILIES}
    assert {r.error_code for r in sms.rows(accepted)} == {"NETWORK_TIMEOUT"}
    sim.fail_next("BadGateway", "upstream timed out", http_status=504)  # a proxy: did it go out?
    lost = sms.job("safety_reminder", topic="暴雨期间远离河道")
    assert sms.states(lost) == {MessageState.AMBIGUOUS: FAMILIES}
    assert sim.requests["SendSms"] == 2
    assert len(sim.sends) == FAMILIES  # only the stalled call was accepted

    # The next sweep asks QuerySendDetails: the accepted texts are found and settled …
    time_machine.move_to(datetime.now().astimezone() + timedelta(minutes=1))
    assert sms.sweep()["reconciling"] == 2 * FAMILIES
    wait_until(lambda: sim.wait_for_callbacks(0), 5, "the simulator to settle its sends")
    assert set(sms.states(accepted)) <= {MessageState.DELIVERED, MessageState.SUBMITTED}
    assert sum(sms.states(accepted).values()) == FAMILIES
    assert sms.states(lost) == {MessageState.AMBIGUOUS: FAMILIES}  # … the others wait for the grace
    assert sim.requests["SendSms"] == 2

    # … and after the grace period, texts the provider never saw are sent, once.
    time_machine.move_to(datetime.now().astimezone() + timedelta(minutes=11))
    sms.sweep()
    assert len(sim.sends) == 2 * FAMILIES
    calls = sim.requests["SendSms"]
    sms.deliver_reports()
    assert sms.states(accepted) == {MessageState.DELIVERED: FAMILIES}
    assert sms.states(lost) == {MessageState.DELIVERED: FAMILIES}
    sms.sweep()
    assert sim.requests["SendSms"] == calls
    source_of = dict(SmsMessage.objects.values_list("out_id", "source"))
    sources = Counter((source_of[s.out_id], s.phone) for s in sim.sends)
    assert len(sources) == 2 * FAMILIES
    assert set(sources.values()) == {1}
    assert set(sim.send_counts().values()) == {2}  # each family: one text per job
    sms.assert_quota_exact(delivered=2 * FAMILIES, segments_each=accepted.segments_per_message)


# -- push --------------------------------------------------------------------------------

PUSH_FAULTS: dict[str, list[str]] = {
    "ok": [],
    "unavailable": ["UNAVAILABLE", "UNAVAILABLE"],  # 503 twice, then fine
    "internal": ["INTERNAL"],  # 500 once
    "quota": ["QUOTA_EXCEEDED"],  # 429 with Retry-After
    "stall": ["STALL"],  # accepted, answered after the client's timeout
    "down": ["UNAVAILABLE"] * 20,  # never recovers within the attempts
    "gone": ["UNREGISTERED"],  # permanent: the app was uninstalled
    "mismatch": ["SENDER_ID_MISMATCH"],  # permanent for this message
}
RETRY_AFTER = 7


def test_push_5xx_timeouts_and_quota_retry_with_backoff_and_stop_on_permanent_errors(
    world: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, time_machine: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    from backend.accounts.models import Device, User
    from backend.delivery import tasks
    from backend.delivery.models import Delivery, PushAttempt, PushState
    from backend.delivery.push import MAX_ATTEMPTS, reset_push_backend
    from backend.delivery.push.mock_fcm import MockFcm
    from backend.notices.services import notice_create
    from tests.notices.conftest import DAYTIME, build_class

    time_machine.move_to(DAYTIME)
    mock = MockFcm(scripted=PUSH_FAULTS, retry_after=RETRY_AFTER, stall_seconds=4).start()
    try:
        settings.PUSH_BACKEND = "fcm"
        settings.FCM_PROJECT_ID = "jiaxiao-reliability"
        settings.FCM_ENDPOINT = mock.url
        settings.FCM_CREDENTIALS_FILE = None
        settings.FCM_HTTP_TIMEOUT = 1.0
        reset_push_backend()
        families = build_class(
            school=world.schools[0], grade=world.classes[0].grade, name="推送班", families=len(PUSH_FAULTS),
            teacher=world.teachers[0],
        )  # fmt: skip
        from backend.schools.models import Guardianship

        guardians = [
            link.guardian
            for link in Guardianship.objects.filter(student__class_memberships__school_class=families)
            .select_related("guardian")
            .order_by("guardian_id")
        ]
        by_token = {}
        for guardian, token in zip(guardians, PUSH_FAULTS, strict=True):
            Device.objects.create(user=guardian, platform="android", token=token)
            by_token[token] = guardian
        User.objects.filter(pk__in=[g.pk for g in guardians]).update(first_app_login_at=DAYTIME)

        scheduled: list[tuple[list[int], float]] = []

        def record(args: tuple[list[int]], countdown: float) -> None:
            scheduled.append((args[0], countdown))

        monkeypatch.setattr(tasks.delivery_push_retry, "apply_async", record)
        with django_capture_on_commit_callbacks(execute=True):
            notice = notice_create(
                author=world.teachers[0], title="停课通知", body="明天停课。", audience="guardians",
                class_ids=[families.pk], sms_fallback=False,
            )  # fmt: skip

        # The retry task, run when the broker would hand it over, until nothing is left.
        countdowns = []
        for _ in range(MAX_ATTEMPTS + 2):
            if not scheduled:
                break
            ids, countdown = scheduled.pop(0)
            countdowns.append(countdown)
            with django_capture_on_commit_callbacks(execute=True):
                tasks.delivery_push_retry(ids)
        assert scheduled == []
    finally:
        mock.stop()
        reset_push_backend()

    # Backoff: never sooner than Retry-After, never beyond the cap; attempts are bounded.
    assert len(countdowns) == MAX_ATTEMPTS - 1
    assert all(RETRY_AFTER <= c <= 300 for c in countdowns), countdowns
    requests = Counter(token for token, _ in mock.received)
    assert requests == {
        "ok": 1, "unavailable": 3, "internal": 2, "quota": 2, "stall": 2, "down": MAX_ATTEMPTS, "gone": 1,
        "mismatch": 1,
    }  # fmt: skip
    # Delivered once the fault cleared; each device got it once, except the timed-out one:
    # FCM has no status query, so it is resent with the same collapse key, which the phone
    # shows as one notification (replaces, not duplicates).
    accepted = Counter(token for token, _ in mock.accepted)
    assert accepted == {"ok": 1, "unavailable": 1, "internal": 1, "quota": 1, "stall": 2}
    stalled = [m for t, m in mock.accepted if t == "stall"]
    assert stalled[0]["android"]["collapse_key"] == stalled[1]["android"]["collapse_key"]
    assert (
        stalled[0]["apns"]["headers"]["apns-collapse-id"] == stalled[1]["apns"]["headers"]["apns-collapse-id"]
    )
    assert stalled[0]["notification"] == stalled[1]["notification"]

    rows = {
        d.recipient_id: d
        for d in Delivery.objects.filter(dispatch__source_id=notice.pk, dispatch__source_type="notice")
    }
    state = {token: rows[user.pk].push_state for token, user in by_token.items()}
    sent = {"ok", "unavailable", "internal", "quota", "stall"}
    assert {t for t, s in state.items() if s == PushState.SENT} == sent
    assert not Device.objects.filter(token="gone").exists()  # the uninstalled app is forgotten
    assert Device.objects.filter(token="mismatch").exists()
    attempts = {a.token: (a.attempts, a.outcome) for a in PushAttempt.objects.all()}
    assert attempts["down"] == (MAX_ATTEMPTS, "retry")
    assert attempts["mismatch"] == (1, "failed")
