"""Autobahn (daphne's WebSocket engine) formats debug lines that nobody reads.

autobahn 26.x builds the arguments of its `self.log.debug(...)` calls before txaio drops
them (debug is off under daphne): on every connection it `pformat`s its whole protocol
configuration (~40 options) and the transport details, and on every frame received or
sent it colours names and values for the terminal (`hltype`/`hlval`, click.style).
bench/ (py-spy --gil on one daphne process): ~5 % of a handshake's CPU for the
`pformat`s, ~12 % of an idle socket's ping/pong for the colouring. There is no option to
turn them off, so `defer_autobahn_debug_formatting()` swaps those helpers, in the
autobahn modules that use them for log arguments only, for versions that format when a
line is actually rendered (debug logging on) and not before: the text is the same.
`Timings.__str__`, the one other user of `pformat` there, gets the real one back.

Checked against autobahn 26.10 (tests/realtime/test_server_logging.py)."""

from __future__ import annotations

import pprint
from collections.abc import Callable
from typing import Any

# The modules whose log arguments are deferred, and the helpers deferred in each.
DEFERRED_HELPERS = {
    "autobahn.websocket.protocol": ("pformat", "hltype", "hlval"),
    "autobahn.twisted.websocket": ("hltype", "hlval"),
}


class DeferredText:
    """`render(*args, **kwargs)` computed only when the object is turned into text."""

    __slots__ = ("_args", "_format", "_kwargs")

    def __init__(self, render: Callable[..., str], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._format = render
        self._args = args
        self._kwargs = kwargs

    def __str__(self) -> str:
        return str(self._format(*self._args, **self._kwargs))

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def deferred(render: Callable[..., str]) -> Callable[..., DeferredText]:
    """`render`, returning a DeferredText instead of the text."""

    def defer(*args: Any, **kwargs: Any) -> DeferredText:
        return DeferredText(render, args, kwargs)

    defer.__name__ = f"deferred_{getattr(render, '__name__', 'render')}"
    defer.deferred_format = render  # type: ignore[attr-defined]
    return defer


def _timings_str(self: Any) -> str:
    return pprint.pformat(self._timings)


def defer_autobahn_debug_formatting() -> bool:
    """Install the deferred helpers in autobahn's modules (idempotent). Returns whether
    autobahn is there, laid out as expected, and now tuned."""
    import importlib

    try:
        modules = {name: importlib.import_module(name) for name in DEFERRED_HELPERS}
    except ImportError:  # pragma: no cover - daphne (a dependency) brings autobahn
        return False
    if not all(hasattr(modules[m], h) for m, helpers in DEFERRED_HELPERS.items() for h in helpers):
        return False  # another autobahn layout: leave it as it is
    protocol = modules["autobahn.websocket.protocol"]
    if not hasattr(protocol, "Timings"):
        return False
    protocol.Timings.__str__ = _timings_str
    for name, helpers in DEFERRED_HELPERS.items():
        for helper in helpers:
            current = getattr(modules[name], helper)
            if not hasattr(current, "deferred_format"):  # not installed yet
                setattr(modules[name], helper, deferred(current))
    return True
