"""User-facing text exists in English and Dutch: the Dutch catalogue is complete and compiled."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.utils import translation

import leadpact

PO = Path(leadpact.__file__).parent / "locale" / "nl" / "LC_MESSAGES" / "django.po"


def _entries() -> list[tuple[str, str]]:
    """(msgid, msgstr) pairs, continuation lines joined; fuzzy entries count as untranslated."""
    pairs = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        match = re.search(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block + "\n", flags=re.MULTILINE)
        if not match:
            continue
        msgid = "".join(json.loads(f'"{x}"') for x in re.findall(r'"(.*)"', match.group(1)))
        msgstr = "".join(json.loads(f'"{x}"') for x in re.findall(r'"(.*)"', match.group(2)))
        if msgid:
            pairs.append((msgid, "" if "#, fuzzy" in block else msgstr))
    return pairs


def test_every_message_has_a_dutch_translation():
    entries = _entries()
    assert len(entries) > 20
    assert [msgid for msgid, msgstr in entries if not msgstr] == []


def test_compiled_catalogue_matches_the_po_file():
    with translation.override("nl"):
        stale = [msgid for msgid, msgstr in _entries() if translation.gettext(msgid) != msgstr]
    assert stale == []
