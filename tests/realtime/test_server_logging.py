"""Autobahn's per-handshake and per-frame debug formatting is deferred until a line is
rendered (backend/realtime/server_logging.py): nothing lost when debug logging is on."""

from __future__ import annotations

import pprint
from typing import Any

from autobahn import util
from autobahn.twisted import websocket as twisted_websocket
from autobahn.websocket import protocol

from backend.realtime.server_logging import defer_autobahn_debug_formatting, deferred


def _count_formatting(monkeypatch: Any) -> list[object]:
    """Every pprint formatting and terminal colouring, whoever imported the helpers."""
    calls: list[object] = []
    real_pformat, real_hl = pprint.PrettyPrinter.pformat, util.hl

    def counted_pformat(self: pprint.PrettyPrinter, value: object) -> str:
        calls.append(value)
        return real_pformat(self, value)

    def counted_hl(text: object, *args: Any, **kwargs: Any) -> str:
        calls.append(text)
        return str(real_hl(text, *args, **kwargs))

    monkeypatch.setattr(pprint.PrettyPrinter, "pformat", counted_pformat)
    monkeypatch.setattr(util, "hl", counted_hl)  # hltype and hlval call it
    return calls


def test_the_asgi_application_installs_the_deferred_helpers() -> None:
    import backend.asgi  # noqa: F401  (what daphne loads)

    for module in (protocol, twisted_websocket):
        assert module.hltype.deferred_format is util.hltype
        assert module.hlval.deferred_format is util.hlval
    assert protocol.pformat.deferred_format is pprint.pformat
    assert defer_autobahn_debug_formatting()  # again: nothing wrapped twice
    assert protocol.hltype.deferred_format is util.hltype


def test_nothing_is_formatted_until_the_line_is_rendered(monkeypatch: Any) -> None:
    calls = _count_formatting(monkeypatch)
    options = [("openHandshakeTimeout", 5, "WebSocketServerFactory"), ("autoPingInterval", 40, "x")]
    attrs = deferred(pprint.pformat)(options)
    func = deferred(util.hltype)(test_nothing_is_formatted_until_the_line_is_rendered)
    size = deferred(util.hlval)(42)
    assert calls == []
    # As txaio/twisted render "{func} sent {data_len} bytes" when debug logging is on.
    template = "{func} sent {data_len} bytes\n{attrs}"
    line = template.format(func=func, data_len=size, attrs=attrs)
    assert line == (
        f"{util.hltype(test_nothing_is_formatted_until_the_line_is_rendered)} sent {util.hlval(42)} bytes\n"
        + pprint.pformat(options)
    )
    assert str(attrs) == repr(attrs) == pprint.pformat(options)
    assert calls


def test_autobahn_timings_still_print_as_text() -> None:
    import backend.asgi  # noqa: F401

    timings = protocol.Timings()
    timings.track("onOpen")
    text = str(timings)
    assert isinstance(text, str)
    assert "onOpen" in text


def test_a_connection_and_its_frames_format_nothing_with_debug_off(monkeypatch: Any) -> None:
    from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
    from twisted.internet.testing import StringTransport

    import backend.asgi  # noqa: F401

    calls = _count_formatting(monkeypatch)
    server = WebSocketServerProtocol()
    server.factory = WebSocketServerFactory()
    protocol.WebSocketProtocol._connectionMade(server)  # copies ~40 options, logs them at debug
    assert server.openHandshakeTimeout == server.factory.openHandshakeTimeout
    server.transport = StringTransport()
    server.state = protocol.WebSocketProtocol.STATE_OPEN
    server.send_queue = []
    server.triggered = False
    server.sendData(b"\x81\x02hi")  # a frame on the wire, logged at debug
    assert server.transport.value() == b"\x81\x02hi"
    assert calls == []
