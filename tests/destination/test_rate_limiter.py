"""The shared rate limiter, driven by an injected clock (no real waiting)."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.twenty_sandbox.config import RateWindow
from adapters.twenty_sandbox.limits import RateLimiter as TwentyThrottle
from adapters.twenty_sandbox.problems import ApiProblem
from core.errors import ConfigError
from core.rate_limit import LimiterState, PauseNotice, RateLimiter, Window, parse_windows
from tests.destination.conftest import FakeClock


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100/60s", (Window(100, 60.0),)),
        ("100/1s,100/60s", (Window(100, 1.0), Window(100, 60.0))),
        ("50/5s", (Window(50, 5.0),)),
        ("6000/h", (Window(6000, 3600.0),)),
        ("10/500ms", (Window(10, 0.5),)),
        ("100/m", (Window(100, 60.0),)),
        (" 5 / 2.5s ", (Window(5, 2.5),)),
    ],
    ids=["default", "two-windows", "compressed", "per-hour", "millis", "per-minute", "spaces"],
)
def test_parse_windows_reads_budgets(text: str, expected: tuple[Window, ...]) -> None:
    assert parse_windows(text) == expected


@pytest.mark.parametrize("text", ["abc", "0/5s", "10/0s", "10/5x", ""], ids=str)
def test_parse_windows_refuses_nonsense(text: str) -> None:
    with pytest.raises(ConfigError, match="rate limit"):
        parse_windows(text)


def _acquire_times(limiter: RateLimiter, clock: FakeClock, gaps: list[float]) -> list[float]:
    times: list[float] = []

    async def main() -> None:
        for gap in gaps:
            clock.t += gap
            await limiter.acquire()
            times.append(clock.t)

    anyio.run(main)
    return times


def _within_bucket(times: list[float], window: Window) -> bool:
    """No span [t_i, t_j] holds more than the bucket allows: a full bucket plus the refill."""
    ordered = sorted(times)
    return all(
        j - i + 1 <= window.limit + window.limit * (ordered[j] - ordered[i]) / window.seconds + 1e-6
        for i in range(len(ordered))
        for j in range(i, len(ordered))
    )


@settings(max_examples=60, deadline=None)
@given(
    limits=st.lists(st.tuples(st.integers(1, 12), st.floats(0.5, 30.0)), min_size=1, max_size=3),
    gaps=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=120),
    margin=st.floats(0.0, 0.05),
)
def test_never_more_than_the_buckets_allow(
    limits: list[tuple[int, float]], gaps: list[float], margin: float
) -> None:
    clock = FakeClock()
    windows = tuple(Window(n, s) for n, s in limits)
    limiter = RateLimiter(windows, clock=clock, sleep=clock.sleep, margin=margin)
    times = _acquire_times(limiter, clock, gaps)
    assert all(_within_bucket(times, window) for window in windows)


def test_steady_state_uses_the_whole_budget(fake_clock: FakeClock) -> None:
    limiter = RateLimiter((Window(100, 60.0),), clock=fake_clock, sleep=fake_clock.sleep)
    times = _acquire_times(limiter, fake_clock, [0.0] * 1000)
    # 1000 requests at 100/60 s: the first 100 at once, then 9 more windows.
    budget = 100 + 100 * times[-1] / 60.0
    assert len(times) / budget >= 0.95


def test_concurrent_tasks_share_one_budget(fake_clock: FakeClock) -> None:
    limiter = RateLimiter((Window(10, 5.0),), clock=fake_clock, sleep=fake_clock.sleep, margin=0)
    times: list[float] = []

    async def worker() -> None:
        for _ in range(5):
            await limiter.acquire()
            times.append(fake_clock.t)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(worker)

    anyio.run(main)
    assert len(times) == 40
    assert _within_bucket(times, Window(10, 5.0))


def test_a_429_holds_everyone_back_and_lowers_the_limit(fake_clock: FakeClock) -> None:
    limiter = RateLimiter((Window(100, 60.0),), clock=fake_clock, sleep=fake_clock.sleep)
    limiter.throttled(7.5)
    assert limiter.scale < 1.0
    times = _acquire_times(limiter, fake_clock, [0.0])
    assert times == [7.5]
    assert limiter.throttles == 1


def test_scale_recovers_slowly_after_a_429(fake_clock: FakeClock) -> None:
    limiter = RateLimiter((Window(10, 1.0),), clock=fake_clock, sleep=fake_clock.sleep)
    limiter.throttled(0.0)
    lowered = limiter.scale
    _acquire_times(limiter, fake_clock, [0.0] * 5)
    assert lowered < limiter.scale < 1.0
    _acquire_times(limiter, fake_clock, [0.0] * 40)
    assert limiter.scale == 1.0


def test_long_waits_are_reported_once_per_wait(fake_clock: FakeClock) -> None:
    notices: list[PauseNotice] = []
    limiter = RateLimiter(
        (Window(2, 60.0),),
        clock=fake_clock,
        sleep=fake_clock.sleep,
        long_wait_s=30.0,
        on_pause=notices.append,
    )
    _acquire_times(limiter, fake_clock, [0.0, 0.0, 0.0])
    assert len(notices) == 1
    assert notices[0].seconds >= 30.0  # one token every 30 s
    assert "budget" in notices[0].reason
    limiter.throttled(45.0)
    assert len(notices) == 2 and "429" in notices[1].reason


# --- the budget across processes ------------------------------------------------------------


def _limiter(clock: FakeClock, saved: list[LimiterState] | None = None) -> RateLimiter:
    return RateLimiter(
        (Window(10, 10.0),),
        clock=clock,
        sleep=clock.sleep,
        margin=0.0,
        jitter_s=0.0,
        on_state=None if saved is None else saved.append,
        save_every_s=5.0,
    )


def test_a_clean_close_leaves_the_exact_budget_for_the_next_process(fake_clock: FakeClock) -> None:
    saved: list[LimiterState] = []
    first = _limiter(fake_clock, saved)
    _acquire_times(first, fake_clock, [0.0] * 10)  # the whole bucket spent at once
    first.close()
    assert saved[-1].final and saved[-1].tokens == [0.0]
    fake_clock.t += 3.0  # 3 tokens come back meanwhile
    second = _limiter(fake_clock)
    second.resume(saved[-1])
    times = _acquire_times(second, fake_clock, [0.0] * 4)
    start = times[0]
    # 3 at once, the 4th one refill later: no burst of 10 into an empty server bucket.
    assert [round(t - start, 6) for t in times] == [0.0, 0.0, 0.0, 1.0]


def test_after_a_crash_the_next_process_takes_the_bucket_as_spent(fake_clock: FakeClock) -> None:
    saved: list[LimiterState] = []
    first = _limiter(fake_clock, saved)
    _acquire_times(first, fake_clock, [0.0] * 3)  # saved once, before the first request
    crashed_state = saved[-1]
    assert not crashed_state.final and crashed_state.tokens == [10.0]
    fake_clock.t += 6.0  # the process died some time after its last save
    second = _limiter(fake_clock)
    second.resume(crashed_state)
    # Empty at the last save + 5 s at the latest, refilled 1 s since: one token.
    times = _acquire_times(second, fake_clock, [0.0] * 3)
    assert [round(t - times[0], 6) for t in times] == [0.0, 1.0, 2.0]


def test_no_saved_state_or_another_budget_keeps_the_full_bucket(fake_clock: FakeClock) -> None:
    other = LimiterState(windows=["100/60"], tokens=[0.0], wall=0.0, final=True)
    for state in (None, other):
        limiter = _limiter(fake_clock)
        limiter.resume(state)
        times = _acquire_times(limiter, fake_clock, [0.0] * 10)
        assert times == [times[0]] * 10


def test_a_throttled_scale_carries_over(fake_clock: FakeClock) -> None:
    saved: list[LimiterState] = []
    first = _limiter(fake_clock, saved)
    first.throttled(0.0)
    first.close()
    second = _limiter(fake_clock)
    second.resume(saved[-1])
    assert second.scale == pytest.approx(0.8)


# --- against Twenty's floor-and-reset throttle (the sandbox's model of it) -----------------


def _refused_by_twenty(arrivals: list[float], windows: tuple[Window, ...]) -> int:
    """How many of these arrival times the sandbox's copy of Twenty's throttle refuses."""
    now = [0.0]
    server = TwentyThrottle(
        tuple(RateWindow(w.limit, round(w.seconds * 1000)) for w in windows),
        v2_style=False,
        monotonic_ms=lambda: now[0],
    )
    refused = 0
    for arrival in sorted(arrivals):
        now[0] = arrival * 1000.0
        try:
            server.take("workspace", "ferry")
        except ApiProblem:
            refused += 1
    return refused


@settings(max_examples=80, deadline=None)
@given(
    limits=st.lists(st.tuples(st.integers(1, 12), st.integers(1, 30)), min_size=1, max_size=2),
    gaps=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=120),
    delays=st.lists(st.floats(0.0, 1.0), min_size=120, max_size=120),
)
def test_requests_arriving_within_the_jitter_allowance_are_never_refused(
    limits: list[tuple[int, int]], gaps: list[float], delays: list[float]
) -> None:
    clock = FakeClock()
    windows = tuple(Window(n, float(s)) for n, s in limits)
    jitter_s = 0.05
    limiter = RateLimiter(windows, clock=clock, sleep=clock.sleep, jitter_s=jitter_s)
    sent = _acquire_times(limiter, clock, gaps)
    arrivals = [t + d * jitter_s for t, d in zip(sent, delays, strict=False)]
    assert _refused_by_twenty(arrivals, windows) == 0


def test_a_partial_token_is_not_spent_as_a_whole_one(fake_clock: FakeClock) -> None:
    # 2 tokens per 2 s; the caller comes back after 1.5 intervals, then right away.
    limiter = RateLimiter((Window(2, 2.0),), clock=fake_clock, sleep=fake_clock.sleep)
    sent = _acquire_times(limiter, fake_clock, [0.0, 0.0, 1.5, 0.0])
    assert sent[2] == pytest.approx(1.5)
    # Twenty restarted its clock at 1.5 s: the half interval before it is gone.
    assert sent[3] >= 2.5
    assert _refused_by_twenty(sent, (Window(2, 2.0),)) == 0


def test_the_pace_spends_the_budget_with_a_small_allowance(fake_clock: FakeClock) -> None:
    limiter = RateLimiter((Window(100, 60.0),), clock=fake_clock, sleep=fake_clock.sleep)
    sent = _acquire_times(limiter, fake_clock, [0.0] * 600)
    steady = (sent[-1] - sent[100]) / (len(sent) - 101)
    # 0.6 s per token, counted as 0.6 x 1.005 + 0.01 s.
    assert steady == pytest.approx(0.613, abs=1e-6)
    assert _refused_by_twenty(sent, (Window(100, 60.0),)) == 0


def test_an_early_request_answered_late_restarts_the_count_once_spent(
    fake_clock: FakeClock,
) -> None:
    limiter = RateLimiter(
        (Window(3, 3.0),), clock=fake_clock, sleep=fake_clock.sleep, margin=0.0, jitter_s=0.0
    )
    granted: list[bool] = []

    async def main() -> None:
        for _ in range(3):
            granted.append(await limiter.acquire())
        fake_clock.t = 0.2
        limiter.answered(granted[0])  # answered while the bucket is spent
        fake_clock.t = 0.5
        limiter.answered(granted[2])  # the last of the burst, admitted as late as 0.5 s
        granted.append(await limiter.acquire())

    anyio.run(main)
    assert granted == [True, True, True, False]
    # One interval (1 s) after the last answer, not after the sending at 0 s.
    assert fake_clock.t == pytest.approx(1.5)
