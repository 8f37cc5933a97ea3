"""Targets and measurement (Django app label ``measurement``), one room per concept, each of one shape:
``models.py`` (its tables), ``services.py`` (writes, audited), ``selectors.py`` (reads).

- :mod:`.targets` — every commitment's target per period, team and person; overrides set by hand;
- :mod:`.scorecard` — the figures (actual, target, pace, status, evidence) and the reads pages draw from;
- :mod:`.closing` — closed periods keep their figures; later data shows as a restatement;
- :mod:`.clocks` — the SLA clock of every open lead; :mod:`.alerts` — who hears of a crossed threshold;
- :mod:`.disputes` — sales contests a lead; :mod:`.accountability` — who owns what, who depends on whom.

Shared below them: :mod:`.periods` (which version, which period, its bounds), :mod:`.subjects` (teams,
people and the side of a lead they own), :mod:`.clocks.windows` (clock windows and calendars), and the
event reading (:mod:`._frames`, :mod:`._snapshot`). Nothing imports in a circle
(``tests/test_import_cycles.py``).
"""
