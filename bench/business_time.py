"""Business-time benchmark: elapsed business time and 8-business-hour deadlines for N random intervals.

Calendar: Mon–Fri 09:00–17:00, Europe/Amsterdam, Dutch public holidays (``holidays`` package).
Intervals: starts uniform over 2026 (nights and weekends included), ends 0–14 days later, to the µs.

Methods: leadpact vectorised (all N), leadpact scalar (subsample; rate extrapolated),
businesstimedelta (WorkDayRule + HolidayRule, pytz-aware; subsample), pandas (CustomBusinessHour with
the same holidays for deadlines, subsample; numpy busday_count + per-day clipping for elapsed, all N).
Each is checked against leadpact on a common subsample and every disagreement is classified.

Run: ``.venv/bin/python bench/business_time.py [--n 1000000] [--sample 3000] [--seed 7]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import numpy as np

from leadpact.core.calendar import BusinessCalendar

ZONE = "Europe/Amsterdam"
YEAR = 2026
EIGHT_HOURS_US = 8 * 3600 * 10**6
US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SPEC = {"timezone": ZONE, "hours": {"mon-fri": ["09:00-17:00"]}, "holidays": {"country": "NL"}}


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu} (os.sched_setaffinity)"
    return "not pinned (no sched_setaffinity on this platform)"


def best_of(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def to_dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


def to_us(moment: datetime) -> int:
    return (moment - EPOCH) // US


def make_intervals(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    first = to_us(datetime(YEAR, 1, 1, tzinfo=UTC))
    year_us = 365 * 86_400 * 10**6
    starts = first + rng.integers(0, year_us, n, dtype=np.int64)
    ends = starts + rng.integers(0, 14 * 86_400 * 10**6, n, dtype=np.int64)
    return starts, ends


def dutch_holidays() -> list[date]:
    import holidays

    return sorted(holidays.country_holidays("NL", years=range(YEAR - 1, YEAR + 3)))


# ---------------------------------------------------------------- baselines


def businesstimedelta_rules():
    import businesstimedelta as btd
    import pytz

    tz = pytz.timezone(ZONE)
    workday = btd.WorkDayRule(start_time=clock(9), end_time=clock(17), working_days=[0, 1, 2, 3, 4], tz=tz)
    closed = btd.HolidayRule(dutch_holidays(), tz=tz)
    return btd, btd.Rules([workday, closed])


def pandas_elapsed(starts: np.ndarray, ends: np.ndarray, holidays: list[date]) -> np.ndarray:
    """Fastest idiomatic pandas/numpy recipe: local wall clock, whole business days between by
    ``np.busday_count``, first and last day clipped to 09:00–17:00 (valid because no window straddles
    a clock change)."""
    import pandas as pd

    hol = np.array(holidays, dtype="datetime64[D]")
    local_s = pd.DatetimeIndex(starts.view("datetime64[us]"), tz="UTC").tz_convert(ZONE).tz_localize(None)
    local_e = pd.DatetimeIndex(ends.view("datetime64[us]"), tz="UTC").tz_convert(ZONE).tz_localize(None)
    s = local_s.values.astype("datetime64[us]")
    e = local_e.values.astype("datetime64[us]")
    s_day, e_day = s.astype("datetime64[D]"), e.astype("datetime64[D]")
    open_, close = np.timedelta64(9, "h"), np.timedelta64(17, "h")
    s_tod = np.clip(s - s_day, open_, close)
    e_tod = np.clip(e - e_day, open_, close)
    s_bd = np.is_busday(s_day, holidays=hol)
    e_bd = np.is_busday(e_day, holidays=hol)
    full = np.busday_count(s_day + 1, e_day, holidays=hol).astype(np.int64) * np.timedelta64(8, "h")
    same = s_day == e_day
    partial = np.where(s_bd, close - s_tod, np.timedelta64(0, "us")) + np.where(
        e_bd, e_tod - open_, np.timedelta64(0, "us")
    )
    inside = np.where(s_bd, e_tod - s_tod, np.timedelta64(0, "us"))
    result = np.where(same, inside, np.where(e_day > s_day, full + partial, np.timedelta64(0, "us")))
    return result.astype("timedelta64[us]").view(np.int64)


def pandas_deadlines(starts: np.ndarray, holidays: list[date]) -> np.ndarray:
    import pandas as pd

    offset = 8 * pd.offsets.CustomBusinessHour(start="09:00", end="17:00", holidays=holidays)
    local = pd.DatetimeIndex(starts.view("datetime64[us]"), tz="UTC").tz_convert(ZONE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Non-vectorized DateOffset being applied": it is, that's the point
        due = local + offset
    return due.tz_convert("UTC").tz_localize(None).values.astype("datetime64[us]").view(np.int64)


# ---------------------------------------------------------------- the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument(
        "--sample", type=int, default=3000, help="subsample for the slow methods and agreement"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    pinned = pin_to_one_core()

    import pandas as pd

    cal = BusinessCalendar.from_spec(SPEC)
    starts, ends = make_intervals(args.n, args.seed)
    s64, e64 = starts.view("datetime64[us]"), ends.view("datetime64[us]")
    eight = np.full(args.n, EIGHT_HOURS_US, dtype=np.int64).view("timedelta64[us]")
    sub = np.random.default_rng(args.seed + 1).choice(args.n, size=min(args.sample, args.n), replace=False)
    holidays = dutch_holidays()

    rows: list[tuple[str, str, float, str, str]] = []  # method, op, rate, basis, agreement

    started = time.perf_counter()
    elapsed = cal.elapsed_many(s64, e64).view(np.int64)
    first_call = time.perf_counter() - started
    t_el = best_of(5, lambda: cal.elapsed_many(s64, e64))
    due = cal.add_many(s64, eight).view(np.int64)
    t_add = best_of(5, lambda: cal.add_many(s64, eight))

    # leadpact scalar
    s_dt = [to_dt(starts[i]) for i in sub]
    e_dt = [to_dt(ends[i]) for i in sub]
    scalar_el = [0] * len(sub)
    scalar_due = [0] * len(sub)

    def run_scalar_elapsed() -> None:
        for k in range(len(sub)):
            scalar_el[k] = cal.elapsed(s_dt[k], e_dt[k]) // US

    def run_scalar_add() -> None:
        eight_td = timedelta(hours=8)
        for k in range(len(sub)):
            scalar_due[k] = to_us(cal.add(s_dt[k], eight_td))

    t_sel = best_of(3, run_scalar_elapsed)
    t_sadd = best_of(3, run_scalar_add)
    agree_sel = sum(scalar_el[k] == elapsed[i] for k, i in enumerate(sub))
    agree_sadd = sum(scalar_due[k] == due[i] for k, i in enumerate(sub))

    # businesstimedelta
    btd, rules = businesstimedelta_rules()
    btd_el: list[int] = [0] * len(sub)
    btd_due: list[int] = [0] * len(sub)

    def run_btd_elapsed() -> None:
        for k in range(len(sub)):
            btd_el[k] = rules.difference(s_dt[k], e_dt[k]).timedelta // US

    def run_btd_add() -> None:
        delta = btd.BusinessTimeDelta(rules, hours=8)
        for k in range(len(sub)):
            btd_due[k] = to_us(s_dt[k] + delta)

    t_bel = best_of(1, run_btd_elapsed)
    t_badd = best_of(1, run_btd_add)

    # pandas
    pd_el = pandas_elapsed(starts, ends, holidays)
    t_pel = best_of(3, lambda: pandas_elapsed(starts, ends, holidays))
    sub_starts = starts[sub]
    t_padd = best_of(1, lambda: pandas_deadlines(sub_starts, holidays))
    pd_due = pandas_deadlines(sub_starts, holidays)

    # -- agreement, with reasons
    closes_at = set()
    for day in cal.business_dates(date(YEAR, 1, 1), date(YEAR + 1, 1, 31)):
        for _, close in cal.windows_on(day):
            closes_at.add(to_us(close))

    def classify_elapsed(other: list[int] | np.ndarray, name: str) -> tuple[int, Counter[str]]:
        reasons: Counter[str] = Counter()
        agree = 0
        for k, i in enumerate(sub):
            ours, theirs = int(elapsed[i]), int(other[k])
            if ours == theirs:
                agree += 1
            elif theirs == (ours // 1_000_000) * 1_000_000 and name == "businesstimedelta":
                reasons["drops the microseconds of the sum (to whole seconds)"] += 1
            else:
                reasons[f"other (ours {ours} µs, theirs {theirs} µs)"] += 1
        return agree, reasons

    def classify_due(other: list[int] | np.ndarray, name: str) -> tuple[int, Counter[str]]:
        reasons: Counter[str] = Counter()
        agree = 0
        for k, i in enumerate(sub):
            ours, theirs = int(due[i]), int(other[k])
            if ours == theirs:
                agree += 1
            elif ours in closes_at and to_us(cal.next_open(to_dt(ours + 1))) == theirs:
                reasons["deadline on a closing time rolled to the next opening"] += 1
            else:
                reasons[f"other (ours {to_dt(ours).isoformat()}, theirs {to_dt(theirs).isoformat()})"] += 1
        return agree, reasons

    btd_el_agree, btd_el_why = classify_elapsed(btd_el, "businesstimedelta")
    btd_due_agree, btd_due_why = classify_due(btd_due, "businesstimedelta")
    pd_el_agree, pd_el_why = classify_elapsed(pd_el[sub], "pandas")
    pd_due_agree, pd_due_why = classify_due(pd_due, "pandas")

    n, m = args.n, len(sub)
    rate = {
        ("leadpact vectorised", "elapsed"): (n / t_el, f"all {n:,}", f"{agree_sel}/{m} = scalar"),
        ("leadpact vectorised", "deadline +8h"): (n / t_add, f"all {n:,}", f"{agree_sadd}/{m} = scalar"),
        ("leadpact scalar", "elapsed"): (m / t_sel, f"{m:,} (extrapolated)", "reference"),
        ("leadpact scalar", "deadline +8h"): (m / t_sadd, f"{m:,} (extrapolated)", "reference"),
        ("businesstimedelta", "elapsed"): (m / t_bel, f"{m:,} (extrapolated)", f"{btd_el_agree}/{m}"),
        ("businesstimedelta", "deadline +8h"): (m / t_badd, f"{m:,} (extrapolated)", f"{btd_due_agree}/{m}"),
        ("pandas busday_count + clip", "elapsed"): (n / t_pel, f"all {n:,}", f"{pd_el_agree}/{m}"),
        ("pandas CustomBusinessHour", "deadline +8h"): (
            m / t_padd,
            f"{m:,} (extrapolated)",
            f"{pd_due_agree}/{m}",
        ),
    }
    baseline = {
        "elapsed": rate[("businesstimedelta", "elapsed")][0],
        "deadline +8h": rate[("businesstimedelta", "deadline +8h")][0],
    }
    for (method, op), (r, basis, agreement) in rate.items():
        rows.append((method, op, r, basis, agreement))

    print(f"# Business time benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print()
    print(
        f"- machine: {platform.machine()} {platform.processor() or ''} {_cpu_name()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}"
    )
    print(
        f"- one core: {pinned}; numpy's elementwise ops and searchsorted are single-threaded "
        "(no BLAS involved)"
    )
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"- load average at the end (1/5/15 min): {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        f"on {os.cpu_count()} CPUs (other work on the machine slows every row alike)"
    )
    print(f"- N = {n:,} intervals over {YEAR}, seed {args.seed}; calendar {SPEC}")
    print(
        f"- leadpact's first vectorised call, including building the per-day table: {first_call * 1e3:.0f} ms"
    )
    print(f"- slow methods timed on a subsample of {m:,} pairs; their rate is extrapolated from it")
    print()
    print("| method | op | pairs/s | × businesstimedelta | timed on | agreement with leadpact (subsample) |")
    print("| --- | --- | ---: | ---: | --- | --- |")
    for method, op, r, basis, agreement in rows:
        print(f"| {method} | {op} | {r:,.0f} | {r / baseline[op]:,.1f} | {basis} | {agreement} |")
    print()
    print("Disagreements, explained:")
    for name, why in (
        ("businesstimedelta elapsed", btd_el_why),
        ("businesstimedelta deadline", btd_due_why),
        ("pandas elapsed", pd_el_why),
        ("pandas deadline", pd_due_why),
    ):
        if not why:
            print(f"- {name}: none")
        for reason, count in why.most_common(5):
            print(f"- {name}: {count} × {reason}")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


if __name__ == "__main__":
    main()
