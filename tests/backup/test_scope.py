"""Every table of every leadpact app is in a backup (or left out with its reason), in foreign-key order."""

from __future__ import annotations

from django.apps import apps

from leadpact.backup.scope import LEFT_OUT, backup_parts


def test_every_table_is_backed_up_or_left_out_with_a_reason():
    labels = {part.label for part in backup_parts()}
    for config in apps.get_app_configs():
        if config.name.startswith("leadpact."):
            for model in config.get_models(include_auto_created=True):
                label = model._meta.label_lower
                assert (label in labels) != (label in LEFT_OUT), label
    assert "auth.user" in labels
    assert "agreements.agreementversion_parties" in labels and "reviews.reviewseries_attendees" in labels


def test_a_table_comes_after_the_tables_it_points_to_and_the_audit_chain_last():
    order = [part.label for part in backup_parts()]
    for index, part in enumerate(backup_parts()):
        for field in part.model._meta.concrete_fields:
            target = field.related_model
            if field.is_relation and target is not part.model and target._meta.label_lower in order:
                assert order.index(target._meta.label_lower) < index, (part.label, field.name)
    assert order[-2:] == ["audit.auditentry", "audit.auditcheckpoint"]
    assert order[0] == "auth.user"
