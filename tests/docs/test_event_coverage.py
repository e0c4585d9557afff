"""Every event type the code can emit is registered (and so has a schema and is in
asyncapi.yaml). Scans backend/ for send_event_on_commit(users, TYPE, data) and
Event(type=TYPE, ...) (what delivery.notify() takes) and resolves TYPE: a string
literal, or a name/attribute evaluated in the calling module."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from backend.realtime.registry import registered_events

BACKEND = Path(__file__).resolve().parents[2] / "backend"
# The doors themselves pass a caller's type through; they are not emitters.
PASS_THROUGH = {"backend/realtime/services.py", "backend/delivery/services.py"}


def _module_name(path: Path) -> str:
    relative = path.relative_to(BACKEND.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_argument(call: ast.Call) -> ast.expr | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name == "send_event_on_commit":
        if len(call.args) >= 2:
            return call.args[1]
        return next((k.value for k in call.keywords if k.arg == "event_type"), None)
    if name == "Event":
        if call.args:
            return call.args[0]
        return next((k.value for k in call.keywords if k.arg == "type"), None)
    return None


def emitted_event_types() -> dict[str, list[str]]:
    """Event type → where it is emitted ("backend/x.py:12"). Unresolvable arguments
    are reported as "<unresolved expr>" so the test names them."""
    found: dict[str, list[str]] = {}
    for path in sorted(BACKEND.rglob("*.py")):
        relative = str(path.relative_to(BACKEND.parent))
        if "/migrations/" in relative or relative in PASS_THROUGH:
            continue
        source = path.read_text(encoding="utf-8")
        if "send_event_on_commit" not in source and "Event(" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call):
                continue
            argument = _type_argument(node)
            if argument is None:
                continue
            where = f"{relative}:{node.lineno}"
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                value = argument.value
            elif isinstance(argument, ast.Name | ast.Attribute):
                namespace = vars(importlib.import_module(_module_name(path)))
                try:
                    value = eval(compile(ast.Expression(argument), relative, "eval"), dict(namespace))
                except (NameError, AttributeError):
                    value = f"<unresolved {ast.unparse(argument)}>"
            else:
                value = f"<unresolved {ast.unparse(argument)}>"
            found.setdefault(str(value), []).append(where)
    return found


def test_the_scan_finds_the_known_emitters():
    emitted = emitted_event_types()

    # If these disappear the scanner is broken, not the code.
    assert {"notice.created", "notice.recalled", "notice.receipt_updated", "sms.job_progress"} <= set(emitted)
    assert {"homework.assigned", "checkin.commented"} <= set(emitted)


def test_every_emitted_event_type_is_registered():
    emitted = emitted_event_types()

    unregistered = {t: where for t, where in emitted.items() if t not in registered_events()}

    assert unregistered == {}, f"emitted but not registered (add to the app's events.py): {unregistered}"


def test_every_registered_event_type_is_emitted_somewhere():
    emitted = emitted_event_types()

    assert set(registered_events()) - set(emitted) == set()
