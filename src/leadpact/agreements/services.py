"""Writes for agreements: import, export, propose, sign, activate, new draft, update, diff.

Every write is atomic, validated (``full_clean``) and leaves an audit entry.  Business rules that say no
raise :class:`~leadpact.errors.ApplicationError` with a stable code.

Parties: a party key in the document is the key of a :class:`~leadpact.organization.models.Team` of the
same organisation.  Importing an agreement whose party has no team yet creates that team with the calendar
the document gives it; an existing team keeps its own (operational) calendar — the agreement's calendars
stay part of the signed document and are what commitments are measured with.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any, Literal, TypeAlias

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from leadpact.agreements.models import (
    Agreement,
    AgreementVersion,
    Commitment,
    DefinitionVersion,
    Signature,
)
from leadpact.agreements.selectors import version_effective_start, version_effective_until
from leadpact.audit.services import Actor, actor_user, audit_record
from leadpact.core.agreement import (
    AgreementDocument,
    AgreementInvalid,
    Change,
    agreement_content_hash,
    agreement_diff,
    agreement_dump_yaml,
    agreement_load_yaml,
    agreement_parse,
    agreement_to_data,
)
from leadpact.errors import ApplicationError
from leadpact.organization.models import Organization, Person, Team
from leadpact.organization.services import team_create

__all__ = [
    "agreement_export",
    "agreement_import",
    "agreement_invalid_error",
    "agreement_version_activate",
    "agreement_version_delete_draft",
    "agreement_version_new_draft",
    "agreement_version_propose",
    "agreement_version_sign",
    "agreement_version_sign_on_behalf",
    "agreement_version_update",
    "agreement_versions_activate_due",
    "agreement_versions_diff",
    "definition_version_get_or_create",
]

Status = AgreementVersion.Status


def _now(now: dt.datetime | None) -> dt.datetime:
    return timezone.now() if now is None else now


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def agreement_invalid_error(problems: list[tuple[str, str]], *, what: str = "agreement") -> ApplicationError:
    """The one error for an invalid document: ``extra["problems"]`` lists every problem with its path."""
    count = len(problems)
    first = f"{problems[0][0]}: {problems[0][1]}" if problems else ""
    message = f"{what} is invalid ({count} problem{'s' if count != 1 else ''}; first: {first})"
    return ApplicationError(
        "agreement.invalid",
        message,
        extra={"problems": [{"path": path, "message": text} for path, text in problems]},
    )


@contextlib.contextmanager
def _at(prefix: str) -> Iterator[None]:
    """Field errors of the rows written for one part of the document become problems at its path."""
    try:
        yield
    except ValidationError as error:
        problems = [
            (prefix if field == NON_FIELD_ERRORS else f"{prefix}.{field}", message)
            for field, messages in error.message_dict.items()
            for message in messages
        ]
        raise agreement_invalid_error(problems) from error


def _problems(error: AgreementInvalid) -> list[tuple[str, str]]:
    return [(str(problem.path), str(problem.message)) for problem in error.problems]


def _load(yaml_text: str) -> AgreementDocument:
    try:
        return agreement_load_yaml(yaml_text)
    except AgreementInvalid as error:
        raise agreement_invalid_error(_problems(error)) from error


def _version_snapshot(version: AgreementVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "content_hash": version.content_hash,
        "effective_from": version.effective_from.isoformat(),
        "effective_until": version.effective_until.isoformat() if version.effective_until else None,
    }


def _audit_version(
    version: AgreementVersion,
    action: str,
    *,
    actor: Actor,
    now: dt.datetime,
    before: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """One audit entry for a version: its snapshot after the change (plus ``extra``) against ``before``."""
    audit_record(
        actor=actor,
        action=action,
        obj=version,
        at=now,
        before=before,
        after={**_version_snapshot(version), **(extra or {})},
        organization=version.agreement.organization,
        agreement=version.agreement,
    )


def _definition_hash(key: str, term: str, text: str, rule: str) -> str:
    content = json.dumps(
        {"key": key, "term": term, "text": text, "rule": rule},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(content.encode()).hexdigest()


@transaction.atomic
def definition_version_get_or_create(
    *,
    organization: Organization,
    key: str,
    term: str,
    text: str,
    rule: str = "",
    actor: Actor,
    now: dt.datetime | None = None,
) -> DefinitionVersion:
    """The row for this exact content of definition ``key``: reused if it exists, else the next number.

    A rule that does not parse or names an unknown field is a ValidationError on ``rule`` with its position.
    """
    content_hash = _definition_hash(key, term, text, rule)
    existing = DefinitionVersion.objects.filter(
        organization=organization, key=key, content_hash=content_hash
    ).first()
    if existing is not None:
        return existing
    last = DefinitionVersion.objects.filter(organization=organization, key=key).aggregate(n=Max("number"))[
        "n"
    ]
    definition = DefinitionVersion(
        organization=organization,
        key=key,
        number=(last or 0) + 1,
        term=term,
        text=text,
        rule=rule,
        content_hash=content_hash,
    )
    definition.full_clean()
    definition.save()
    audit_record(
        actor=actor,
        action="definition.create",
        obj=definition,
        at=_now(now),
        after={"key": key, "number": definition.number, "term": term, "rule": rule, "hash": content_hash},
        organization=organization,
    )
    return definition


def _party_team(
    *, organization: Organization, party: dict[str, Any], data: dict[str, Any], actor: Actor, now: dt.datetime
) -> Team:
    team = Team.objects.filter(organization=organization, key=party["key"]).first()
    if team is not None:
        return team
    kind = party["key"] if party["key"] in Team.Kind.values else Team.Kind.OTHER
    calendar = data.get("calendars", {}).get(party.get("calendar"), {})
    return team_create(
        organization=organization,
        key=party["key"],
        name=party.get("name") or party["key"],
        kind=kind,
        calendar=calendar,
        actor=actor,
        now=now,
    )


def _fill_rows(*, version: AgreementVersion, data: dict[str, Any], actor: Actor, now: dt.datetime) -> None:
    """Parties, definitions and commitments of a draft, as rows (replacing what was there)."""
    organization = version.agreement.organization
    teams: dict[str, Team] = {}
    for index, party in enumerate(data.get("parties", [])):
        with _at(f"parties[{index}]"):
            teams[party["key"]] = _party_team(
                organization=organization, party=party, data=data, actor=actor, now=now
            )
    version.parties.set(list(teams.values()))
    definitions: dict[str, DefinitionVersion] = {}
    for index, item in enumerate(data.get("definitions", [])):
        with _at(f"definitions[{index}]"):
            definitions[item["key"]] = definition_version_get_or_create(
                organization=organization,
                key=item["key"],
                term=item.get("term", ""),
                text=item.get("text", ""),
                rule=item.get("rule") or "",
                actor=actor,
                now=now,
            )
    version.definitions.set(list(definitions.values()))
    version.commitments.all().delete()
    for index, item in enumerate(data.get("commitments", [])):
        commitment = Commitment(
            version=version,
            key=item["key"],
            title=item.get("title", ""),
            kind=item["kind"],
            owner=teams[item["owner"]],
            beneficiary=teams.get(item.get("beneficiary") or ""),
            covers=definitions.get(item.get("covers") or ""),
            spec=item,
        )
        with _at(f"commitments[{index}]"):
            commitment.full_clean()
        commitment.save()


def _version_fields(doc: AgreementDocument) -> tuple[dict[str, Any], str]:
    data = _jsonable(agreement_to_data(doc, style="json"))
    return data, agreement_content_hash(doc)


def _dates(data: dict[str, Any]) -> tuple[dt.date, dt.date | None]:
    head = data["agreement"]
    until = head.get("effective_until")
    return dt.date.fromisoformat(head["effective_from"]), (dt.date.fromisoformat(until) if until else None)


def _create_version(
    *,
    agreement: Agreement,
    data: dict[str, Any],
    content_hash: str,
    actor: Actor,
    now: dt.datetime,
) -> AgreementVersion:
    last = agreement.versions.aggregate(n=Max("number"))["n"] or 0
    effective_from, effective_until = _dates(data)
    version = AgreementVersion(
        agreement=agreement,
        number=last + 1,
        status=Status.DRAFT,
        effective_from=effective_from,
        effective_until=effective_until,
        document=data,
        content_hash=content_hash,
        created_by=actor_user(actor),
        created_at=now,
    )
    with _at("agreement"):
        version.full_clean()
    version.save()
    _fill_rows(version=version, data=data, actor=actor, now=now)
    return version


def _locked(version: AgreementVersion) -> AgreementVersion:
    Agreement.objects.select_for_update().filter(pk=version.agreement_id).first()
    return (
        AgreementVersion.objects.select_for_update()
        .select_related("agreement__organization")
        .get(pk=version.pk)
    )


def _locked_draft(version: AgreementVersion, *, refusal: str) -> AgreementVersion:
    """The version locked for change, refused with ``refusal`` (what only a draft allows) unless a draft."""
    version = _locked(version)
    if version.status != Status.DRAFT:
        raise ApplicationError(
            "version.not_draft",
            f"agreement {version.agreement.key} version {version.number} is {version.status}; {refusal}",
        )
    return version


@transaction.atomic
def agreement_import(
    *, organization: Organization, yaml_text: str, actor: Actor, now: dt.datetime | None = None
) -> AgreementVersion:
    """Import an agreement document as a new draft version; nothing is written if it has any problem.

    Importing the same content as the agreement's latest version again (for instance its own export)
    returns that version and writes nothing.  The error for an invalid document carries every problem
    with its path in ``extra["problems"]``.
    """
    now = _now(now)
    doc = _load(yaml_text)
    data, content_hash = _version_fields(doc)
    head = data["agreement"]
    agreement = (
        Agreement.objects.select_for_update().filter(organization=organization, key=head["key"]).first()
    )
    if agreement is None:
        agreement = Agreement(organization=organization, key=head["key"], title=head["title"])
        with _at("agreement"):
            agreement.full_clean()
        agreement.save()
        audit_record(
            actor=actor,
            action="agreement.create",
            obj=agreement,
            at=now,
            after={"key": agreement.key, "title": agreement.title},
            organization=organization,
            agreement=agreement,
        )
    latest = agreement.versions.order_by("-number").first()
    if latest is not None and latest.content_hash == content_hash:
        return latest
    version = _create_version(agreement=agreement, data=data, content_hash=content_hash, actor=actor, now=now)
    audit_record(
        actor=actor,
        action="agreement.import",
        obj=version,
        at=now,
        after=_version_snapshot(version),
        organization=organization,
        agreement=agreement,
    )
    return version


def agreement_export(*, version: AgreementVersion) -> str:
    """The version as YAML, in the canonical form (export → import → export is byte-identical)."""
    return agreement_dump_yaml(agreement_parse(version.document))


def agreement_version_document(version: AgreementVersion) -> AgreementDocument:
    """The version's document as the core value."""
    return agreement_parse(version.document)


