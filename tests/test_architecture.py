"""The core knows nothing of Django (STYLE.md §1): importing every core module loads no Django."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import leadpact.core


def test_core_imports_no_django_and_no_app():
    modules = [m.name for m in pkgutil.walk_packages(leadpact.core.__path__, "leadpact.core.")]
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True).stdout)
    offenders = [
        m
        for m in loaded
        if m.split(".")[0] == "django"
        or (m.startswith("leadpact.") and not (m.startswith("leadpact.core") or m == "leadpact"))
    ]
    assert offenders == []


def test_the_application_error_is_one_root_with_a_stable_code():
    import doctest

    import leadpact.errors

    assert doctest.testmod(leadpact.errors).failed == 0
    error = leadpact.errors.ApplicationError("x.y", "say what to do", extra={"path": "a[1]"})
    assert (error.code, error.message, error.extra) == ("x.y", "say what to do", {"path": "a[1]"})
