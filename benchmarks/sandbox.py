"""Records per second for batch creates of 60 people into the sandbox, over loopback HTTP.

Method: start the sandbox in-process (no rate limit, SQLite file in a temp dir, WAL), then
one httpx client sends sequential `POST /rest/batch/people` calls of 60 people each (names,
unique emails, phones, job title), as Ferry's loader would against Twenty Cloud's 60-per-call
guidance. Reports wall time, records/s and the p50/p95 per-batch latency. Target: >= 3,000/s.

Run: .venv/bin/python benchmarks/sandbox.py [--batches 100] [--batch-size 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.twenty_sandbox import SandboxConfig, running_sandbox


def _batch(index: int, size: int) -> list[dict[str, object]]:
    return [
        {
            "name": {"firstName": f"First{index}", "lastName": f"Last{n}"},
            "emails": {"primaryEmail": f"p{index}.{n}@bench.example"},
            "phones": {
                "primaryPhoneNumber": f"555{index:04d}{n:03d}",
                "primaryPhoneCallingCode": "+1",
            },
            "jobTitle": "Patient",
        }
        for n in range(size)
    ]


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=60)
    args = parser.parse_args()
    payloads = [_batch(i, args.batch_size) for i in range(args.batches)]
    with tempfile.TemporaryDirectory() as workdir:
        config = SandboxConfig(db_path=Path(workdir) / "bench.db", api_key="bench")
        with (
            running_sandbox(config) as sandbox,
            httpx.Client(
                base_url=sandbox.rest_url, headers={"Authorization": "Bearer bench"}
            ) as client,
        ):
            client.post("/batch/people", json=_batch(-1, 1)).raise_for_status()  # warm-up
            latencies = []
            started = time.perf_counter()
            for payload in payloads:
                sent = time.perf_counter()
                client.post("/batch/people", json=payload).raise_for_status()
                latencies.append(time.perf_counter() - sent)
            elapsed = time.perf_counter() - started
    records = args.batches * args.batch_size
    p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) >= 20 else max(latencies)
    print(f"batches: {args.batches} x {args.batch_size} people (no rate limit, SQLite file)")
    print(f"elapsed: {elapsed:.2f} s")
    print(f"throughput: {records / elapsed:,.0f} records/s (target >= 3,000)")
    print(f"per batch: p50 {statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")


if __name__ == "__main__":
    main()