@transaction.atomic
def agreement_version_propose(
    *, version: AgreementVersion, actor: Actor, now: dt.datetime | None = None
) -> AgreementVersion:
    """Put a draft forward for signature by every party's lead."""
    now = _now(now)
    version = _locked_draft(version, refusal="only a draft can be proposed")
    before = _version_snapshot(version)
    version.status = Status.PROPOSED
    version.proposed_at = now
    version.full_clean()
    version.save()
    _audit_version(version, "version.propose", actor=actor, now=now, before=before)
    return version


SignedHow: TypeAlias = Literal["in person", "recorded by an operator"]


@transaction.atomic
def agreement_version_sign(
    *,
    version: AgreementVersion,
    signer: Person,
    actor: User,
    content_hash: str,
    now: dt.datetime | None = None,
) -> Signature:
    """``signer``, the lead of a party, signs the exact content ``content_hash`` of a proposed version.

    ``actor`` is who is signed in; it must be the signer's own user: in the browser nobody signs for
    someone else.  When every party has signed, the version is ``signed`` and never changes again.
    """
    signer = Person.objects.select_related("team", "user").get(pk=signer.pk)
    if signer.user is not None and actor.pk != signer.user.pk:
        raise ApplicationError(
            "signature.not_self",
            f"only {signer.name} can sign for {signer.team.key}, not {actor.get_username()}",
        )
    return _sign(
        version=version, signer=signer, actor=actor, how="in person", content_hash=content_hash, now=now
    )


