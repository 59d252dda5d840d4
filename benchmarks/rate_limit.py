"""Benchmark: how much of a rate-limit budget the Twenty client uses, and how many 429s.

Loads N people (default 30,000: 500 batch creates of 60) into an in-process sandbox that
enforces Twenty's throttle (floor-and-reset refill, default 100 requests / 60 s as on Twenty
Cloud), through the real client and the shared rate limiter configured with the same budget,
several batches in flight. Prints, as the sandbox counted them, the requests it admitted
against the budget of the run (a full bucket at the start plus one token per interval of the
run) and the requests it answered 429; and records/s against the maximum (budget x batch).

    .venv/bin/python benchmarks/rate_limit.py [--records 30000] [--rate-limit 100/60s]
        [--batch 60] [--in-flight 4] [--client-rate-limit SAME]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.twenty import TwentyClient
from adapters.twenty_sandbox import SandboxConfig, running_sandbox
from adapters.twenty_sandbox.config import parse_rate_window
from core.identity import destination_id
from core.ports.destination import DestinationSettings
from core.rate_limit import RateLimiter, parse_windows

KEY = "benchmark-key"


def _people(count: int) -> list[dict[str, object]]:
    namespace = uuid.uuid4()
    return [
        {
            "id": destination_id(namespace, "patient", str(i)),
            "name": {"firstName": "Bench", "lastName": f"P{i}"},
            "emails": {"primaryEmail": f"bench{i}@ferry.example"},
        }
        for i in range(count)
    ]


async def _load(client: TwentyClient, people: list[dict[str, object]], in_flight: int) -> int:
    batches = [people[i : i + client.batch_size] for i in range(0, len(people), client.batch_size)]
    created = 0
    send, receive = anyio.create_memory_object_stream[list[dict[str, object]]](len(batches))
    for batch in batches:
        send.send_nowait(batch)
    send.close()

    async def worker() -> None:
        nonlocal created
        async for batch in receive:
            outcome = await client.create_batch("people", batch)
            created += len(outcome.created)

    async with anyio.create_task_group() as group:
        for _ in range(in_flight):
            group.start_soon(worker)
    return created


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--rate-limit", default="100/60s", help="the server's budget")
    parser.add_argument("--client-rate-limit", default=None, help="default: same as server")
    parser.add_argument("--batch", type=int, default=60)
    parser.add_argument("--in-flight", type=int, default=4)
    args = parser.parse_args()

    server_window = parse_rate_window(args.rate_limit)
    windows = parse_windows(args.client_rate_limit or args.rate_limit)
    people = _people(args.records)
    config = SandboxConfig(api_key=KEY, rate_windows=(server_window,))
    with running_sandbox(config) as sandbox:
        limiter = RateLimiter(windows)
        settings = DestinationSettings(url=sandbox.base_url, batch_size=args.batch)
        client = TwentyClient(settings, gate=limiter, environ={"TWENTY_API_KEY": KEY})

        async def run() -> int:
            async with client:
                return await _load(client, people, args.in_flight)

        started = time.monotonic()
        created = anyio.run(run)
        elapsed = time.monotonic() - started
        stats = sandbox.stats()

    limit, window_s = server_window.limit, server_window.window_ms / 1000
    # A full bucket at the start, then one whole token per interval (Twenty's refill).
    budget = limit + int(elapsed * limit / window_s)
    sent, throttled = int(stats["requests"]), int(stats["throttled"])
    admitted = sent - throttled
    max_rate = limit / window_s * args.batch
    print(f"records created       {created:,} of {args.records:,} in {elapsed:.1f} s")
    print(f"server budget         {args.rate_limit} (client limiter {windows})")
    print(f"requests admitted     {admitted:,} (budget over the run: {budget:,})")
    print(f"share of budget used  {admitted / budget:.1%}")
    share_429 = throttled / max(sent, 1)
    print(f"429 answers           {throttled} ({share_429:.2%} of {sent:,} requests)")
    print(f"client saw            {client.requests_sent:,} sent, {client.throttled_answers} x 429")
    run_max = budget * args.batch / elapsed  # the steady rate plus the initial full bucket
    print(
        f"records/s             {created / elapsed:,.1f} (budget x batch = {max_rate:,.1f}/s "
        f"steady state; {run_max:,.1f}/s over this run with the initial full bucket: "
        f"{created / elapsed / run_max:.1%})"
    )


if __name__ == "__main__":
    main()
