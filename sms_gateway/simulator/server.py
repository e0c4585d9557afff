"""A local HTTP server that answers like Aliyun Dysmsapi, with scriptable faults.

Point the ``aliyun`` provider at :attr:`DysmsapiSimulator.url`. Every accepted message is
remembered (for exactly-once assertions); delivery reports (SmsReport) and scripted
replies (SmsUp) are POSTed to callback URLs in batches.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sms_gateway.callbacks import SHANGHAI, DeliveryReport, Reply
from sms_gateway.providers import SIMULATOR_ACCESS_KEY_ID, SIMULATOR_ACCESS_KEY_SECRET
from sms_gateway.providers.base import SendStatus
from sms_gateway.simulator import actions
from sms_gateway.simulator.actions import ApiError, Delivery, Message, SimulatedSend
from sms_gateway.simulator.dispatch import CallbackDispatcher

_NONCE_MEMORY = 100_000
_POLL_INTERVAL = 0.05  # how fast stop() is noticed; the stdlib default of 0.5 s slows test teardown


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # stalled or keep-alive handlers must not block shutdown
    simulator: DysmsapiSimulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK reuses pooled connections
    server: _Server
    timeout = 60  # idle keep-alive connections are closed eventually

    def do_GET(self) -> None:
        self._answer("GET", b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._answer("POST", self.rfile.read(length))

    def _answer(self, method: str, body: bytes) -> None:
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        status, payload, stall = self.server.simulator.handle(method, params)
        data = json.dumps(payload, ensure_ascii=False).encode()
        if stall:
            time.sleep(stall)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client gave up (stalled on purpose)

    def log_message(self, format: str, *args: Any) -> None:  # stdlib's parameter name
        """Silence per-request logging: benchmarks make thousands of requests."""


class DysmsapiSimulator:
    """Simulated Dysmsapi (SendSms, SendBatchSms, QuerySendDetails) on a local port.

    ``port=0`` picks a free port (read :attr:`url` after :meth:`start`). ``rate_limit`` is
    in numbers per second. Signatures are verified unless ``verify_signature`` is False.
    Use as a context manager, or call :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_key_id: str = SIMULATOR_ACCESS_KEY_ID,
        access_key_secret: str = SIMULATOR_ACCESS_KEY_SECRET,
        verify_signature: bool = True,
        latency: float = 0.0,
        error_rate: float = 0.0,
        rate_limit: int | None = None,
        report_url: str | None = None,
        reply_url: str | None = None,
        report_delay: float = 0.0,
        report_batch_size: int = 500,
        templates: Mapping[str, str] | None = None,
        seed: int | None = None,
    ) -> None:
        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret
        self.verify_signature = verify_signature
        self.latency, self.error_rate, self.rate_limit = latency, error_rate, rate_limit
        self.templates = dict(templates or {})
        self.requests: Counter[str] = Counter()
        self._rng = random.Random(seed)  # noqa: S311 - fault injection, not cryptography
        self._lock = threading.Lock()
        self._sends: list[SimulatedSend] = []
        self._by_phone: defaultdict[str, list[SimulatedSend]] = defaultdict(list)
        self._states: dict[tuple[str, str], Delivery] = {}
        self._rejected: dict[str, str] = {}
        self._undeliverable: dict[str, str] = {}
        self._replies: defaultdict[str, deque[str]] = defaultdict(deque)
        self._scripted: deque[ApiError] = deque()
        self._stalls: deque[float] = deque()
        self._nonces: set[str] = set()
        self._recent: deque[tuple[float, int]] = deque()  # (monotonic time, numbers)
        self._recent_total = 0
        self._ids = itertools.count(1)
        self._sequence = itertools.count(1)
        self.dispatcher: CallbackDispatcher[SimulatedSend] = CallbackDispatcher(
            self._deliver,
            report_url=report_url,
            reply_url=reply_url,
            delay=report_delay,
            batch_size=report_batch_size,
        )
        self._server = _Server((host, port), _Handler)
        self._server.simulator = self
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """``host:port`` the server listens on."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def url(self) -> str:
        """``http://host:port``: pass as the aliyun provider's ``endpoint``."""
        return f"http://{self.endpoint}"

    def start(self) -> DysmsapiSimulator:
        """Serve in a daemon thread; returns self."""
        self.dispatcher.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name="sms-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI's ``simulate``)."""
        self.dispatcher.start()
        try:
            self._server.serve_forever(poll_interval=_POLL_INTERVAL)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving and posting callbacks."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self.dispatcher.stop()

    def __enter__(self) -> DysmsapiSimulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------

    def reject_number(self, phone: str, code: str = "isv.MOBILE_NUMBER_ILLEGAL") -> None:
        """Answer ``code`` to any send that includes ``phone`` (Aliyun rejects the whole call)."""
        self._rejected[phone] = code

    def fail_delivery(self, phone: str, err_code: str = "MK:0001") -> None:
        """Accept sends to ``phone`` but report them undelivered with ``err_code``."""
        self._undeliverable[phone] = err_code

    def script_reply(self, phone: str, content: str) -> None:
        """After the next delivery to ``phone``, post an SmsUp reply with ``content``."""
        with self._lock:
            self._replies[phone].append(content)

    def fail_next(
        self, code: str, message: str = "scripted", *, http_status: int = 200, times: int = 1
    ) -> None:
        """Answer the next ``times`` requests (any action) with this error."""
        with self._lock:
            self._scripted.extend(ApiError(code, message, http_status) for _ in range(times))

    def stall_next(self, seconds: float, *, times: int = 1) -> None:
        """Accept the next ``times`` sends, then answer only after ``seconds`` (client timeout)."""
        with self._lock:
            self._stalls.extend([seconds] * times)

    def hold_callbacks(self) -> None:
        """Keep accepted messages pending (QuerySendDetails answers 1, no report is
        posted) until :meth:`release_callbacks`: reports that are late."""
        self.dispatcher.hold()

    def release_callbacks(self) -> None:
        """Settle the held messages and post their reports and replies."""
        self.dispatcher.release()

    # -- observation -------------------------------------------------------------------

    @property
    def sends(self) -> list[SimulatedSend]:
        """Every accepted message, in arrival order (a copy)."""
        with self._lock:
            return list(self._sends)

    def send_counts(self) -> Counter[str]:
        """Accepted messages per phone: exactly-once means every count is 1."""
        with self._lock:
            return Counter({phone: len(sends) for phone, sends in self._by_phone.items()})

    def wait_for_callbacks(self, timeout: float = 5.0) -> bool:
        """Block until every report and reply due so far was posted; False on timeout."""
        return self.dispatcher.wait_idle(timeout)

    # -- request handling --------------------------------------------------------------

    def handle(self, method: str, params: Mapping[str, str]) -> tuple[int, dict[str, object], float]:
        """Answer one API call: (HTTP status, JSON body, seconds to stall before answering)."""
        request_id = str(uuid.uuid4()).upper()
        action = params.get("Action", "")
        with self._lock:
            self.requests[action] += 1
        if self.latency:
            time.sleep(self.latency)
        try:
            payload, stall = self._dispatch(method, action, params)
        except ApiError as error:
            body: dict[str, object] = {
                "RequestId": request_id,
                "Code": error.code,
                "Message": error.message,
            }
            return error.http_status, body, 0.0
        return 200, {"RequestId": request_id, "Code": "OK", "Message": "OK", **payload}, stall

    def _dispatch(
        self, method: str, action: str, params: Mapping[str, str]
    ) -> tuple[dict[str, object], float]:
        if self.verify_signature:
            actions.check_signature(
                method, params, self.access_key_id, self.access_key_secret, datetime.now(UTC)
            )
            self._check_nonce(params.get("SignatureNonce", ""))
        if params.get("Version") != actions.API_VERSION:
            raise ApiError(
                "InvalidVersion", f"Specified parameter Version is not valid: {params.get('Version')}", 400
            )
        with self._lock:
            scripted = self._scripted.popleft() if self._scripted else None
        if scripted is not None:
            raise scripted
        if self.error_rate and self._rng.random() < self.error_rate:
            raise ApiError("isp.SYSTEM_ERROR", "simulated system error")
        if action == "SendSms":
            return self._accept(actions.send_sms_messages(params), params)
        if action == "SendBatchSms":
            return self._accept(actions.send_batch_sms_messages(params), params)
        if action == "QuerySendDetails":
            phone = actions.require(params, "PhoneNumber")
            with self._lock:
                return actions.query_page(params, list(self._by_phone.get(phone, [])), self._states), 0.0
        raise ApiError("InvalidAction.NotFound", f"Specified api is not found: {action!r}", 404)

    def _check_nonce(self, nonce: str) -> None:
        with self._lock:
            if nonce in self._nonces:
                raise ApiError("SignatureNonceUsed", "Specified signature nonce was used already.", 400)
            if len(self._nonces) >= _NONCE_MEMORY:
                self._nonces.clear()  # bounded memory; replays that old are out of the time window
            self._nonces.add(nonce)

    def _accept(self, messages: list[Message], params: Mapping[str, str]) -> tuple[dict[str, object], float]:
        actions.check_numbers(messages, self._rejected)
        template_code, out_id = params["TemplateCode"], params.get("OutId") or None
        now = datetime.now(SHANGHAI)
        with self._lock:
            self._check_rate(len(messages))
            stall = self._stalls.popleft() if self._stalls else 0.0
            biz_id = f"{next(self._ids):012d}{self._rng.randrange(10**6):06d}^0"
            accepted = []
            for m in messages:
                content, size = actions.render(self.templates, template_code, m)
                send = SimulatedSend(
                    biz_id,
                    m.phone,
                    m.sign_name,
                    template_code,
                    m.params,
                    content,
                    size,
                    out_id,
                    m.extend_code,
                    now,
                )
                accepted.append(send)
                self._by_phone[m.phone].append(send)
                self._states[(biz_id, m.phone)] = Delivery()
            self._sends.extend(accepted)
        self.dispatcher.submit(accepted)
        return {"BizId": biz_id}, stall

    def _check_rate(self, count: int) -> None:
        """Sliding one-second window on numbers (caller holds the lock).

        Sliding rather than per-calendar-second so that two calls 10 ms apart are judged
        the same way whether or not a second boundary falls between them.
        """
        if self.rate_limit is None:
            return
        now = time.monotonic()
        while self._recent and self._recent[0][0] <= now - 1.0:
            _, expired = self._recent.popleft()
            self._recent_total -= expired
        if self._recent_total + count > self.rate_limit:
            # 秒级 is simulator wording; Aliyun's own windows are 分钟级/小时级/天级.
            raise ApiError("isv.BUSINESS_LIMIT_CONTROL", f"触发秒级流控Permits:{self.rate_limit}")
        self._recent.append((now, count))
        self._recent_total += count

    def _deliver(self, batch: Sequence[SimulatedSend]) -> tuple[list[DeliveryReport], list[Reply]]:
        """Settle each send's delivery and build the reports and replies to post."""
        now = datetime.now(SHANGHAI)
        reports, replies = [], []
        with self._lock:
            for send in batch:
                err_code = self._undeliverable.get(send.phone)
                state = self._states[(send.biz_id, send.phone)]
                state.status = SendStatus.FAILED if err_code else SendStatus.DELIVERED
                state.err_code, state.receive_time = err_code or "DELIVERED", now
                reports.append(
                    DeliveryReport(
                        phone=send.phone,
                        biz_id=send.biz_id,
                        success=err_code is None,
                        err_code=state.err_code,
                        err_msg="用户接收成功" if err_code is None else "simulated delivery failure",
                        sms_size=send.sms_size,
                        send_time=send.received_at,
                        report_time=now,
                        out_id=send.out_id,
                    )
                )
                queued = self._replies.get(send.phone)
                if err_code is None and queued:
                    replies.append(
                        Reply(
                            send.phone,
                            queued.popleft(),
                            now,
                            send.sign_name,
                            send.extend_code or "",
                            next(self._sequence),
                        )
                    )
        return reports, replies


def run_until_interrupted(simulator: DysmsapiSimulator, announce: Callable[[str], None]) -> None:
    """Serve ``simulator`` in this thread, announce its URL, stop on Ctrl-C."""
    announce(simulator.url)
    with contextlib.suppress(KeyboardInterrupt):
        simulator.serve_forever()
