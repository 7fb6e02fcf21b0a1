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
from domain.policy import PrivacyPolicy
from domain.ports import UnitOfWork
from domain.registration import Registration


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
    """The pre-check shown while the form is filled in: what was checked (the caller's own
    input), the partner's own registrations of that customer, and, only for those allowed
    to know, whether any other claim may overlap.

    It never holds another party's findings: nobody is named, no reference, amount or owner
    can leak from it, and for a partner by default not even that another claim exists.
    `own`: the active registrations of `partner` that the conflict engine matches, newest
    first (empty when no partner is known). `others_may_overlap`: None when the viewer may
    not learn it. `staff`: internal staff look at it (the partner is named, not "you").
    """

    checked: CompanyRef
    partner: Partner | None = None
    own: tuple[Registration, ...] = ()
    others_may_overlap: bool | None = None
    staff: bool = False


async def precheck(
    ref: CompanyRef,
    *,
    uow: UnitOfWork,
    rules: ConflictRules,
    now: datetime,
    partner_id: int | None,
    staff: bool,
    privacy: PrivacyPolicy,
    exclude_registration_id: int | None = None,
) -> PrecheckResult:
    """A company as typed so far, checked by the same engine as submission (conflicts and
    possible conflicts alike) for `partner_id` (the acting partner, or the one staff picked).

    The partner's own matching registrations are listed; whether another claim may overlap
    is told to internal `staff`, and to partners only when `privacy` lets them see overlaps.
    The findings stay here. `exclude_registration_id`: the registration being answered."""
    if not ref.name.strip() and not (ref.domain or "").strip():
        raise InvalidInput("Name a company (and its website) to check it.")
    async with uow:
        findings = await screen(
            ref, uow=uow, rules=rules, now=now, exclude_registration_id=exclude_registration_id
        )
        partner = await uow.partners.get(partner_id) if partner_id is not None else None
        own_ids = {f.claim.id for f in findings if _holds(f, partner)}
        own = await uow.registrations.get_many(own_ids) if own_ids else {}
    others: bool | None = None
    if staff or privacy.partners_see_overlaps:
        others = any(not _holds(f, partner) for f in findings)
    newest_first = sorted(own.values(), key=lambda r: (r.created_at, r.id or 0), reverse=True)
    return PrecheckResult(
        checked=ref,
        partner=partner,
        own=tuple(newest_first),
        others_may_overlap=others,
        staff=staff,
    )


def _holds(finding: ConflictFinding, partner: Partner | None) -> bool:
    """Whether the finding is one of `partner`'s own registrations."""
    return (
        partner is not None
        and finding.claim_kind is ClaimKind.registration
        and finding.claim.partner_id == partner.id
    )
