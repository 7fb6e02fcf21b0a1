"""Conflict-check use cases: screen a registration as it is stored, check a company on request.

Storage narrows the candidates by indexed keys; `domain.conflicts.find_conflicts` judges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.conflicts import (
    ACTIVE_STATUSES,
    ClaimKind,
    ConflictFinding,
    ConflictRules,
    FindingCounts,
    count_findings,
    find_conflicts,
)
from domain.errors import InvalidInput
from domain.matching import CompanyRef
from domain.partner import Partner
from domain.ports import UnitOfWork


async def screen(
    ref: CompanyRef,
    *,
    uow: UnitOfWork,
    rules: ConflictRules,
    now: datetime,
    exclude_registration_id: int | None = None,
) -> list[ConflictFinding]:
    """The claims on `ref`, strongest first, read inside the caller's open unit of work."""
    claims = await uow.conflicts.claims_for_keys(
        rules.lookup_keys(ref),
        exclude_registration_id=exclude_registration_id,
        active_statuses=ACTIVE_STATUSES,
        now=now,
        screen=rules.screen_for(ref),
    )
    return find_conflicts(
        ref,
        claims,
        rules,
        now=now,
        exclude_registration_id=exclude_registration_id,
        screened=True,
    )


@dataclass(frozen=True, slots=True)
class CompanyCheck:
    """What `dibs check` / `/dibs check` found: the findings and the partners they name."""

    company: CompanyRef
    findings: tuple[ConflictFinding, ...]
    partners: dict[int, Partner]

    @property
    def counts(self) -> FindingCounts:
        return count_findings(self.findings)

    def partner_of(self, finding: ConflictFinding) -> Partner | None:
        """The partner holding a registration claim (None for direct claims)."""
        partner_id = finding.claim.partner_id
        return None if partner_id is None else self.partners.get(partner_id)


async def check_company(
    ref: CompanyRef, *, uow: UnitOfWork, rules: ConflictRules, now: datetime
) -> CompanyCheck:
    """Who already has a claim on a company, with the evidence (internal users only)."""
    if not ref.name.strip() and not (ref.domain or "").strip() and not (ref.email or "").strip():
        raise InvalidInput("Name a company (and a website or e-mail, if you have one).")
    async with uow:
        findings = await screen(ref, uow=uow, rules=rules, now=now)
        partner_ids = {
            f.claim.partner_id
            for f in findings
            if f.claim_kind is ClaimKind.registration and f.claim.partner_id is not None
        }
        partners = await uow.partners.get_many(partner_ids)
    return CompanyCheck(ref, tuple(findings), partners)


@dataclass(frozen=True, slots=True)
class PrecheckResult:
    """The neutral pre-check a partner sees while filling the form: one yes/no-ish answer.

    It holds what was checked (the caller's own input) and whether anything may overlap,
    never the findings: nobody is named, no reference, amount or owner can leak from it.
    """

    checked: CompanyRef
    may_overlap: bool


async def precheck(
    ref: CompanyRef,
    *,
    uow: UnitOfWork,
    rules: ConflictRules,
    now: datetime,
    exclude_registration_id: int | None = None,
) -> PrecheckResult:
    """Whether a company as typed so far may overlap an existing claim, by the same engine
    as submission (conflicts and possible conflicts alike); the findings stay here."""
    if not ref.name.strip() and not (ref.domain or "").strip():
        raise InvalidInput("Name a company (and its website) to check it.")
    async with uow:
        findings = await screen(
            ref, uow=uow, rules=rules, now=now, exclude_registration_id=exclude_registration_id
        )
    return PrecheckResult(checked=ref, may_overlap=bool(findings))
