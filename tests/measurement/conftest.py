"""The demo organisation, loaded through the same services as ``leadpact start``."""

from __future__ import annotations

import pytest

from leadpact.agreements.models import AgreementVersion
from leadpact.web.demo import demo_load


@pytest.fixture
def demo(db):
    demo_load(with_leads=False)
    return AgreementVersion.objects.select_related("agreement__organization").get(status="active")
