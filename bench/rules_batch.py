"""Rule evaluation: the template's definitions over an import's leads, lead by lead and a batch at a time.

    python bench/rules_batch.py [LEADS]   (default 5,000: an import's batch)

Prints µs a lead for ``rules_check`` (one CEL context a lead, CEL's own evaluation, a failing clause's
words remembered by its values) against ``rules_failed_batch`` (the CEL subset compiled to list
comprehensions over the batch's columns), both with their remembered words warm, the results compared;
and, for two clauses, ns a lead of the list comprehension the batch uses against a numpy version of it
(columns arrive as Python objects of mixed types, with missing values, and go back as Python objects).

Two kinds of leads: the bench import's (every lead without consent, a quarter in each of four countries,
scores 0–99) and the demo's mix (consent, triggers, phones, empty values).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

from leadpact.core import rules as rules_module
from leadpact.core._cel_batch import ABSENT
from leadpact.core.rules import Rule, rules_check, rules_failed_batch

N = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
TEMPLATE = Path(rules_module.__file__).parent / "templates" / "agreement.en.yaml"
# the definitions the template's commitments cover (the volume commitment's MQL and its two kinds)
TEXTS = [
    d["rule"]
    for d in yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))["definitions"]
    if d["key"] in ("mql", "mql-high-intent", "mql-standard")
]


def import_lead(i: int) -> dict[str, object]:
    countries = ["NL", "BE", "DE", "FR"]
    return {
        "name": f"First{i} Last{i}", "email": f"p{i}@example.nl", "phone": None,
        "company": f"Company {i % 5000}", "country": countries[i % 4], "source": None, "campaign": None,
        "job_title": None, "industry": None, "company_size": None, "trigger": None, "score": i % 100,
        "consent": None, "recent_touches": None, "extra": {},
    }  # fmt: skip


def demo_lead(rng: random.Random) -> dict[str, object]:
    return {
        "name": "Anna de Vries", "email": rng.choice(["", "anna@example.nl", "a@b.be"]),
        "phone": rng.choice([None, "+31 20 123 4567"]), "company": "Acme",
        "country": rng.choice(["NL", "BE", "DE"]), "source": "form", "campaign": None, "job_title": None,
        "industry": None, "company_size": None,
        "trigger": rng.choice([None, "demo_request", "pricing_request", "webinar"]),
        "score": rng.randint(0, 100), "consent": rng.choice([None, True, False]),
        "recent_touches": rng.randint(0, 9), "extra": {},
    }  # fmt: skip


def cpu(run: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.process_time()
        run()
        best = min(best, time.process_time() - began)
    return best


def rules_figures(label: str, leads: list[dict[str, object]]) -> None:
    rules = [Rule.parse(text) for text in TEXTS]
    lead_by_lead = [tuple(tuple(r.failed) for r in rules_check(rules, lead)) for lead in leads]  # warm up
    batch = [tuple(row) for row in rules_failed_batch(rules, leads)]
    assert batch == lead_by_lead, "the batch must say what CEL says"
    before = cpu(lambda: [rules_check(rules, lead) for lead in leads])
    after = cpu(lambda: rules_failed_batch(rules, leads))
    print(
        f"{label:22} lead by lead {before / len(leads) * 1e6:5.1f} µs a lead, "
        f"a batch at a time {after / len(leads) * 1e6:4.1f} µs a lead ({before / after:.0f}×)"
    )


def columns_figures(n: int) -> None:
    score = [i % 100 if i % 7 else ABSENT for i in range(n)]
    country = [["NL", "BE", "DE", "FR"][i % 4] if i % 5 else ABSENT for i in range(n)]
    texts = frozenset({"NL", "BE"})

    def list_score() -> list[object]:  # what the batch does: Python's own comparison where types agree
        return [v >= 50 if type(v) is int else ABSENT for v in score]

    def numpy_score() -> list[object]:
        is_int = np.fromiter((type(v) is int for v in score), bool, n)
        values = np.fromiter((v if type(v) is int else 0 for v in score), np.int64, n)
        out: list[object] = (values >= 50).tolist()
        for i in np.flatnonzero(~is_int).tolist():
            out[i] = ABSENT
        return out

    def list_country() -> list[object]:
        return [v in texts if type(v) is str else ABSENT for v in country]

    def numpy_country() -> list[object]:
        found: list[object] = np.isin(
            np.array([v if type(v) is str else "" for v in country]), ["NL", "BE"]
        ).tolist()
        for i, v in enumerate(country):
            if type(v) is not str:
                found[i] = ABSENT
        return found

    assert list_score() == numpy_score() and list_country() == numpy_country()
    for name, run in (
        ("lead.score >= 50, list", list_score),
        ("lead.score >= 50, numpy", numpy_score),
        ("lead.country in [...], list", list_country),
        ("lead.country in [...], numpy", numpy_country),
    ):
        print(f"  {n:>5} leads: {name:30} {cpu(run, 20) / n * 1e9:4.0f} ns a lead")


def main() -> None:
    rng = random.Random(16)
    rules_figures("the bench import's", [import_lead(i) for i in range(N)])
    rules_figures("the demo's mix", [demo_lead(rng) for _ in range(N)])
    print("a clause over a column:")
    for n in (1_000, 5_000):
        columns_figures(n)


if __name__ == "__main__":
    main()
