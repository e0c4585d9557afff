"""Run the benchmarks: `python -m bench.run [--quick] [--only NAME ...]`.

Every figure is a median of repeated runs, with its bare baseline run alternately in
the same session; the machine load (1/5/15-minute averages) is recorded with each
result. Writes bench/results/latest.json and latest.md and prints the table."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import traceback
from pathlib import Path

from bench import scenarios, world
from bench.core import Result

# BENCH_RESULTS_DIR: write somewhere else (an experiment that must not replace latest.*).
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR") or Path(__file__).resolve().parent / "results")


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def table(results: list[Result]) -> str:
    lines = [
        "| scenario | metric | value | baseline | ratio | target | met | load (1m) |",
        "|---|---|---:|---:|---:|---|:---:|---:|",
    ]
    for r in results:
        met = "–" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(
            f"| {r.scenario} | {r.metric} | {_fmt(r.value)} | {_fmt(r.baseline)} | {_fmt(r.ratio)} "
            f"| {r.target or '–'} | {met} | {r.load[0]:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, shorter loads (≤ 2 min)")
    parser.add_argument("--only", action="append", choices=scenarios.NAMES, help="run only this scenario")
    args = parser.parse_args(argv)

    started = time.monotonic()
    world.ensure_database()
    world.django_setup()
    w = world.seed()
    results: list[Result] = []
    failures: list[str] = []
    for name in args.only or scenarios.NAMES:
        t0 = time.monotonic()
        print(f"== {name} …", flush=True)
        try:
            results.extend(scenarios.load(name).run(args.quick, w))
        except Exception as exc:  # report and go on with the other scenarios
            traceback.print_exc()
            failures.append(f"{name}: {exc!r}")
        print(f"   {name} took {time.monotonic() - t0:.1f} s", flush=True)

    RESULTS.mkdir(exist_ok=True)
    if args.only and (RESULTS / "latest.json").exists():
        # A partial run replaces its own scenarios' rows and keeps the others' (marked).
        previous = json.loads((RESULTS / "latest.json").read_text())
        kept = [
            Result.from_dict(row) for row in previous.get("results", []) if row["scenario"] not in args.only
        ]
        for r in (r for r in kept if "from run " not in r.note):
            r.note = (r.note + "; " if r.note else "") + f"from run {previous.get('when')}"
        order = {name: i for i, name in enumerate(scenarios.NAMES)}
        results = sorted(kept + results, key=lambda r: order.get(r.scenario, 99))
    meta = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "duration_s": round(time.monotonic() - started, 1),
        "failures": failures,
    }
    (RESULTS / "latest.json").write_text(
        json.dumps({**meta, "results": [r.as_dict() for r in results]}, ensure_ascii=False, indent=2) + "\n"
    )
    md = table(results)
    header = (
        f"Run {meta['when']} ({'quick' if args.quick else 'full'}), {meta['cpus']} CPUs, "
        f"{meta['duration_s']} s" + (f"; FAILED: {'; '.join(failures)}" if failures else "")
    )
    (RESULTS / "latest.md").write_text(f"{header}\n\n{md}\n")
    print(f"\n{header}\n\n{md}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
