"""Reader throughput and peak memory on generated exports.

Generates (into a temporary directory, unless --keep DIR) a full 100,000-patient bundle and a
1,000,000-patient patients.csv, then reads them in child processes so that each peak RSS is
the reader's own. Prints rows/s and peak RSS per run; the target is >= 50,000 rows/s with a
peak RSS that does not grow with the export. With --keep DIR the exports stay in DIR and a
later run with the same DIR and sizes reads them again instead of generating.

    .venv/bin/python benchmarks/source_read.py [--patients 100000] [--big 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.dental_exec import open_export  # noqa: E402
from adapters.dental_exec.generator import GeneratorOptions, generate_export  # noqa: E402


def read(folder: Path, entities: list[str] | None) -> dict[str, float]:
    """Stream every row of the chosen entities; return rows, seconds and peak RSS."""
    export = open_export(folder)
    wall, cpu = time.perf_counter(), time.process_time()
    rows = errors = 0
    for entity in entities or export.entities():
        for row in export.rows(entity):
            rows += 1
            errors += bool(row.errors)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "errors": errors, "seconds": wall, "cpu_seconds": cpu, "peak_mb": peak_mb}


def measure(folder: Path, entities: list[str] | None) -> dict[str, float]:
    """Run `read` in a fresh interpreter so its peak RSS is the reader's alone."""
    command = [sys.executable, __file__, "--read", str(folder)]
    if entities:
        command += ["--entities", ",".join(entities)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(output))


def generate(out: Path, patients: int, *, patients_only: bool) -> float:
    started = time.perf_counter()
    options = GeneratorOptions(out=out, patients=patients, seed=1, patients_only=patients_only)
    generate_export(options)
    return time.perf_counter() - started


def report(label: str, figures: dict[str, float]) -> None:
    rate = figures["rows"] / figures["seconds"]
    cpu_rate = figures["rows"] / figures["cpu_seconds"]
    print(
        f"{label:<40} {int(figures['rows']):>10,} rows  {figures['seconds']:7.1f} s  "
        f"{rate:>9,.0f} rows/s (CPU {cpu_rate:,.0f})  peak RSS {figures['peak_mb']:6.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="keep (and reuse) the exports")
    parser.add_argument("--read", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--entities", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read is not None:
        entities = args.entities.split(",") if args.entities else None
        print(json.dumps(read(args.read, entities)))
        return
    print(f"{os.cpu_count()} cores, load average {load()} at start")
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        full, big = base / f"full_{args.patients}", base / f"patients_{args.big}"
        for folder, patients, patients_only in (
            (full, args.patients, False),
            (big, args.big, True),
        ):
            if (folder / "_generator_manifest.json").exists():  # complete, from a --keep run
                print(f"reusing {folder}")
                continue
            took = generate(folder, patients, patients_only=patients_only)
            print(
                f"generated {patients:,}-patient {'patients.csv' if patients_only else 'bundle'}"
                f" in {took:.1f} s"
            )
        report(f"all files, {args.patients:,} patients", measure(full, None))
        report(f"patients.csv, {args.patients:,} patients", measure(full, ["patient"]))
        report(f"patients.csv, {args.big:,} patients", measure(big, ["patient"]))
    print(f"load average {load()} at the end (1, 5, 15 min; other work on the machine)")


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
