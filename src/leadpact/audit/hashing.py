"""The bytes an audit entry's hash covers: below both the writes (services) and the reads (selectors)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from leadpact.audit.models import AuditEntry

__all__ = ["REKEY_ACTION", "audit_entry_hash", "canonical_json"]

#: The action of the entry that takes over a chain sealed with a key lost for good (``audit rekey``).
REKEY_ACTION = "audit.rekey"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the bytes that are hashed.

    >>> canonical_json({"b": 1, "a": [1, "x"]})
    '{"a":[1,"x"],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def audit_entry_hash(entry: AuditEntry) -> str:
    """sha256 (hex) over the canonical JSON of the entry's content and its ``prev_hash``."""
    at = entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    content = {
        "at": at,
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "organization_id": entry.organization_id,
        "agreement_id": entry.agreement_id,
        "before": entry.before,
        "after": entry.after,
        "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()
