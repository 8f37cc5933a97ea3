"""Business durations as written in agreements: ``90m``, ``8h``, ``10bd``.

Grammar (deliberately small)::

    duration := <whole number > 0> unit
    unit     := "m"   business minutes
              | "h"   business hours (60 business minutes)
              | "bd"  business days (see below)

Minutes and hours are one quantity (business minutes); the canonical form writes whole hours as
``Nh`` and anything else as ``Nm`` (``120m`` → ``2h``, ``90m`` stays ``90m``). Business days are
their own quantity and are never converted to hours (a business day's length depends on the
calendar and the day).

**What ``Nbd`` means** — what a sales lead reads in "within 1 business day": handed over Tuesday
15:00 on a 9–17 calendar, the lead is due Wednesday 15:00. The deadline is the same *business time
of day* on the ``N``-th following business day of the clock's calendar (the owner's: their hours,
leave, the team's holidays), where the business time of day is the business time of the start's
day already spent at the start (so a lunch break or a part-timer's own hours are followed, not
the wall clock). A start outside business hours (after the close, at night, at the weekend, on a
holiday) belongs to the next business day at its opening: "within 1 business day" then runs to
that day's close. A following day shorter than the time of day (a half day) ends at its close.
Dates without business time are skipped. On days of equal length this is ``N`` × the day's
business time; otherwise the window is the business time from the start to that deadline — each
clock has its own (:meth:`leadpact.core.calendar.BusinessCalendar.add_business_days`). Elapsed
time, pauses and breaches stay in business time (DESIGN §5): a clock is breached when its elapsed
business time (pauses left out) exceeds its window, never by comparing wall clocks, and with no
pause the deadline is exactly that instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["BusinessDuration", "DurationError", "DurationUnit"]

DurationUnit = Literal["minutes", "business_days"]

_PATTERN = re.compile(r"([0-9]+)(m|h|bd)")
_MAX = 10**7


class DurationError(ValueError):
    """A duration that does not follow the grammar ``<N>m``, ``<N>h`` or ``<N>bd``."""


@dataclass(frozen=True, slots=True)
class BusinessDuration:
    """An amount of business time: business minutes or whole business days.

    >>> BusinessDuration.parse("90m").minutes
    90
    >>> str(BusinessDuration.parse("480m"))
    '8h'
    """

    unit: DurationUnit
    amount: int

    def __post_init__(self) -> None:
        if self.unit not in ("minutes", "business_days"):
            raise DurationError(f"duration unit {self.unit!r} must be minutes or business_days")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise DurationError(f"duration amount {self.amount!r} must be a whole number")
        if not 0 < self.amount <= _MAX:
            raise DurationError(f"duration amount {self.amount} must be > 0 and <= {_MAX}")

    @classmethod
    def parse(cls, text: str) -> BusinessDuration:
        """Parse ``90m``, ``8h`` or ``10bd`` (surrounding spaces allowed, nothing else).

        >>> BusinessDuration.parse("10bd")
        BusinessDuration(unit='business_days', amount=10)
        """
        if not isinstance(text, str):
            raise DurationError(f"duration {text!r} must be text such as 90m, 8h or 10bd")
        match = _PATTERN.fullmatch(text.strip())
        if match is None:
            raise DurationError(
                f"duration {text!r} must be a whole number followed by m (minutes), h (hours) "
                "or bd (business days), e.g. 90m, 8h, 10bd"
            )
        number = int(match.group(1))
        if number == 0:
            raise DurationError(f"duration {text!r} must be > 0")
        if number > _MAX:
            raise DurationError(f"duration {text!r} is too long")
        suffix = match.group(2)
        if suffix == "bd":
            return cls("business_days", number)
        minutes = number * 60 if suffix == "h" else number
        if minutes > _MAX:
            raise DurationError(f"duration {text!r} is too long")
        return cls("minutes", minutes)

    @classmethod
    def of_minutes(cls, minutes: int) -> BusinessDuration:
        """A duration of business minutes."""
        return cls("minutes", minutes)

    @classmethod
    def of_business_days(cls, days: int) -> BusinessDuration:
        """A duration of whole business days."""
        return cls("business_days", days)

    @property
    def minutes(self) -> int | None:
        """Business minutes, or None for a duration in business days."""
        return self.amount if self.unit == "minutes" else None

    @property
    def seconds(self) -> int | None:
        """Business seconds, or None for a duration in business days."""
        return self.amount * 60 if self.unit == "minutes" else None

    @property
    def business_days(self) -> int | None:
        """Whole business days, or None for a duration in minutes."""
        return self.amount if self.unit == "business_days" else None

    def __str__(self) -> str:
        if self.unit == "business_days":
            return f"{self.amount}bd"
        if self.amount % 60 == 0:
            return f"{self.amount // 60}h"
        return f"{self.amount}m"

    def describe(self, lang: Literal["en", "nl"] = "en") -> str:
        """In words: ``8 business hours``, ``10 business days`` / ``8 werkuren``, ``10 werkdagen``.

        >>> BusinessDuration.parse("1h").describe("nl")
        '1 werkuur'
        """
        if self.unit == "business_days":
            n = self.amount
            if lang == "nl":
                return f"{n} werkdag" if n == 1 else f"{n} werkdagen"
            return f"{n} business day" if n == 1 else f"{n} business days"
        if self.amount % 60 == 0:
            n = self.amount // 60
            if lang == "nl":
                return f"{n} werkuur" if n == 1 else f"{n} werkuren"
            return f"{n} business hour" if n == 1 else f"{n} business hours"
        n = self.amount
        if lang == "nl":
            return f"{n} werkminuut" if n == 1 else f"{n} werkminuten"
        return f"{n} business minute" if n == 1 else f"{n} business minutes"