@transaction.atomic
def agreement_version_sign_on_behalf(
    *,
    version: AgreementVersion,
    signer: Person,
    operator: User,
    content_hash: str,
    now: dt.datetime | None = None,
) -> Signature:
    """``operator`` records the signature ``signer`` gave outside leadpact (on paper, by e-mail).

    The command line's way to sign.  The operator is an active staff user (of the agreement's
    organisation, when linked to a person); the audit entry names the operator as the actor and says on
    whose behalf the signature was recorded, with the content hash.  The signer must still be the
    party's lead with a login of their own, as when signing in person.
    """
    signer = Person.objects.select_related("team", "user").get(pk=signer.pk)
    name = operator.get_username()
    if not (operator.is_active and operator.is_staff):
        raise ApplicationError(
            "signature.not_operator",
            f"{name} is not an active staff user; only an operator records a signature on someone's behalf",
        )
    operator_person = Person.objects.filter(user=operator).select_related("team").first()
    organization = version.agreement.organization
    if (
        operator_person is not None
        and operator_person.team.organization_id != organization.pk
        and not operator.is_superuser
    ):
        raise ApplicationError(
            "signature.not_operator", f"{name} works for another organisation than {organization.key}"
        )
    return _sign(
        version=version,
        signer=signer,
        actor=operator,
        how="recorded by an operator",
        content_hash=content_hash,
        now=now,
    )


