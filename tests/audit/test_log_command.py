"""``leadpact audit log``: the trail per agreement, oldest of the shown entries first, with what changed."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leadpact.demo.services import demo_load


def log(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("audit", "log", *args, stdout=out)
    return out.getvalue().splitlines()


@pytest.mark.django_db
def test_log_per_agreement_shows_the_signing_story_with_changes():
    demo_load(with_leads=False)
    lines = log("--agreement", "marketing-sales", "--limit", "100")
    actions = [line.split()[3] for line in lines]
    assert actions == [
        "agreement.create",
        "agreement.import",
        "version.propose",
        "version.sign",
        "version.sign",
        "version.activate",
    ]
    assert "status: 'proposed' -> 'signed'" in lines[4]
    assert log("--agreement", "marketing-sales", "--limit", "2") == lines[-2:]


@pytest.mark.django_db
def test_log_of_an_unknown_agreement_says_what_to_do():
    with pytest.raises(CommandError, match="leadpact agreement list"):
        log("--agreement", "nope")
