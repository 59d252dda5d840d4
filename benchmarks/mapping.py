"""Mapping throughput and memory: propose, prepare_context, transform + validate every row.

Generates a bundle (into a temporary directory) for two sizes and runs each in a child
process, so that each peak RSS is the mapping's own. Prints seconds per phase, rows/s of
transform + validate, and peak RSS; the pre-pass keeps keys and small values only, so RSS
should grow far slower than the export.

    .venv/bin/python benchmarks/mapping.py [--patients 2000 20000]
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
from core.mapping.validation import validate  # noqa: E402

NAMESPACE = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"


def run(folder: Path) -> dict[str, float]:
    """Propose, prepare and transform+validate every row of one bundle; return figures."""
    source = open_export(folder)
    started = time.perf_counter()
    mapping = propose_mapping(source).mapping
    proposed = time.perf_counter()
    ctx = prepare_context(source, mapping, TransformSettings(namespace=NAMESPACE))
    prepared = time.perf_counter()
    spec = schema_spec_from_mapping(mapping)
    rows = 0
    for entity in source.entities():
        for row in source.rows(entity):
            validate(transform(row, ctx), spec)
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


def main() -> None:
    """Generate the bundles and measure each in a child process."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for patients in args.patients:
            out = Path(tmp) / f"p{patients}"
            generate_export(GeneratorOptions(out=out, patients=patients, seed=1))
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
