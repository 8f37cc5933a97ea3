"""The demo organisation: teams, calendars and people of an invented Dutch B2B SaaS company.

Pure data (``organisation.yaml`` beside this module); the database loader and the golden target
snapshot read it through :func:`demo_organisation`.

>>> [team["key"] for team in demo_organisation()["teams"]]
['marketing', 'sdr', 'sales']
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

__all__ = ["demo_organisation"]


def demo_organisation() -> dict[str, Any]:
    """The demo organisation as plain data (``yaml.safe_load``: unquoted dates are ``datetime.date``)."""
    text = resources.files("leadpact.demo").joinpath("organisation.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("demo organisation: organisation.yaml must hold a mapping")
    return data
