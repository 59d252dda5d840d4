"""Verification, reconciliation and sample selection: throughput and peak memory.

Loads N people into an in-process sandbox (no rate limit) with the real loader, then times
`ferry verify`'s read-back and comparison (records/s, requests), the reconciliation over the
store, and the stratified sample selection over a generated export of P patients. Prints the
figures and the process's peak RSS.

    .venv/bin/python benchmarks/verify.py --records 20000 --patients 5000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from pathlib import Path

import anyio
from seeding import KEY, bench_client, seed_patients

from adapters.dental_exec import open_export
from adapters.dental_exec.generator import GeneratorOptions, generate_export
from adapters.twenty_sandbox import SandboxConfig, running_sandbox
from core.lifecycle import Lifecycle
from core.loader import Loader, LoadItem, LoadSettings
from core.pipeline.sample import SampleOptions, select_sample
from core.pipeline.verify import verify
from core.reports import reconcile
from events.store import EventStore


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_verify(records: int, tmp: Path) -> None:
    store = EventStore.open(tmp / "ferry.db", transition=Lifecycle().next_state)
    with running_sandbox(SandboxConfig(api_key=KEY, db_path=tmp / "sandbox.db")) as sandbox:

        async def load(items: list[LoadItem]) -> None:
            async with bench_client(sandbox.base_url) as client:
                await Loader(store, client, LoadSettings(max_in_flight=4)).load(items)

        anyio.run(load, seed_patients(store, records, uuid.uuid4(), with_phone=True))
        client = bench_client(sandbox.base_url)

        async def check() -> int:
            async with client:
                summary = await verify(store, client)
            return summary.checked

        started = time.perf_counter()
        checked = anyio.run(check)
        seconds = time.perf_counter() - started
    print(f"verify: {checked:,} records in {seconds:.1f} s = {checked / seconds:,.0f} records/s, "
          f"{client.requests_sent:,} requests")  # fmt: skip
    started = time.perf_counter()
    result = reconcile(store.connection)
    print(f"reconcile: {result.totals()['records']:,} records in "
          f"{time.perf_counter() - started:.2f} s, adds up: {result.adds_up}")  # fmt: skip
    store.close()


def bench_sample(patients: int, tmp: Path) -> None:
    out = tmp / "export"
    generate_export(GeneratorOptions(out=out, patients=patients, seed=5))
    source = open_export(out)
    started = time.perf_counter()
    rows = sum(1 for entity in source.entities() for _ in source.rows(entity))
    one_pass = time.perf_counter() - started
    started = time.perf_counter()
    selection = select_sample(source, SampleOptions(size=300))
    seconds = time.perf_counter() - started
    print(f"sample: {rows:,} rows ({patients:,} patients): selection {seconds:.1f} s "
          f"(one plain read of the export {one_pass:.1f} s); {selection.patients} patients, "
          f"{selection.records:,} rows, {len(selection.strata)} strata, "
          f"uncovered {len(selection.uncovered)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--patients", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_verify(args.records, Path(tmp))
        bench_sample(args.patients, Path(tmp))
    print(f"peak RSS: {_peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
