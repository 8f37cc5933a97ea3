"""Issue 15 case 8: owners match people by their user id per CRM (and by e-mail as a fallback); an owner
nobody is is listed once per import, with a count."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

from django.core.management import call_command
from django.utils import timezone

from leadpact.audit.models import AuditEntry
from leadpact.leads.imports import lead_import
from leadpact.leads.models import ImportProblem, Lead, WebhookDelivery
from leadpact.leads.services import webhook_integration_create
from leadpact.leads.webhooks import webhook_delivery_process
from tests.organization.factories import make_person, make_team

BULK = (
    '"Id","FirstName","LastName","Company","Status","OwnerId","CreatedDate"\n'
    '"00Q1","A","B","C","Open - Not Contacted","0055g00000AAAAAAA1","2026-11-26T14:05:00.000Z"\n'
    '"00Q2","A","B","C","Open - Not Contacted","0055g00000ZZZZZZZ9","2026-11-26T14:05:00.000Z"\n'
    '"00Q3","A","B","C","Open - Not Contacted","0055g00000ZZZZZZZ9","2026-11-26T14:05:00.000Z"\n'
    '"00Q4","A","B","C","Open - Not Contacted","0055g00000ZZZZZZZ9","2026-11-26T14:05:00.000Z"\n'
)


def test_salesforce_owner_ids_match_and_unknown_ones_are_listed_once(organization, tmp_path: Path):
    sales = make_team(organization, "sales")
    julia = make_person(sales, "Julia Bos")
    out = io.StringIO()
    # the 15-character id a report shows matches the 18-character one the API gives
    call_command("crm_ids", "set", julia.email, "--crm", "salesforce", "--id", "0055g00000AAAAA",
                 "--by", julia.email, stdout=out)  # fmt: skip
    assert "salesforce 0055g00000AAAAA" in out.getvalue()
    assert AuditEntry.objects.filter(action="person.update").exists()
    path = tmp_path / "bulk.csv"
    path.write_text(BULK)
    outcome = lead_import(organization=organization, path=path, preset="salesforce_bulk")
    assert Lead.objects.get(sources__external_id="00Q1").sales_owner == julia
    problems = list(ImportProblem.objects.filter(job=outcome.job).values_list("row", "column", "reason"))
    assert len(problems) == 1 and outcome.job.problems_count == 1
    row, column, reason = problems[0]
    assert (row, column) == (3, "OwnerId")
    assert "unknown owner '0055g00000ZZZZZZZ9' on 3 row(s)" in reason
    assert Lead.objects.count() == 4


def test_a_hubspot_webhook_owner_change_gives_the_lead_its_owner(organization):
    sales = make_team(organization, "sales")
    sid = make_person(sales, "Sid Sales")
    call_command("crm_ids", "set", "Sid Sales", "--crm", "hubspot", "--id", "7301", "--by", sid.email,
                 stdout=io.StringIO())  # fmt: skip
    hook = webhook_integration_create(organization=organization, kind="hubspot", name="hs", slug="hs",
                                      secret="hubspot-client-secret-0123456789", actor="test")[0]  # fmt: skip
    body = json.dumps([{"subscriptionType": "object.propertyChange", "objectTypeId": "0-1", "objectId": 501,
                        "occurredAt": 1791360000123, "propertyName": "hubspot_owner_id",
                        "propertyValue": "7301"}]).encode()  # fmt: skip
    row = WebhookDelivery.objects.create(
        integration=hook, headers={}, body=body, body_digest=hashlib.sha256(body).digest(),
        received_at=timezone.now(),
    )  # fmt: skip
    done = webhook_delivery_process(row)
    assert done.status == "processed" and not done.error
    lead = Lead.objects.get(sources__external_id="501")
    assert lead.sales_owner == sid and lead.state.owner == sid


def test_owner_by_email_is_the_fallback(organization, tmp_path: Path):
    sales = make_team(organization, "sales")
    bo = make_person(sales, "Bo Berg")
    path = tmp_path / "deals.csv"
    path.write_text(
        "Lead - ID,Person - Name,Lead - Owner,Lead - Created\n"
        f"a1,Anna,{bo.email.upper()},2026-11-26 14:05:00\n"
    )
    lead_import(organization=organization, path=path, preset="pipedrive_leads")
    assert Lead.objects.get().sales_owner == bo


def test_a_crm_id_of_the_wrong_shape_is_one_clear_line(organization):
    import pytest
    from django.core.management import CommandError

    sales = make_team(organization, "sales")
    bo = make_person(sales, "Bo Berg")
    with pytest.raises(CommandError, match="1 to 64 characters"):
        call_command("crm_ids", "set", bo.email, "--crm", "hubspot", "--id", "x" * 65, "--by", bo.email,
                     stdout=io.StringIO())  # fmt: skip
