"""Lead data in: CRM export files and webhooks, mapped onto lead records and lead events.

Pure Python (stdlib, and openpyxl for XLSX); the Django ``leads`` app stores what these produce.
"""

from leadpact.connectors._dates import AmbiguousDates
from leadpact.connectors.files import (
    ImportedRow,
    ImportResult,
    Table,
    UnreadableFile,
    file_fingerprint,
    open_table,
    problems_to_csv,
    read_file,
)
from leadpact.connectors.mapping import EventRule, Mapping, MappingError
from leadpact.connectors.presets import PRESETS, detect_preset, get_preset
from leadpact.connectors.records import (
    EVENT_KINDS,
    EventKind,
    EventRecord,
    LeadFields,
    LeadRecord,
    RowProblem,
)

__all__ = [
    "EVENT_KINDS",
    "PRESETS",
    "AmbiguousDates",
    "EventKind",
    "EventRecord",
    "EventRule",
    "ImportResult",
    "ImportedRow",
    "LeadFields",
    "LeadRecord",
    "Mapping",
    "MappingError",
    "RowProblem",
    "Table",
    "UnreadableFile",
    "detect_preset",
    "file_fingerprint",
    "get_preset",
    "open_table",
    "problems_to_csv",
    "read_file",
]
