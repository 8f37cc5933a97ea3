"""User-facing text exists in English and Dutch: the Dutch catalogue is complete and compiled."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.utils import translation

import leadpact

PO = Path(leadpact.__file__).parent / "locale" / "nl" / "LC_MESSAGES" / "django.po"


def _text(lines: list[str]) -> str:
    return "".join(json.loads(f'"{x}"') for x in lines)


def _entries() -> list[tuple[str | None, str, str | None, list[str]]]:
    """(context, msgid, msgid_plural, msgstrs) of every entry; fuzzy entries count as untranslated."""
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, list[str]] = {}
        current = None
        for line in block.splitlines():
            head = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if head:
                current = head.group(1)
                fields[current] = [head.group(2)]
            elif line.startswith('"') and current:
                fields[current].append(line[1:-1])
        if "msgid" not in fields or not _text(fields["msgid"]):
            continue
        strs = [_text(v) for k, v in sorted(fields.items()) if k.startswith("msgstr")]
        if "#, fuzzy" in block:
            strs = [""]
        context = _text(fields["msgctxt"]) if "msgctxt" in fields else None
        plural = _text(fields["msgid_plural"]) if "msgid_plural" in fields else None
        entries.append((context, _text(fields["msgid"]), plural, strs))
    return entries


def test_every_message_has_a_dutch_translation():
    entries = _entries()
    assert len(entries) > 20 and any(plural for _, _, plural, _ in entries)
    assert [msgid for _, msgid, _, strs in entries if not all(strs)] == []


def test_compiled_catalogue_matches_the_po_file():
    stale = []
    with translation.override("nl"):
        for context, msgid, plural, strs in _entries():
            if plural is not None:
                found = [
                    translation.npgettext(context, msgid, plural, n)
                    if context
                    else translation.ngettext(msgid, plural, n)
                    for n in (1, 2)
                ]
            else:
                found = [translation.pgettext(context, msgid) if context else translation.gettext(msgid)]
            if found != strs:
                stale.append(msgid)
    assert stale == []
