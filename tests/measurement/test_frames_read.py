"""``frames_load`` reads leads, handoff checks, duplicates and upheld disputes by ranges of the chosen
lead ids and packs them in few integer columns: the frames equal a plain ORM reading of the same rows,
whichever way the read goes (runs of ids or ids read back, the lead index or the whole table)."""

from __future__ import annotations

import numpy as np
import pytest

from leadpact.core._metrics_frames import NOT_CHECKED
from leadpact.leads.models import HandoffCheck, Lead, LeadEvent
from leadpact.measurement import _frames
from leadpact.measurement._frames import frames_load
from leadpact.measurement.models import Dispute
from leadpact.organization.models import Organization
from tests.measurement.scene import add_lead, local, paused_version, person

pytestmark = pytest.mark.django_db

FIELDS = ["email", "phone", "company"]
KEYS = ["mql", "mql-high-intent", "sal"]


def reference(version, lead_ids: list[int]) -> dict[int, tuple]:
    """Per lead: owners, met, fields present, each key's result, duplicate_of, upheld — with the ORM."""
    out = {}
    for lead in Lead.objects.filter(pk__in=lead_ids).order_by("pk"):
        checks = sorted(
            HandoffCheck.objects.filter(lead=lead).select_related("definition_version"),
            key=lambda c: (c.event_id, c.agreement_version_id == version.pk, c.pk),
        )
        last = checks[-1] if checks else None
        missing = set(last.missing_fields or ()) if last else set()
        results = []
        for key in KEYS:
            entry = (last.definitions or {}).get(key) if last else None
            if isinstance(entry, dict) and entry.get("met") in (True, False):
                results.append(int(entry["met"]))
            elif last and last.definition_version and last.definition_version.key == key:
                results.append(int(last.met))
            else:
                results.append(NOT_CHECKED)
        upheld = Dispute.objects.filter(
            lead=lead, status="upheld", agreement_version__agreement=version.agreement
        ).exists()
        out[lead.pk] = (
            lead.marketing_owner_id or -1,
            lead.sales_owner_id or -1,
            last.met if last else True,
            tuple(name not in missing for name in FIELDS),
            tuple(results),
            lead.duplicate_of_id or -1,
            upheld,
            last.definition_version_id if last and last.definition_version_id else None,
        )
    return out


def read(version):
    return frames_load(
        organization_id=version.agreement.organization_id,
        agreement_id=version.agreement_id,
        version_id=version.pk,
        since=local(2026, 10, 1),
        until=local(2026, 11, 1),
        now=local(2026, 12, 1),
        reason_codes=["not_icp"],
        field_names=FIELDS,
        definition_keys=KEYS,
    )


def as_rows(loaded) -> dict[int, tuple]:
    f = loaded.leads
    versions = loaded.definition_versions
    return {
        int(lead): (
            int(f.marketing_owner[i]),
            int(f.sales_owner[i]),
            bool(f.met_definition[i]),
            tuple(bool(x) for x in f.fields_present[i]),
            tuple(int(f.definitions[k][i]) for k in KEYS),
            int(f.duplicate_of[i]),
            bool(f.disputed_upheld[i]),
            versions.get(int(lead)),
        )
        for i, lead in enumerate(f.lead_id.tolist())
    }


