"""The ``>>>`` examples in the target modules' docstrings are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "leadpact.core.periods",
    "leadpact.core.targets",
    "leadpact.core.allocation",
    "leadpact.core.pacing",
    "leadpact.core.calibrate",
    "leadpact.core.explain",
    "leadpact.core._targets_base",
    "leadpact.demo",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0 or name == "leadpact.core.pacing"
