"""Delta pickup on a large export: time to detect the changed rows, and records sent.

Generates (into a temporary directory, unless --keep DIR) a patients-only export of
--patients patients, migrates it for real into an in-process sandbox over loopback (ferry
init, map propose/confirm, schema apply, run), then generates a delta changing
--change-rate of the rows (no new rows, no deletions) and applies it with `apply_delta`, the
library behind `ferry delta`. Prints:

- detection: seconds to read the delta bundle and find the changed rows against the store
  that holds the base (the local stages, plus the transform pre-pass over the bundle merged
  with every row the store knows), and rows/s;
- sending: seconds for the updates, requests made, records sent; records sent must equal the
  records the generator's manifest says changed (custom-field and provider rows excluded:
  they are no Twenty record of their own) (the script exits 1 otherwise);
- a rerun of the same bundle: records sent (must be 0) and requests;
- peak RSS of the process.

    .venv/bin/python benchmarks/delta.py [--patients 100000] [--change-rate 0.01] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from adapters.dental_exec import open_export  # noqa: E402
from adapters.dental_exec.delta import DeltaOptions as GenerateDelta  # noqa: E402
from adapters.dental_exec.delta import generate_delta  # noqa: E402
from adapters.dental_exec.generator import GeneratorOptions, generate_export  # noqa: E402
from adapters.twenty import TwentyClient  # noqa: E402
from adapters.twenty_sandbox import SandboxConfig, running_sandbox  # noqa: E402
from cli import ferry  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.config import load_config  # noqa: E402
from core.pipeline.delta import DeltaOptions  # noqa: E402
from core.pipeline.delta_apply import apply_delta  # noqa: E402
from core.session import Session  # noqa: E402
from core.workspace import open_workspace  # noqa: E402

KEY_ENV = "FERRY_BENCH_KEY"


def _ferry(workdir: Path, *args: str) -> None:
    result = CliRunner().invoke(ferry, ["--workdir", str(workdir), *args])
    if result.exit_code != 0:
        raise SystemExit(f"ferry {' '.join(args)} failed:\n{result.output}")


def _timed(label: str, work: Any) -> Any:
    started = time.perf_counter()
    value = work()
    print(f"{label}: {time.perf_counter() - started:,.1f} s", flush=True)
    return value


def _prepare(folder: Path, url: str, patients: int) -> tuple[Path, Path]:
    base, workdir = folder / "base", folder / "wd"
    options = GeneratorOptions(out=base, patients=patients, seed=1, patients_only=True)
    _timed(f"generate base ({patients:,} patients)", lambda: generate_export(options))
    _ferry(workdir, "init", "--source", str(base), "--twenty-url", url, "--api-key-env", KEY_ENV)
    config = workdir / "ferry.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('rate_limit = "100/60s"', 'rate_limit = "100000/1s"'))
    _ferry(workdir, "map", "propose", str(base))
    _ferry(workdir, "map", "confirm", "--user", "bench")
    _ferry(workdir, "schema", "apply", "--no-probe")
    _timed("migrate base into the sandbox (ferry run)",
           lambda: _ferry(workdir, "run", "--without-sample-approval"))  # fmt: skip
    return base, workdir


def _apply(workdir: Path, delta: Path) -> Any:
    workspace = open_workspace(workdir, load_config(workdir))
    session = Session(
        workspace, open_export, lambda s, gate: TwentyClient(s, gate=gate), SystemClock()
    )
    try:
        export = open_export(delta)
        return anyio.run(lambda: apply_delta(session, export, DeltaOptions(), SystemClock()))
    finally:
        workspace.close()


def main() -> int:
    """Run the benchmark; exit 1 when the records sent are not the records changed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--change-rate", type=float, default=0.01)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="ferry-delta-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    with running_sandbox(SandboxConfig(api_key="bench-key")) as sandbox:
        os.environ[KEY_ENV] = sandbox.api_key
        base, workdir = _prepare(folder, sandbox.base_url, args.patients)
        delta = folder / "delta"
        generate = GenerateDelta(
            base=base, out=delta, seed=2, change_rate=args.change_rate, new_rate=0, delete_rate=0
        )
        _timed(f"generate delta ({args.change_rate:.0%} changed)", lambda: generate_delta(generate))
        manifest = json.loads((delta / "_generator_manifest.json").read_text(encoding="utf-8"))
        # Custom fields and provider rows are not Twenty records of their own (they fold
        # into their owner, or into the workspace members): every other changed row is one.
        folded = ("custom_field", "provider")
        rows_changed = sum(len(keys) for keys in manifest["changed"].values())
        changed = sum(len(v) for e, v in manifest["changed"].items() if e not in folded)
        before = sandbox.stats()
        result = _apply(workdir, delta)
        after = sandbox.stats()
        delta_requests = after["requests"] - before["requests"]
        writes = sum(
            after["byMethod"].get(m, 0) - before["byMethod"].get(m, 0)
            for m in ("POST", "PATCH", "DELETE")
        )
        read = sum(s.read for s in result.local.values())
        sent = result.sent()
        extracted = sum(s.extracted for s in result.local.values())
        rate = read / result.detect_seconds
        print(f"detection: {result.detect_seconds:,.1f} s for {read:,} delta rows against a "
              f"store holding {args.patients:,} patients ({rate:,.0f} rows/s); "
              f"re-extracted {extracted:,}")  # fmt: skip
        sending = result.seconds - result.detect_seconds
        print(f"sending: {sending:,.1f} s, {delta_requests:,} requests; sent {sent}; "
              f"conflicts {len(result.conflicts)}")  # fmt: skip
        print(f"rows changed (manifest): {rows_changed:,}, of records of their own: "
              f"{changed:,}; records updated: {sent['updated']:,}")  # fmt: skip
        batch = load_config(workdir).twenty.start_batch_size(None)
        floor = math.ceil(max(1, sent["updated"]) / batch)
        print(f"update requests: {writes:,} writes (the rest are reads for the conflict check); "
              f"floor ceil({sent['updated']:,}/{batch}) = {floor}; writes / floor = "
              f"{writes / floor:.2f}")  # fmt: skip
        requests = sandbox.stats()["requests"]
        again = _apply(workdir, delta)
        rerun_requests = sandbox.stats()["requests"] - requests
        print(f"rerun of the same bundle: sent {again.sent()}, {rerun_requests} request(s), "
              f"{again.seconds:,.1f} s")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS (whole process, sandbox included): {peak:,.0f} MB")
    ok = sent["updated"] == changed and sent["created"] == 0 and sum(again.sent().values()) == 0
    print("records sent == records changed" if ok else "MISMATCH: records sent != changed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