@pytest.fixture
def scene(demo):
    """Leads of October with every shape of check, a duplicate, an upheld and an open dispute, another
    organisation's lead between them, and a lead handed over in September (not chosen)."""
    org = demo.agreement.organization
    steps = [("handed_over", local(2026, 10, 5, 10), {})]
    early = add_lead(org, "sept", events=[("handed_over", local(2026, 9, 20, 10), {})])
    a = add_lead(org, "a", events=steps)
    other = Organization.objects.create(key="other", name="Other", timezone="Europe/Amsterdam")
    stranger = Lead.objects.create(
        organization=other, name="x", created_at=local(2026, 10, 1), updated_at=local(2026, 10, 1)
    )
    b = add_lead(org, "b", trigger="webinar", events=steps)
    c = add_lead(org, "c", country="DE", events=steps)
    d = add_lead(org, "d", events=steps)
    dup = add_lead(org, "dup", email="a@b.nl", events=[("handed_over", local(2026, 10, 6, 10), {})])
    # b: its check found two fields missing (one not in the contract); c: a second, later handoff with
    # an older-style check (no definitions) and two checks of one event, this version's last
    HandoffCheck.objects.filter(lead=b).update(missing_fields=["phone", "fax", "phone"], met=False)
    LeadEvent.objects.create(
        organization=org, lead=c, kind="handed_over", occurred_at=local(2026, 10, 8, 10),
        recorded_at=local(2026, 10, 8, 10), source="test", idempotency_key="c-again",
    )  # fmt: skip
    later = LeadEvent.objects.get(idempotency_key="c-again")
    mql = demo.definitions.get(key="mql")
    for version, met, missing in ((demo, True, []), (None, False, ["email"])):
        HandoffCheck.objects.create(
            lead=c, event=later, agreement_version=version or other_version(demo), definition_version=mql,
            met=met, missing_fields=missing, definitions={}, checked_at=local(2026, 10, 8, 10),
        )  # fmt: skip
    # d: its check has a definition result that is not a boolean (reads as its fallback or not checked)
    HandoffCheck.objects.filter(lead=d).update(definitions={"mql": {"met": None}, "sal": {"met": False}})
    Lead.objects.filter(pk=dup.pk).update(duplicate_of=a)
    rep = person("julia")
    for lead, status in ((a, "upheld"), (b, "open")):
        Dispute.objects.create(
            lead=lead, agreement_version=demo, commitment_key="mql-volume", opened_by=rep,
            opened_at=local(2026, 10, 9), reason="no", status=status,
        )  # fmt: skip
    return [a, b, c, d, dup], early, stranger


def other_version(demo):
    """A second version of the demo agreement (its checks rank before this version's)."""
    from leadpact.agreements.models import AgreementVersion

    found = AgreementVersion.objects.filter(agreement=demo.agreement).exclude(pk=demo.pk).first()
    return found or paused_version(demo, now=local(2026, 12, 15))


@pytest.mark.parametrize("folded", [True, False], ids=["folded", "columns"])
@pytest.mark.parametrize("runs", ["runs", "ids", "both"])
@pytest.mark.parametrize("whole", [True, False], ids=["table", "index"])
def test_the_packed_read_equals_the_rows(demo, scene, monkeypatch, runs, whole, folded):
    leads, early, stranger = scene
    chosen = {lead.pk for lead in leads}
    # by runs of ids; by ids; or the long runs by run and the others by id (a run of 2 here is long)
    monkeypatch.setattr(_frames, "_MAX_RUNS", {"runs": 1000, "ids": -1, "both": 1}[runs])
    monkeypatch.setattr(_frames, "_LONG_RUN", 2 if runs == "both" else 256)
    monkeypatch.setattr(_frames, "_WHOLE_TABLE_SHARE", 0.0 if whole else float("inf"))
    if not folded:  # the definitions in columns of their own, two a column
        monkeypatch.setattr(_frames, "_FOLD_KEYS", 0)
        monkeypatch.setattr(_frames, "_KEYS_PER_COLUMN", 2)
    loaded = read(demo)
    got = as_rows(loaded)
    assert sorted(got) == sorted(lead.pk for lead in leads)  # not September's, not another organisation's
    assert got == reference(demo, [lead.pk for lead in leads])
    a, b, c, d, dup = leads
    assert early.pk not in chosen and stranger.pk not in got
    assert got[d.pk][4] == (1, NOT_CHECKED, 0)  # mql: met null reads as its fallback (mql's check)
    assert got[b.pk][3] == (True, False, True)  # phone missing; fax is not a contract field
    assert got[c.pk][2] is True and got[c.pk][3] == (
        True,
        True,
        True,
    )  # this version's check of the later handoff
    assert got[dup.pk][5] == a.pk and got[a.pk][6] and not got[b.pk][6]
    assert np.array_equal(loaded.leads.lead_id, np.sort(loaded.leads.lead_id))


def test_no_lead_chosen_reads_empty_frames(demo):
    loaded = read(demo)
    assert len(loaded.leads) == 0 and len(loaded.events) == 0 and loaded.definition_versions == {}