def _sign(
    *,
    version: AgreementVersion,
    signer: Person,
    actor: User,
    how: SignedHow,
    content_hash: str,
    now: dt.datetime | None,
) -> Signature:
    now = _now(now)
    version = _locked(version)
    where = f"agreement {version.agreement.key} version {version.number}"
    if version.status != Status.PROPOSED:
        raise ApplicationError(
            "version.not_proposed", f"{where} is {version.status}; only a proposed version can be signed"
        )
    if content_hash != version.content_hash:
        raise ApplicationError(
            "signature.stale",
            f"{where} has content {version.content_hash[:12]}, not the {content_hash[:12]} that was read; "
            "read the current version and sign again",
            extra={"expected": version.content_hash, "given": content_hash},
        )
    if not version.parties.filter(pk=signer.team_id).exists():
        raise ApplicationError(
            "signature.not_a_party", f"{signer.name}'s team {signer.team.key} is not a party to {where}"
        )
    if not signer.is_lead:
        raise ApplicationError(
            "signature.not_lead",
            f"{signer.name} is not the lead of {signer.team.key}; only a party's lead can sign",
        )
    if signer.user is None:
        raise ApplicationError(
            "signature.no_user", f"{signer.name} has no login; link a user to the person before signing"
        )
    today = timezone.localdate(now, timezone=version_effective_start(version).tzinfo)
    if signer.start_date > today or (signer.end_date is not None and signer.end_date <= today):
        raise ApplicationError(
            "signature.not_in_team", f"{signer.name} is not in {signer.team.key} on {today}"
        )
    if version.signatures.filter(party=signer.team).exists():
        raise ApplicationError("signature.duplicate", f"{signer.team.key} has already signed {where}")
    signature = Signature(
        version=version, party=signer.team, signed_by=signer, signed_at=now, content_hash=content_hash
    )
    signature.full_clean()
    signature.save()
    before = _version_snapshot(version)
    signed_parties = version.signatures.filter(content_hash=version.content_hash).values("party")
    if not version.parties.exclude(pk__in=signed_parties).exists():
        version.status = Status.SIGNED
        version.signed_at = now
        version.full_clean()
        version.save()
    extra: dict[str, Any] = {
        "party": signer.team.key,
        "signed_by": signer.email,
        "signed_hash": content_hash,
        "signed": how,
    }
    if how == "recorded by an operator":
        extra |= {"recorded_by": actor.get_username(), "on_behalf_of": signer.email}
    _audit_version(version, "version.sign", actor=actor, now=now, before=before, extra=extra)
    return signature


@transaction.atomic
def agreement_version_activate(
    *, version: AgreementVersion, now: dt.datetime | None = None, actor: Actor = "system"
) -> AgreementVersion:
    """Bring a signed version into force; the version in force before it is superseded.

    In force from = the later of its effective date (midnight in the organisation's time zone) and the
    moment the last party signed; the previous version is superseded at that same instant.  A version
    cannot be activated before its effective date.
    """
    now = _now(now)
    version = _locked(version)
    where = f"agreement {version.agreement.key} version {version.number}"
    if version.status != Status.SIGNED:
        raise ApplicationError(
            "version.not_signed", f"{where} is {version.status}; only a signed version can be activated"
        )
    assert version.signed_at is not None
    start = max(version_effective_start(version), version.signed_at)
    if now < start:
        raise ApplicationError(
            "version.not_yet_effective", f"{where} comes into force on {start.isoformat()}; activate it then"
        )
    until = version_effective_until(version)
    if until is not None and start >= until:
        raise ApplicationError(
            "version.expired", f"{where} ended on {version.effective_until} before it started"
        )
    current = (
        AgreementVersion.objects.select_for_update()
        .filter(agreement=version.agreement, status=Status.ACTIVE)
        .first()
    )
    organization = version.agreement.organization
    if current is not None:
        if current.number > version.number or (current.activated_at and current.activated_at >= start):
            raise ApplicationError(
                "version.older_than_active",
                f"{where} would come into force before version {current.number}, which is active; "
                "make a new version instead",
            )
        before = _version_snapshot(current)
        current.status = Status.SUPERSEDED
        current.superseded_at = start
        current.full_clean()
        current.save()
        audit_record(
            actor=actor,
            action="version.supersede",
            obj=current,
            at=now,
            before=before,
            after={**_version_snapshot(current), "superseded_at": start, "by": version.number},
            organization=organization,
            agreement=version.agreement,
        )
    before = _version_snapshot(version)
    version.status = Status.ACTIVE
    version.activated_at = start
    version.full_clean()
    version.save()
    agreement = version.agreement
    title = version.document["agreement"]["title"]
    if agreement.title != title:
        agreement.title = title
        agreement.full_clean()
        agreement.save(update_fields=["title"])
    _audit_version(
        version, "version.activate", actor=actor, now=now, before=before, extra={"activated_at": start}
    )
    return version


