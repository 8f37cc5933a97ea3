"""Moving a version along its life cycle in one call, for tests."""

from __future__ import annotations

import datetime as dt

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.services import (
    agreement_version_activate,
    agreement_version_propose,
    agreement_version_sign,
)
from leadpact.organization.models import Person


def sign_all(version: AgreementVersion, leads: tuple[Person, ...], now: dt.datetime) -> AgreementVersion:
    version = agreement_version_propose(version=version, actor="test", now=now)
    for lead in leads:
        agreement_version_sign(
            version=version, signer=lead, actor=lead.user, content_hash=version.content_hash, now=now
        )
    version.refresh_from_db()
    return version


def activate(
    version: AgreementVersion,
    leads: tuple[Person, ...],
    now: dt.datetime,
    *,
    sign_at: dt.datetime | None = None,
) -> AgreementVersion:
    signed = sign_all(version, leads, now if sign_at is None else sign_at)
    return agreement_version_activate(version=signed, now=now, actor="test")
