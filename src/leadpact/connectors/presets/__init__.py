"""Predefined mappings for real CRM exports, and detection of the preset from a header row."""

from __future__ import annotations

from collections.abc import Sequence

from leadpact.connectors.mapping import Mapping, normalise_header
from leadpact.connectors.presets import generic, hubspot, pipedrive, salesforce

__all__ = ["PRESETS", "detect_preset", "get_preset"]

#: name → mapping; every name is also the mapping's ``name``.
PRESETS: dict[str, Mapping] = {
    m.name: m
    for m in (
        hubspot.HUBSPOT,
        salesforce.SALESFORCE_REPORT,
        salesforce.SALESFORCE_BULK,
        pipedrive.PIPEDRIVE_LEADS,
        pipedrive.PIPEDRIVE_DEALS,
        generic.GENERIC,
    )
}

_SIGNATURES: dict[str, frozenset[str]] = {
    "hubspot": hubspot.SIGNATURE,
    "salesforce_report": salesforce.REPORT_SIGNATURE,
    "salesforce_bulk": salesforce.BULK_SIGNATURE,
    "pipedrive_leads": pipedrive.LEADS_SIGNATURE,
    "pipedrive_deals": pipedrive.DEALS_SIGNATURE,
    "generic": generic.SIGNATURE,
}


def get_preset(name: str) -> Mapping:
    """The preset of that name; raises ValueError listing the known names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"preset {name!r} is unknown; known presets: {', '.join(sorted(PRESETS))}") from None


def detect_preset(header: Sequence[str]) -> str | None:
    """The preset whose id column and at least two telltale headers are present; the best match wins.

    >>> detect_preset(["Record ID", "First Name", "Email", "Contact owner", "Create Date"])
    'hubspot'
    >>> detect_preset(["foo", "bar"]) is None
    True
    """
    present = {normalise_header(h) for h in header}
    best: tuple[int, int] = (0, 0)
    found: str | None = None
    for name, mapping in PRESETS.items():
        ids = {normalise_header(h) for h, t in mapping.columns if t == "external_id"}
        if not ids & present:
            continue
        telltales = len(_SIGNATURES[name] & present)
        if telltales < 2:
            continue
        mapped = {normalise_header(h) for h, _ in mapping.columns}
        for rule in mapping.events:
            mapped.update(normalise_header(h) for h in rule.at)
        score = (telltales, len(mapped & present))
        if score > best:
            best, found = score, name
    return found