def agreement_versions_activate_due(
    *, now: dt.datetime | None = None, actor: Actor = "system"
) -> list[AgreementVersion]:
    """Activate every signed version whose effective date has come (run by a scheduler or the CLI)."""
    now = _now(now)
    activated = []
    for version in AgreementVersion.objects.filter(status=Status.SIGNED).order_by("agreement_id", "number"):
        assert version.signed_at is not None
        if max(version_effective_start(version), version.signed_at) <= now:
            try:
                activated.append(agreement_version_activate(version=version, now=now, actor=actor))
            except ApplicationError:
                continue  # an older signed version than the active one, or already ended
    return activated


@transaction.atomic
def agreement_version_new_draft(
    *, from_version: AgreementVersion, actor: Actor, now: dt.datetime | None = None
) -> AgreementVersion:
    """A new draft with the content of ``from_version``, to edit into the next version."""
    now = _now(now)
    source = _locked(from_version)
    version = _create_version(
        agreement=source.agreement,
        data=source.document,
        content_hash=source.content_hash,
        actor=actor,
        now=now,
    )
    _audit_version(version, "version.new_draft", actor=actor, now=now, extra={"from": source.number})
    return version


@transaction.atomic
def agreement_version_update(
    *,
    version: AgreementVersion,
    document: AgreementDocument | str,
    actor: Actor,
    now: dt.datetime | None = None,
    expected_revision: int | None = None,
) -> AgreementVersion:
    """Replace the content of a draft (a document value or YAML text); other statuses refuse.

    ``expected_revision`` is the draft's ``revision`` when the editor opened it: if someone saved the
    draft since, the save is refused (``version.stale``, 409) instead of overwriting their change —
    optimistic locking, checked under the row lock.  Each save moves ``revision`` on by one.
    """
    now = _now(now)
    doc = _load(document) if isinstance(document, str) else document
    version = _locked_draft(version, refusal="make a new draft to change it")
    where = f"agreement {version.agreement.key} version {version.number}"
    if expected_revision is not None and expected_revision != version.revision:
        raise ApplicationError(
            "version.stale",
            f"{where} was saved by someone else since you opened it (revision {expected_revision}, now"
            f" {version.revision}); reload it to see their change, then make yours again",
            extra={"status": 409, "revision": version.revision},
        )
    data, content_hash = _version_fields(doc)
    if data["agreement"]["key"] != version.agreement.key:
        raise agreement_invalid_error(
            [("agreement.key", f"must stay {version.agreement.key!r} (a new key is a new agreement)")]
        )
    before = _version_snapshot(version)
    version.document = data
    version.content_hash = content_hash
    version.revision += 1
    version.effective_from, version.effective_until = _dates(data)
    with _at("agreement"):
        version.full_clean()
    version.save()
    _fill_rows(version=version, data=data, actor=actor, now=now)
    _audit_version(version, "version.update", actor=actor, now=now, before=before)
    return version


@transaction.atomic
def agreement_version_delete_draft(
    *, version: AgreementVersion, actor: Actor, now: dt.datetime | None = None
) -> None:
    """Throw a draft away (its commitments go with it); any other status refuses."""
    now = _now(now)
    version = _locked_draft(version, refusal="only a draft can be deleted")
    audit_record(
        actor=actor,
        action="version.delete",
        obj=version,
        at=now,
        before=_version_snapshot(version),
        organization=version.agreement.organization,
        agreement=version.agreement,
    )
    version.delete()


def agreement_versions_diff(*, old: AgreementVersion, new: AgreementVersion) -> list[Change]:
    """What changed from ``old`` to ``new``, clause by clause (``Change.describe(lang)`` reads it)."""
    return agreement_diff(agreement_parse(old.document), agreement_parse(new.document))
