"""Rollback and the row reports: throughput, requests per record, peak memory.

Loads N people into an in-process sandbox (no rate limit) with the real loader, then times
the rollback of all of them (records/s, requests sent: one permanent delete per record plus
the lookups), a second rollback (nothing to do), and the audit-log report streamed over the
store (rows/s). Prints the figures and the process's peak RSS.

    .venv/bin/python benchmarks/rollback.py --records 5000
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

from adapters.twenty import TwentyClient
from adapters.twenty_sandbox import SandboxConfig, running_sandbox
from core.clock import SystemClock
from core.lifecycle import Lifecycle
from core.loader import Loader, LoadItem, LoadSettings
from core.reports.audit_log import AUDIT_COLUMNS, audit_log_rows
from core.reports.tabular import open_private, write_rows
from core.rollback import RollbackOptions, RollbackResult, rollback
from events.store import EventStore


def bench(records: int, tmp: Path) -> None:
    store = EventStore.open(tmp / "ferry.db", transition=Lifecycle().next_state)
    with running_sandbox(SandboxConfig(api_key=KEY, db_path=tmp / "sandbox.db")) as sandbox:

        async def load(items: list[LoadItem]) -> None:
            async with bench_client(sandbox.base_url) as client:
                await Loader(store, client, LoadSettings(max_in_flight=4)).load(items)

        anyio.run(load, seed_patients(store, records, uuid.uuid4(), with_phone=False))
        for label in ("rollback", "second rollback"):
            client = bench_client(sandbox.base_url)

            async def undo(client: TwentyClient = client) -> RollbackResult:
                async with client:
                    return await rollback(
                        store, client, client, RollbackOptions(), clock=SystemClock()
                    )

            started = time.perf_counter()
            result = anyio.run(undo)
            seconds = time.perf_counter() - started
            deleted = result.counts.get("deleted", 0)
            rate = deleted / seconds
            print(f"{label}: {deleted:,} deleted in {seconds:.1f} s ({rate:,.0f} records/s), "
                  f"{client.requests_sent:,} requests")  # fmt: skip
    started = time.perf_counter()
    with open_private(tmp / "audit-log.csv") as out:
        rows = write_rows(out, audit_log_rows(store.connection), AUDIT_COLUMNS, "csv")
    seconds = time.perf_counter() - started
    print(f"audit-log: {rows:,} rows in {seconds:.2f} s ({rows / seconds:,.0f} rows/s)")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench(args.records, Path(tmp))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
