"""Issue 15 case 7: the presets map each CRM's standard consent fields, so the agreement's
``lead.consent == true`` can hold for imported leads."""

from __future__ import annotations

import io

import pytest

from leadpact.connectors.files import ImportedRow, read_file


def consent_of(text: str, preset: str) -> list[bool | None]:
    with read_file(io.BytesIO(text.encode()), preset=preset, tz="Europe/Amsterdam") as result:
        return [item.lead.fields.consent for item in result if isinstance(item, ImportedRow)]


@pytest.mark.parametrize(
    ("csv", "preset", "expected"),
    [
        (
            "Record ID,Email,Create Date,"
            "Legal basis for processing contact's data,Unsubscribed from all email\n"
            "1,a@x.nl,2026-10-07 09:00,Freely given consent from contact,false\n"
            "2,b@x.nl,2026-10-07 09:00,Legitimate interest – prospect/lead,true\n"
            "3,c@x.nl,2026-10-07 09:00,,\n",
            "hubspot",
            [True, False, None],
        ),
        (
            "hs_object_id,email,createdate,hs_legal_basis,hs_email_optout\n"
            "1,a@x.nl,2026-10-07T08:00:00.000Z,"
            "Freely given consent from contact;Legitimate interest - other,\n",
            "hubspot",
            [True],
        ),
        (
            '"Id","FirstName","LastName","Company","Status","CreatedDate","HasOptedOutOfEmail"\n'
            '"00Q1","A","B","C","Open - Not Contacted","2026-11-26T14:05:00.000Z","false"\n'
            '"00Q2","A","B","C","Open - Not Contacted","2026-11-26T14:05:00.000Z","true"\n',
            "salesforce_bulk",
            [True, False],
        ),
        (
            '"Lead ID","First Name","Last Name","Company / Account","Lead Status","Create Date",'
            '"Email Opt Out"\n'
            '"00Q1","A","B","C","Open - Not Contacted","26/11/2026 14:05","0"\n',
            "salesforce_report",
            [True],
        ),
        (
            "Lead - ID,Person - Name,Lead - Created,Person - Marketing status\n"
            "a1,Anna,2026-11-26 14:05:00,subscribed\n"
            "a2,Bo,2026-11-26 14:05:00,no_consent\n",
            "pipedrive_leads",
            [True, False],
        ),
    ],
)
def test_presets_read_consent(csv: str, preset: str, expected: list[bool | None]):
    assert consent_of(csv, preset) == expected
