"""User-facing text exists in English and Dutch: the Dutch catalogue is complete and compiled."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

import leadpact

PO = Path(leadpact.__file__).parent / "locale" / "nl" / "LC_MESSAGES" / "django.po"


def _entries() -> list[tuple[str, str]]:
    text = PO.read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.*)"\nmsgstr "(.*)"$', text, flags=re.MULTILINE)
    return [(msgid, msgstr) for msgid, msgstr in pairs if msgid]


def test_every_message_has_a_dutch_translation():
    entries = _entries()
    assert len(entries) > 20
    assert [msgid for msgid, msgstr in entries if not msgstr] == []


def test_compiled_catalogue_matches_the_po_file():
    with translation.override("nl"):
        stale = [msgid for msgid, msgstr in _entries() if translation.gettext(msgid) != msgstr]
    assert stale == []
