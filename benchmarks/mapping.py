"""Mapping throughput and memory: propose, prepare_context, transform + validate every row.

Generates a bundle (into a temporary directory) for two sizes and runs each in a child
process, so that each peak RSS is the mapping's own. Prints seconds per phase, rows/s of
transform + validate, and peak RSS; the pre-pass keeps keys and small values only, so RSS
should grow far slower than the export.

    .venv/bin/python benchmarks/mapping.py [--patients 2000 20000]

With `--per-entity`, it prints instead the CPU time (time.process_time) of transform +
validate per row of each entity, the min of `--repeat` fresh child processes (each reads
one entity's rows into memory first, so the reader is not counted; caches start cold):

    .venv/bin/python benchmarks/mapping.py --patients 5000 --per-entity --repeat 3
"""

from __future__ import annotations

import argparse
import json
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
from core.mapping import TransformSettings, prepare_context, transform  # noqa: E402
from core.mapping.proposer import propose_mapping  # noqa: E402
from core.mapping.spec import schema_spec_from_mapping  # noqa: E402
from core.mapping.validation import SpecChecks, validate  # noqa: E402

NAMESPACE = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"


def run(folder: Path) -> dict[str, float]:
    """Propose, prepare and transform+validate every row of one bundle; return figures."""
    source = open_export(folder)
    started = time.perf_counter()
    mapping = propose_mapping(source).mapping
    proposed = time.perf_counter()
    ctx = prepare_context(source, mapping, TransformSettings(namespace=NAMESPACE))
    prepared = time.perf_counter()
    checks = SpecChecks(schema_spec_from_mapping(mapping))
    rows = 0
    for entity in source.entities():
        for row in source.rows(entity):
            validate(transform(row, ctx), checks)
            rows += 1
    done = time.perf_counter()
    return {
        "rows": rows,
        "propose_s": proposed - started,
        "prepare_s": prepared - proposed,
        "transform_s": done - prepared,
        "rows_per_s": rows / (done - prepared),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def entity_cpu(folder: Path) -> dict[str, tuple[int, float]]:
    """Rows and CPU seconds of transform + validate per entity (rows read beforehand)."""
    source = open_export(folder)
    mapping = propose_mapping(source).mapping
    ctx = prepare_context(source, mapping, TransformSettings(namespace=NAMESPACE))
    checks = SpecChecks(schema_spec_from_mapping(mapping))
    figures: dict[str, tuple[int, float]] = {}
    for entity in source.entities():
        rows = list(source.rows(entity))
        started = time.process_time()
        for row in rows:
            validate(transform(row, ctx), checks)
        figures[entity] = (len(rows), time.process_time() - started)
    return figures


def print_entity_cpu(folder: Path, repeat: int) -> None:
    """Min-of-`repeat` CPU per row per entity, each run in a fresh child process."""
    best: dict[str, tuple[int, float]] = {}
    for _ in range(repeat):
        child = subprocess.run(
            [sys.executable, __file__, "--child-entities", str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
        for entity, (rows, seconds) in json.loads(child.stdout).items():
            if entity not in best or seconds < best[entity][1]:
                best[entity] = (rows, seconds)
    for entity, (rows, seconds) in best.items():
        print(f"  {entity:<18} {rows:>8,} rows {1e6 * seconds / max(rows, 1):>8.1f} us/row")
    rows = sum(count for count, _ in best.values())
    seconds = sum(spent for _, spent in best.values())
    print(
        f"  {'all':<18} {rows:>8,} rows {1e6 * seconds / rows:>8.1f} us/row "
        f"= {rows / seconds:,.0f} rows/s of one core"
    )


def main() -> None:
    """Generate the bundles and measure each in a child process."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--per-entity", action="store_true", help="CPU per row per entity")
    parser.add_argument("--repeat", type=int, default=3, help="runs for --per-entity (min)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-entities", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child)))
        return
    if args.child_entities:
        print(json.dumps(entity_cpu(args.child_entities)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for patients in args.patients:
            out = Path(tmp) / f"p{patients}"
            generate_export(GeneratorOptions(out=out, patients=patients, seed=1))
            if args.per_entity:
                print(f"{patients:>7,} patients: transform + validate CPU per row")
                print_entity_cpu(out, args.repeat)
                continue
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(out)],
                check=True,
                capture_output=True,
                text=True,
            )
            figures = json.loads(child.stdout)
            print(
                f"{patients:>7,} patients: {figures['rows']:>9,.0f} rows; propose "
                f"{figures['propose_s']:.1f}s, prepare {figures['prepare_s']:.1f}s, transform+"
                f"validate {figures['transform_s']:.1f}s = {figures['rows_per_s']:,.0f} rows/s; "
                f"peak RSS {figures['peak_rss_mb']:.0f} MB"
            )


if __name__ == "__main__":
    main()
