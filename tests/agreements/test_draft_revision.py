"""Two party leads editing the same draft: the second save, based on what was there before the first,
is refused with a clear message instead of silently overwriting it (optimistic locking)."""

from __future__ import annotations

import pytest

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.services import agreement_version_update
from leadpact.errors import ApplicationError
from tests.agreements.conftest import SMALL
from tests.agreements.test_services import changed


def test_a_save_based_on_an_older_revision_is_refused_and_nothing_is_lost(draft):
    opened = draft.revision  # both leads open the draft
    assert opened == 1
    mine = agreement_version_update(
        version=draft,
        document=changed(SMALL, "value: 200", "value: 210"),
        actor="mia",
        expected_revision=opened,
    )
    assert mine.revision == 2
    with pytest.raises(ApplicationError) as caught:
        agreement_version_update(
            version=draft,
            document=changed(SMALL, "value: 200", "value: 190"),
            actor="sid",
            expected_revision=opened,
        )
    error = caught.value
    assert error.code == "version.stale" and error.extra["status"] == 409 and error.extra["revision"] == 2
    assert "saved by someone else since you opened it" in error.message and "reload" in error.message
    kept = AgreementVersion.objects.get(pk=draft.pk)
    assert kept.revision == 2 and kept.content_hash == mine.content_hash  # the first save stands
    again = agreement_version_update(
        version=draft, document=changed(SMALL, "value: 200", "value: 190"), actor="sid", expected_revision=2
    )
    assert again.revision == 3
