"""HubSpot contacts export, both with property labels and with internal names.

Columns → fields: Record ID / hs_object_id → id; First/Last Name joined to ``name``; Contact owner /
hubspot_owner_id → sales owner (names in the label export, owner ids in the internal one; matched to
people later); Create Date → ``created_at``. Consent: "Legal basis for processing contact's data"
(``hs_legal_basis``: consent or legitimate interest → true), "Unsubscribed from all email"
(``hs_email_optout``: true → false).

Stage dates → events (HubSpot's lifecycle stage only moves forward, so each date is when it happened):

| column (label / internal) | event |
| --- | --- |
| Create Date / createdate | created |
| Owner assigned date / hubspot_owner_assigneddate | assigned (``data["value"]`` = owner) |
| Became a Marketing Qualified Lead Date / hs_lifecyclestage_marketingqualifiedlead_date | handed_over |
| Became a Sales Qualified Lead Date / hs_lifecyclestage_salesqualifiedlead_date | qualified |
| Became an Opportunity Date / hs_lifecyclestage_opportunity_date | opportunity |
| Became a Customer Date / hs_lifecyclestage_customer_date | won (amount: Recent Deal Amount) |
| Lead Status = UNQUALIFIED / BAD_TIMING | rejected (reason code ``unqualified`` / ``bad_timing``) |
| Last Contacted / notes_last_contacted | contact_attempt (human: set by logged calls, e-mails, meetings) |

HubSpot exports no date for a lead status, so rejections take Last Modified Date and say so in
``data["note"]``. "Became a Lead Date" adds nothing over creation and stays in ``extra``; newer
exports' "Date entered '<stage> (Lifecycle Stage Pipeline)'" columns are read as the same stages.
"""

from __future__ import annotations

from leadpact.connectors.mapping import EventRule, Mapping

__all__ = ["HUBSPOT", "SIGNATURE"]


def _stage(label: str, internal: str, stage_label: str) -> tuple[str, ...]:
    return (
        label,
        internal,
        f"Date entered '{stage_label} (Lifecycle Stage Pipeline)'",
        f"hs_v2_date_entered_{internal.split('_')[2]}",
    )


_MODIFIED = ("Last Modified Date", "lastmodifieddate")
_STATUS = ("Lead Status", "hs_lead_status")

HUBSPOT = Mapping(
    name="hubspot",
    source="hubspot",
    columns=(
        ("Record ID", "external_id"),
        ("hs_object_id", "external_id"),
        ("Contact ID", "external_id"),
        ("First Name", "first_name"),
        ("firstname", "first_name"),
        ("Last Name", "last_name"),
        ("lastname", "last_name"),
        ("Email", "email"),
        ("Phone Number", "phone"),
        ("phone", "phone"),
        ("Mobile Phone Number", "phone"),
        ("mobilephone", "phone"),
        ("Company Name", "company"),
        ("company", "company"),
        ("Country/Region", "country"),
        ("Country", "country"),
        ("Original Source", "source"),
        ("Original Traffic Source", "source"),
        ("hs_analytics_source", "source"),
        ("Original Source Drill-Down 2", "campaign"),
        ("hs_analytics_source_data_2", "campaign"),
        ("utm_campaign", "campaign"),
        ("HubSpot Score", "score"),
        ("hubspotscore", "score"),
        ("Job Title", "job_title"),
        ("jobtitle", "job_title"),
        ("Industry", "industry"),
        ("Number of Employees", "company_size"),
        ("numemployees", "company_size"),
        ("Recent Conversion", "trigger"),
        ("recent_conversion_event_name", "trigger"),
        ("First Conversion", "trigger"),
        ("first_conversion_event_name", "trigger"),
        ("Number of Form Submissions", "recent_touches"),
        ("num_conversion_events", "recent_touches"),
        ("Legal basis for processing contact's data", "consent"),
        ("hs_legal_basis", "consent"),
        ("Unsubscribed from all email", "consent_opt_out"),
        ("hs_email_optout", "consent_opt_out"),
        ("Contact owner", "sales_owner"),
        ("hubspot_owner_id", "sales_owner"),
        ("Create Date", "created_at"),
        ("createdate", "created_at"),
    ),
    events=(
        EventRule(
            kind="assigned",
            at=("Owner assigned date", "hubspot_owner_assigneddate"),
            value=("Contact owner", "hubspot_owner_id"),
        ),
        EventRule(
            kind="handed_over",
            at=_stage(
                "Became a Marketing Qualified Lead Date",
                "hs_lifecyclestage_marketingqualifiedlead_date",
                "Marketing Qualified Lead",
            ),
        ),
        EventRule(
            kind="qualified",
            at=_stage(
                "Became a Sales Qualified Lead Date",
                "hs_lifecyclestage_salesqualifiedlead_date",
                "Sales Qualified Lead",
            ),
        ),
        EventRule(
            kind="opportunity",
            at=_stage("Became an Opportunity Date", "hs_lifecyclestage_opportunity_date", "Opportunity"),
        ),
        EventRule(
            kind="won",
            at=_stage("Became a Customer Date", "hs_lifecyclestage_customer_date", "Customer"),
            amount=("Recent Deal Amount", "recent_deal_amount"),
        ),
        EventRule(
            kind="rejected",
            at=_MODIFIED,
            when_column=_STATUS,
            when_values=("UNQUALIFIED",),
            reason_code="unqualified",
            note="time of the last modification: hubspot exports no lead status date",
        ),
        EventRule(
            kind="rejected",
            at=_MODIFIED,
            when_column=_STATUS,
            when_values=("BAD_TIMING",),
            reason_code="bad_timing",
            note="time of the last modification: hubspot exports no lead status date",
        ),
        EventRule(
            kind="contact_attempt",
            at=("Last Contacted", "notes_last_contacted"),
            human=True,
            note="last logged call, e-mail or meeting",
        ),
    ),
)

#: Headers that tell a HubSpot contacts export apart (normalised); two or more must be present.
SIGNATURE = frozenset(
    {
        "record id", "hs_object_id", "contact owner", "hubspot_owner_id", "lifecycle stage",
        "lifecyclestage", "lead status", "hs_lead_status", "create date", "createdate",
        "country/region", "hubspot score", "hubspotscore", "original source",
    }
)  # fmt: skip
