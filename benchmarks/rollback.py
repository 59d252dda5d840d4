"""Rollback at Twenty's real budget: a migration, then its full undo, both at 100 requests/60 s.

Generates an export (--patients, 400 by default: about 9,000 Twenty records), migrates it
with the real commands (ferry init, map propose/confirm, schema apply, run) into an
in-process sandbox over loopback whose throttle is Twenty Cloud's budget, then runs
`ferry rollback --yes` at the same budget. Prints, for the run and the rollback:

- records, requests the sandbox served (429s apart), wall time;
- for the rollback, the floor `ceil(records / batch)` at the delete-many size and the
  requests as a ratio to it, with the reads (GETs) counted apart, and the floor per object
  (a delete-many names one object, so each object's last request may be part full); and
  the wall time as a ratio to `requests / budget`;
- whether the sandbox holds exactly what it held before the migration.

    .venv/bin/python benchmarks/rollback.py [--patients 400] [--budget 100/60s]
"""

from __future__ import annotations

import argparse
import math
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from adapters.twenty_sandbox import RateWindow, SandboxConfig, running_sandbox  # noqa: E402
from cli import ferry  # noqa: E402
from core.rate_limit import parse_windows  # noqa: E402

KEY = "bench-rollback-key"
KEY_ENV = "FERRY_BENCH_KEY"


def _ferry(workdir: Path, *args: str) -> str:
    result = CliRunner().invoke(ferry, ["--workdir", str(workdir), *args])
    if result.exit_code != 0:
        raise SystemExit(f"ferry {' '.join(args)} failed: {result.output[-2000:]}")
    return result.output


def _stats(base_url: str, *, reset: bool = False) -> dict[str, int]:
    if reset:
        return dict(httpx.post(f"{base_url}/_sandbox/stats/reset", timeout=30).json())
    return dict(httpx.get(f"{base_url}/_sandbox/stats", timeout=30).json())


def _records(base_url: str) -> int:
    """Every record in the sandbox, live or soft-deleted (all objects but members)."""
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(headers=headers, timeout=30) as http:
        objects = http.get(f"{base_url}/rest/metadata/objects", params={"limit": "200"}).json()
        total = 0
        for obj in objects["data"]["objects"]:
            if not obj.get("isActive", True) or obj["nameSingular"] == "workspaceMember":
                continue
            filter_ = "or(deletedAt[is]:NULL,deletedAt[is]:NOT_NULL)"
            answer = http.get(
                f"{base_url}/rest/{obj['namePlural']}", params={"filter": filter_, "limit": "1"}
            )
            if answer.status_code == 200:
                total += int(answer.json().get("totalCount") or 0)
        return total


def bench(patients: int, budget: str, tmp: Path) -> None:
    window = parse_windows(budget)[0]
    export, workdir = tmp / "export", tmp / "wd"
    _ferry(tmp, "fixtures", "generate", "--out", str(export), "--patients", str(patients),
           "--seed", "5")  # fmt: skip
    config = SandboxConfig(
        api_key=KEY, rate_windows=(RateWindow(window.limit, int(window.seconds * 1000)),)
    )
    with running_sandbox(config) as sandbox:
        os.environ[KEY_ENV] = KEY
        _ferry(workdir, "init", "--source", str(export), "--twenty-url", sandbox.base_url,
               "--api-key-env", KEY_ENV)  # fmt: skip
        config_file = workdir / "ferry.toml"
        text = config_file.read_text(encoding="utf-8")
        config_file.write_text(text.replace('rate_limit = "100/60s"', f'rate_limit = "{budget}"'))
        _ferry(workdir, "map", "propose", str(export))
        _ferry(workdir, "map", "confirm", "--user", "bench")
        _ferry(workdir, "schema", "apply", "--no-probe")
        before = _records(sandbox.base_url)
        time.sleep(window.seconds)  # a full bucket for the run, as for a fresh cutover
        _stats(sandbox.base_url, reset=True)
        started = time.perf_counter()
        _ferry(workdir, "run", "--without-sample-approval")
        run_s = time.perf_counter() - started
        run = _stats(sandbox.base_url)
        # Counted in the store, not over HTTP: a count over HTTP would spend the budget the
        # rollback is about to start from (the limiter knows only its own requests).
        with sqlite3.connect(workdir / "ferry.db") as conn:
            records = conn.execute(
                "SELECT COUNT(*) FROM record_state WHERE state = 'loaded'"
            ).fetchone()[0]
            by_object = dict(
                conn.execute(
                    "SELECT json_extract(t.data, '$.target_plural'), COUNT(DISTINCT s.stream_id) "
                    "FROM record_state s JOIN events t ON t.stream_id = s.stream_id "
                    "AND t.type = 'RecordTransformed' WHERE s.state = 'loaded' GROUP BY 1"
                ).fetchall()
            )
        print(f"run: {records:,} records created, {run['requests']:,} requests "
              f"({run['throttled']} throttled), {run_s:.1f} s")  # fmt: skip

        plan = _ferry(workdir, "rollback", "--dry-run")
        cost = [line for line in plan.splitlines() if "request(s)" in line]
        print("rollback plan: " + (cost[0].strip() if cost else plan.strip().splitlines()[-1]))
        _stats(sandbox.base_url, reset=True)
        started = time.perf_counter()
        _ferry(workdir, "rollback", "--yes")
        undo_s = time.perf_counter() - started
        undo = _stats(sandbox.base_url)
        left = _records(sandbox.base_url) - before
        batch = 100  # twenty.mutation_max_records
        floor = math.ceil(records / batch)
        per_object = sum(math.ceil(n / batch) for n in by_object.values())
        served = undo["requests"] - undo["throttled"]
        reads = undo["byMethod"].get("GET", 0)
        at_budget = served * window.seconds / window.limit
        print(f"rollback: {served:,} requests ({undo['throttled']} throttled; {reads} reads), "
              f"{undo_s:.1f} s; floor ceil({records:,}/{batch}) = {floor}: requests / floor = "
              f"{served / floor:.2f}; floor per object = {per_object}: requests / it = "
              f"{served / per_object:.2f}; "
              f"wall / (requests / budget) = {undo_s / at_budget:.2f}")  # fmt: skip
        print(f"records of ours left in the sandbox: {left}")
        if left:
            raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=400)
    parser.add_argument("--budget", default="100/60s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench(args.patients, args.budget, Path(tmp))


if __name__ == "__main__":
    main()
