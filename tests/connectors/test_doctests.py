"""The examples in the connectors' docstrings run and are right."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["files", "_dates", "_values", "_sniff", "mapping", "records", "presets", "webhooks", "bounds"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"leadpact.connectors.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
