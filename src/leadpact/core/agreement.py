"""The agreement document: one version of the SLA as data — parse, validate, dump, hash, diff.

The format is described in ``notes/AGREEMENT-FORMAT.md``; in short, a YAML document with the
top-level keys ``leadpact`` (format version 1), ``agreement``, ``parties``, ``calendars``,
``definitions``, ``reason_codes``, ``settings`` and ``commitments``.

>>> doc = agreement_load_yaml(agreement_template("en"))
>>> doc.commitment("mql-volume").target.per
'month'
>>> agreement_dump_yaml(agreement_load_yaml(agreement_dump_yaml(doc))) == agreement_dump_yaml(doc)
True

Canonical form (what :func:`agreement_dump_yaml` writes and :func:`agreement_content_hash`
hashes): keys in the order of the format; values that have a fixed default (``settings``,
``split``, ``requires_text``, ``clock.pause``, ``clock.human_only``) are always written; values
whose absence means "inherit" or "not applicable" (``effective_until``, ``review``, a definition's
``rule``, a commitment's ``covers``, ``outcome``, ``basis``, ``calendar``, ``clock``, ``fields``,
a target's ``per``, ``growth``, ``currency``, a clock's ``thresholds`` and ``attempts``) are left
out when empty. Numbers are exact decimals written without exponent or trailing zeros; durations in
their canonical form (``120m`` → ``2h``); unicode is kept.

Durations (``clock.window``): ``<N>m`` business minutes, ``<N>h`` business hours, ``<N>bd`` whole
business days (deadline = same clock time N business days later, clipped to close); see
:class:`~leadpact.core.durations.BusinessDuration`.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Literal

from leadpact.core._agreement_data import DataStyle, to_data
from leadpact.core._agreement_diff import Change, ChangeKind, Section, diff
from leadpact.core._agreement_model import (
    CLOCK_KINDS,
    COMMITMENT_KINDS,
    EVENT_KINDS,
    KIND_UNITS,
    OUTCOMES,
    REASON_GROUPS,
    AgreementDocument,
    AgreementInfo,
    Basis,
    Calendar,
    CheckKind,
    Clock,
    Commitment,
    CommitmentKind,
    Definition,
    Escalation,
    FieldCheck,
    FieldCheckError,
    Lang,
    Normalisation,
    Pacing,
    Party,
    Per,
    PeriodName,
    ReasonCode,
    ReasonGroup,
    Review,
    Settings,
    Split,
    Target,
    Unit,
    check_value,
)
from leadpact.core._agreement_parse import FORMAT_VERSION, AgreementInvalid, Problem, parse_document
from leadpact.core._agreement_yaml import YamlSyntaxError, dump_yaml, load_yaml
from leadpact.core.durations import BusinessDuration

__all__ = [
    "CLOCK_KINDS",
    "COMMITMENT_KINDS",
    "EVENT_KINDS",
    "FORMAT_VERSION",
    "KIND_UNITS",
    "OUTCOMES",
    "REASON_GROUPS",
    "AgreementDocument",
    "AgreementInfo",
    "AgreementInvalid",
    "Basis",
    "BusinessDuration",
    "Calendar",
    "Change",
    "ChangeKind",
    "CheckKind",
    "Clock",
    "Commitment",
    "CommitmentKind",
    "DataStyle",
    "Definition",
    "Escalation",
    "FieldCheck",
    "FieldCheckError",
    "Lang",
    "Normalisation",
    "Pacing",
    "Party",
    "Per",
    "PeriodName",
    "Problem",
    "ReasonCode",
    "ReasonGroup",
    "Review",
    "Section",
    "Settings",
    "Split",
    "Target",
    "Unit",
    "agreement_content_hash",
    "agreement_diff",
    "agreement_dump_yaml",
    "agreement_load_yaml",
    "agreement_parse",
    "agreement_template",
    "agreement_to_data",
    "check_value",
]


def agreement_parse(data: object) -> AgreementDocument:
    """Validate plain data (as read from YAML or JSON) into a document.

    Raises :class:`AgreementInvalid` listing every problem with its path, e.g.
    ``commitments[3].target.value: must be > 0``.
    """
    return parse_document(data)


def agreement_load_yaml(text: str) -> AgreementDocument:
    """Read and validate a YAML agreement; a YAML syntax error is a problem at ``line L, column C``."""
    try:
        data = load_yaml(text)
    except YamlSyntaxError as exc:
        where = f"line {exc.line}, column {exc.column}" if exc.line else ""
        raise AgreementInvalid([Problem(where, exc.message)]) from None
    return parse_document(data)


def agreement_to_data(doc: AgreementDocument, *, style: DataStyle = "python") -> dict[str, object]:
    """The document as canonical plain data.

    ``style="python"`` keeps exact :class:`~decimal.Decimal` and :class:`~datetime.date` values;
    ``style="json"`` writes them as strings (``"0.1"``, ``"2026-01-01"``) so the result can be stored
    as JSON; :func:`agreement_parse` reads both.
    """
    return to_data(doc, style)


def agreement_dump_yaml(doc: AgreementDocument) -> str:
    """The canonical YAML text of the document (export → import → export is byte-identical)."""
    return dump_yaml(to_data(doc))


def agreement_content_hash(doc: AgreementDocument) -> str:
    """The sha256 (hex) of the canonical YAML, UTF-8: what signatures sign.

    >>> len(agreement_content_hash(agreement_load_yaml(agreement_template("nl"))))
    64
    """
    return hashlib.sha256(agreement_dump_yaml(doc).encode("utf-8")).hexdigest()


def agreement_diff(old: AgreementDocument, new: AgreementDocument) -> list[Change]:
    """What changed from ``old`` to ``new``, clause by clause; ``Change.describe(lang)`` says it in words."""
    return diff(old, new)


def agreement_template(lang: Literal["en", "nl"]) -> str:
    """The shipped template agreement's YAML text, in English or Dutch (same keys, same numbers)."""
    if lang not in ("en", "nl"):
        raise ValueError(f"template language {lang!r} must be en or nl")
    return resources.files("leadpact.core").joinpath("templates", f"agreement.{lang}.yaml").read_text("utf-8")
