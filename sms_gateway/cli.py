"""``python -m sms_gateway``: segments, carrier, send, simulate. Every command prints JSON.

Exit codes: 0 success; 1 invalid input or a failed call; 2 usage error (argparse);
3 ``send`` reached the provider but at least one number was rejected.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from sms_gateway.errors import SmsError
from sms_gateway.phones import check_phone
from sms_gateway.providers import PROVIDERS, get_provider
from sms_gateway.providers.base import SendRequest, SendResult
from sms_gateway.segments import MessageLengthError, bracket_signature, measure

EXIT_OK, EXIT_FAILED, EXIT_REJECTED = 0, 1, 3
_REMOTE_PROVIDERS = ("aliyun", "simulator")


def _emit(payload: Any, *, indent: int | None = 2) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=indent))


def _segments(args: argparse.Namespace) -> int:
    try:
        size = measure(args.text, signature=args.signature)
    except MessageLengthError as exc:
        _emit({"error": "message_length", "length": exc.length, "message": str(exc)})
        return EXIT_FAILED
    _emit({"length": size.length, "segments": size.segments, "signature": bracket_signature(args.signature)})
    return EXIT_OK


def _carrier(args: argparse.Namespace) -> int:
    checked = check_phone(args.phone)
    if checked.phone is None:
        _emit({"input": args.phone, "valid": False, "problem": str(checked.problem)})
        return EXIT_FAILED
    carrier = checked.carrier
    _emit(
        {
            "input": args.phone,
            "valid": True,
            "phone": checked.phone,
            "carrier": str(carrier),
            "carrier_name": carrier.chinese_name,
            "note": "carrier is a hint: numbers can be ported between carriers",
        }
    )
    return EXIT_OK


def _result_json(result: SendResult) -> dict[str, Any]:
    failure = result.failure
    return {
        "phone": result.phone,
        "normalized_phone": result.normalized_phone,
        "accepted": result.accepted,
        "biz_id": result.biz_id,
        "error_class": None if failure is None else str(failure.error_class),
        "code": None if failure is None else failure.code,
        "message": None if failure is None else failure.message,
        "retry_after": None if failure is None else failure.retry_after,
    }


def _provider_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.provider == "console":
        return {"stream": sys.stderr}  # stdout carries the JSON result
    if args.provider not in _REMOTE_PROVIDERS:
        return {}
    options: dict[str, Any] = {"read_timeout": args.read_timeout}
    key_id = args.access_key_id or os.environ.get("ALIYUN_ACCESS_KEY_ID")
    secret = args.access_key_secret or os.environ.get("ALIYUN_ACCESS_KEY_SECRET")
    for name, value in (
        ("endpoint", args.endpoint),
        ("access_key_id", key_id),
        ("access_key_secret", secret),
    ):
        if value:
            options[name] = value
    if args.provider == "aliyun":
        options.setdefault("access_key_id", "")  # the provider reports missing credentials
        options.setdefault("access_key_secret", "")
    return options


def _send(args: argparse.Namespace) -> int:
    try:
        params = json.loads(args.params)
    except ValueError as exc:
        _emit({"error": "params", "message": f"--params is not valid JSON: {exc}"})
        return EXIT_FAILED
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        _emit({"error": "params", "message": "--params must be a JSON object of string values"})
        return EXIT_FAILED
    phones = tuple(p for arg in args.phones for p in arg.split(",") if p.strip())
    try:
        provider = get_provider(args.provider, **_provider_options(args))
        request = SendRequest(
            sign_name=args.sign_name,
            template_code=args.template,
            phones=phones,
            params=params,
            out_id=args.out_id,
            extend_code=args.extend_code,
        )
        results = provider.send_batch(request)
    except SmsError as exc:
        _emit({"error": str(exc.error_class), "code": exc.code, "message": exc.message})
        return EXIT_FAILED
    accepted = sum(r.accepted for r in results)
    _emit(
        {
            "provider": args.provider,
            "accepted": accepted,
            "rejected": len(results) - accepted,
            "results": [_result_json(r) for r in results],
        }
    )
    return EXIT_OK if accepted == len(results) else EXIT_REJECTED


def _template_arg(value: str) -> tuple[str, str]:
    code, sep, text = value.partition("=")
    if not sep or not code:
        raise ValueError(f"--template expects CODE=TEXT, got {value!r}")
    return code, text


def _simulate(args: argparse.Namespace) -> int:
    from sms_gateway.simulator.server import DysmsapiSimulator, run_until_interrupted

    try:
        templates = dict(_template_arg(t) for t in args.template)
        simulator = DysmsapiSimulator(
            host=args.host,
            port=args.port,
            access_key_id=args.access_key_id,
            access_key_secret=args.access_key_secret,
            verify_signature=not args.no_verify,
            latency=args.latency,
            error_rate=args.error_rate,
            rate_limit=args.rate_limit,
            report_url=args.report_url,
            reply_url=args.reply_url,
            report_delay=args.report_delay,
            report_batch_size=args.report_batch_size,
            templates=templates,
            seed=args.seed,
        )
    except (OSError, ValueError) as exc:
        _emit({"error": "simulate", "message": str(exc)})
        return EXIT_FAILED

    def announce(url: str) -> None:
        # One line, so a parent process can read it with readline().
        _emit(
            {"simulator": url, "access_key_id": args.access_key_id, "verify": not args.no_verify},
            indent=None,
        )
        sys.stdout.flush()  # a parent process waits for this line

    run_until_interrupted(simulator, announce)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="python -m sms_gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("segments", help="length and billed segments of a text")
    p.add_argument("text")
    p.add_argument("--signature", default="", help="e.g. 【某某小学】 (counted toward length)")
    p.set_defaults(run=_segments)

    p = commands.add_parser("carrier", help="normalise a number and name its issuing carrier")
    p.add_argument("phone")
    p.set_defaults(run=_carrier)

    p = commands.add_parser("send", help="send one template to numbers")
    p.add_argument("--provider", default="console", choices=sorted(PROVIDERS))
    p.add_argument("--endpoint", help="host[:port] or http(s)://host[:port]")
    p.add_argument("--access-key-id", help="default: $ALIYUN_ACCESS_KEY_ID")
    p.add_argument("--access-key-secret", help="default: $ALIYUN_ACCESS_KEY_SECRET")
    p.add_argument("--read-timeout", type=float, default=10.0)
    p.add_argument("--sign-name", required=True, help="signature, with or without 【】")
    p.add_argument("--template", required=True, help="template code, e.g. SMS_123456")
    p.add_argument("--params", default="{}", help="template params as a JSON object")
    p.add_argument("--out-id")
    p.add_argument("--extend-code")
    p.add_argument("phones", nargs="+", metavar="PHONE[,PHONE...]")
    p.set_defaults(run=_send)

    p = commands.add_parser("simulate", help="run the local Dysmsapi simulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8900, help="0 picks a free port")
    p.add_argument("--access-key-id", default="simulator")
    p.add_argument("--access-key-secret", default="simulator-secret")
    p.add_argument("--no-verify", action="store_true", help="do not check request signatures")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    p.add_argument("--error-rate", type=float, default=0.0, help="share answered isp.SYSTEM_ERROR")
    p.add_argument("--rate-limit", type=int, help="numbers per second before BUSINESS_LIMIT_CONTROL")
    p.add_argument("--report-url", help="where to POST SmsReport batches")
    p.add_argument("--reply-url", help="where to POST SmsUp batches")
    p.add_argument("--report-delay", type=float, default=0.0)
    p.add_argument("--report-batch-size", type=int, default=500)
    p.add_argument("--template", action="append", default=[], metavar="CODE=TEXT")
    p.add_argument("--seed", type=int)
    p.set_defaults(run=_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code
