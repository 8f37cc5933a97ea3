"""Issue 15: imports read in the organisation's time zone and say what they assumed (case 2); a cut-off
row never overwrites a stored lead (case 3); a stray byte is a reported row (case 4)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from django.core.management import call_command

from leadpact.leads.imports import lead_import
from leadpact.leads.models import ImportProblem, Lead, LeadEvent

UTC = dt.UTC
HEADER = "Record ID,First Name,Last Name,Email,Company Name,Create Date\n"


def run_import(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


class TestTimeZone:
    def test_file_times_are_the_organisations_local_times(self, organization, tmp_path: Path):
        organization.timezone = "America/New_York"
        organization.save()
        path = tmp_path / "contacts.csv"
        path.write_text(HEADER + "51,Anna,Jansen,a@x.nl,Acme,2026-10-07 09:14\n")
        output = run_import(str(path), "--preset", "hubspot")
        created = LeadEvent.objects.get(kind="created")
        assert created.occurred_at == dt.datetime(2026, 10, 7, 13, 14, tzinfo=UTC)  # EDT is UTC-4
        assert "timezone America/New_York (the organisation's)" in output
        assert "encoding utf-8" in output and "delimiter comma (,)" in output
        assert "'Create Date' iso" in output

    def test_timezone_option_overrides(self, organization, tmp_path: Path):
        organization.timezone = "America/New_York"
        organization.save()
        path = tmp_path / "contacts.csv"
        path.write_text(HEADER.replace(",", ";") + "51;Anna;Jansen;a@x.nl;Acme;07-10-2026 09:14\n")
        output = run_import(str(path), "--preset", "hubspot", "--timezone", "Europe/Amsterdam", "--day-first")
        assert LeadEvent.objects.get(kind="created").occurred_at == dt.datetime(
            2026, 10, 7, 7, 14, tzinfo=UTC
        )
        assert "timezone Europe/Amsterdam (given)" in output and "semicolon" in output
        assert "day-month-year" in output


class TestCutOffFile:
    def test_a_truncated_row_never_overwrites_a_stored_lead(self, organization, tmp_path: Path):
        whole = tmp_path / "whole.csv"
        whole.write_text(HEADER + '51,Anna,Jansen,a@x.nl,"Acme, Inc.",2026-10-07 09:00\n')
        lead_import(organization=organization, path=whole, preset="hubspot")
        cut = tmp_path / "cut.csv"
        cut.write_text(HEADER + '52,Bo,Berg,b@x.nl,Beta,2026-10-07 09:00\n51,Anna,Jansen,a@x.nl,"Acme,')
        outcome = lead_import(organization=organization, path=cut, preset="hubspot")
        assert Lead.objects.get(email="a@x.nl").company == "Acme, Inc."
        assert outcome.job.problems_count == 1
        problem = ImportProblem.objects.get(job=outcome.job)
        assert problem.row == 3 and "quoted cell" in problem.reason


class TestStrayByte:
    def test_a_stray_byte_adds_no_garbled_event_to_a_stored_lead(self, organization, tmp_path: Path):
        first = tmp_path / "first.csv"
        first.write_bytes((HEADER + "51,Inès,Moreau,ines@x.fr,Société,2026-10-07 09:00\n").encode())
        lead_import(organization=organization, path=first, preset="hubspot")
        events = LeadEvent.objects.count()
        second = tmp_path / "second.csv"
        second.write_bytes(
            (HEADER + "51,Inès,Moreau,ines@x.fr,Société Générale,2026-10-07 09:00\n").encode()
            + b"53,Ren\xe9,Roux,r@x.fr,Acme,2026-10-08 09:00\n"
        )
        outcome = lead_import(organization=organization, path=second, preset="hubspot")
        assert Lead.objects.get(email="ines@x.fr").name == "Inès Moreau"
        assert LeadEvent.objects.count() == events
        assert [p.row for p in ImportProblem.objects.filter(job=outcome.job)] == [3]
        assert not Lead.objects.filter(email="r@x.fr").exists()


class TestDeliveryAccounts:
    """Case 6 on the delivery: ignored items are listed with their reason; an empty generic body fails."""

    def test_ignored_items_are_listed_on_the_delivery(self, organization):
        import hashlib
        import json

        from django.utils import timezone

        from leadpact.leads.models import WebhookDelivery
        from leadpact.leads.services import webhook_integration_create
        from leadpact.leads.webhooks import webhook_delivery_process

        hs = webhook_integration_create(
            organization=organization, kind="hubspot", name="hs", slug="hs",
            secret="hubspot-client-secret-0123456789", actor="test",
        )[0]  # fmt: skip
        gen = webhook_integration_create(organization=organization, kind="generic", name="g", slug="g",
                                         actor="test")[0]  # fmt: skip
        items = [
            {"subscriptionType": "object.propertyChange", "objectTypeId": "0-1", "objectId": 501,
             "occurredAt": 1791360000123, "propertyName": "hubspot_owner_id", "propertyValue": "7301"},
            {"subscriptionType": "object.propertyChange", "objectTypeId": "0-3", "objectId": 88,
             "occurredAt": 1791360000123, "propertyName": "dealstage", "propertyValue": "closedwon"},
        ]  # fmt: skip

        def deliver(integration, body: bytes) -> WebhookDelivery:
            row = WebhookDelivery.objects.create(integration=integration, headers={}, body=body,
                                                 body_digest=hashlib.sha256(body).digest(),
                                                 received_at=timezone.now())  # fmt: skip
            return webhook_delivery_process(row)

        done = deliver(hs, json.dumps(items).encode())
        assert done.status == "processed" and done.events_stored == 1
        assert "item 1 ignored" in done.error and "0-3 (deals)" in done.error
        empty = deliver(gen, b'{"source": "forms"}')
        assert empty.status == "failed" and "no leads and no events" in empty.error


class TestMappingFile:
    """Case 7: ``import --mapping FILE`` loads a mapping written with ``--save-mapping FILE.json``."""

    def test_save_then_load_a_mapping_file(self, organization, tmp_path: Path):
        first = tmp_path / "first.csv"
        first.write_text("Klant,Mail,Toestemming,Aangemaakt\nK-1,a@x.nl,ja,07-10-2026 09:14\n")
        mapping = tmp_path / "mijn-crm.json"
        mapping.write_text(
            '{"name": "mijn-crm", "source": "mijncrm", "columns": [["Klant", "external_id"],'
            ' ["Mail", "email"], ["Toestemming", "consent"], ["Aangemaakt", "created_at"]], "dayfirst": true}'
        )
        saved = tmp_path / "again.json"
        output = run_import(str(first), "--mapping", str(mapping), "--save-mapping", str(saved))
        assert "mapping written to" in output
        lead = Lead.objects.get(email="a@x.nl")
        assert lead.consent is True
        second = tmp_path / "second.csv"
        second.write_text("Klant,Mail,Toestemming,Aangemaakt\nK-2,b@x.nl,nee,08-10-2026 09:14\n")
        run_import(str(second), "--mapping", str(saved))
        assert Lead.objects.get(email="b@x.nl").consent is False
        assert LeadEvent.objects.get(lead__email="b@x.nl", kind="created").occurred_at == dt.datetime(
            2026, 10, 8, 7, 14, tzinfo=UTC
        )

    def test_a_broken_mapping_file_is_one_clear_line(self, organization, tmp_path: Path):
        import pytest
        from django.core.management import CommandError

        bad = tmp_path / "bad.json"
        bad.write_text("{nope")
        data = tmp_path / "x.csv"
        data.write_text("a,b\n1,2\n")
        with pytest.raises(CommandError, match="not valid json"):
            run_import(str(data), "--mapping", str(bad))


def test_a_mautic_stage_delivered_again_is_one_handoff(organization):
    """Case 9: Mautic sends the whole contact on each update; its stage is one event per contact."""
    import hashlib
    import json

    from django.utils import timezone

    from leadpact.leads.models import WebhookDelivery
    from leadpact.leads.services import webhook_integration_create
    from leadpact.leads.webhooks import webhook_delivery_process

    hook = webhook_integration_create(
        organization=organization, kind="mautic", name="m", slug="m", actor="t"
    )[0]
    for modified in ("2026-11-27T09:30:00+00:00", "2026-11-28T11:00:00+00:00"):
        body = json.dumps({"mautic.lead_post_save_update": [
            {"contact": {"id": 4711, "dateModified": modified, "stage": {"id": 2, "name": "MQL"},
                         "fields": {"all": {"email": "j@x.nl"}}},
             "timestamp": modified}]}).encode()  # fmt: skip
        row = WebhookDelivery.objects.create(
            integration=hook, headers={}, body=body, body_digest=hashlib.sha256(body).digest(),
            received_at=timezone.now(),
        )  # fmt: skip
        assert webhook_delivery_process(row).status == "processed"
    handoffs = LeadEvent.objects.filter(kind="handed_over")
    assert [e.occurred_at for e in handoffs] == [dt.datetime(2026, 11, 27, 9, 30, tzinfo=UTC)]
    assert handoffs[0].lead.state.handoffs == 1


def test_a_pipedrive_deal_made_from_a_lead_is_that_lead(organization):
    """Case 9: Pipedrive converts a lead into a deal for its person; the deal's won counts for the lead."""
    import hashlib

    from django.utils import timezone

    from leadpact.leads.models import LeadSource, WebhookDelivery
    from leadpact.leads.services import webhook_integration_create
    from leadpact.leads.webhooks import webhook_delivery_process

    samples = Path(__file__).parents[1] / "connectors" / "samples"
    hook = webhook_integration_create(organization=organization, kind="pipedrive", name="pd", slug="pd",
                                      actor="t")[0]  # fmt: skip
    for name in ("pipedrive_lead_created.json", "pipedrive_deal_won.json"):
        body = (samples / name).read_bytes()
        row = WebhookDelivery.objects.create(
            integration=hook, headers={}, body=body, body_digest=hashlib.sha256(body).digest(),
            received_at=timezone.now(),
        )  # fmt: skip
        done = webhook_delivery_process(row)
        assert done.status == "processed"
    assert "made from lead 2f4e8c1a" in done.error
    lead = Lead.objects.get()
    assert sorted(LeadSource.objects.filter(lead=lead).values_list("external_id", flat=True)) == [
        "1201", "2f4e8c1a-7b7d-11ef-9c1a-0242ac120002"
    ]  # fmt: skip
    assert lead.state.outcome == "won"
    assert LeadEvent.objects.filter(lead=lead, kind="created").count() == 1
