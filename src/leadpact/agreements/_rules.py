"""The bridge to :mod:`leadpact.core.rules`: a rule that does not parse becomes a field error."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from leadpact.core.rules import Rule, RuleError


def rule_check(text: str, *, field: str) -> None:
    """Raise a ValidationError on ``field`` naming the reason and the position; an empty rule is fine."""
    if not text.strip():
        return
    try:
        Rule.parse(text)
    except RuleError as error:
        raise ValidationError({field: f"invalid rule: {error}"}) from error
