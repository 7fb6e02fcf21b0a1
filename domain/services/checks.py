"""Checking a company on request: who already has a claim (for staff), and the pre-check a
form shows while it is filled in (for partners, only about their own registrations)."""

from __future__ import annotations

from domain.actor import Caller
from domain.checks import CompanyCheck, PrecheckResult
from domain.conflicts import ClaimKind, ConflictFinding
from domain.errors import InvalidInput, NotAllowed
from domain.matching import CompanyRef
from domain.partner import Partner
from domain.services._shared import screen
from domain.services.context import ServiceContext


class Checks:
    """Conflict checks on request, outside a submission."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def company(self, ref: CompanyRef, caller: Caller | None = None) -> CompanyCheck:
        """Who already has a claim on a company, with the evidence: staff only (`caller`),
        or the CLI's operator (None)."""
        if caller is not None and not caller.internal:
            raise NotAllowed(NotAllowed.STAFF_CHECK)
        if not any(part.strip() for part in (ref.name, ref.domain or "", ref.email or "")):
            raise InvalidInput("Name a company (and a website or e-mail, if you have one).")
        now, rules = self._ctx.clock(), self._ctx.rules()
        async with self._ctx.uow() as uow:
            findings = await screen(uow, ref, rules=rules, now=now)
            partner_ids = {
                f.claim.partner_id
                for f in findings
                if f.claim_kind is ClaimKind.registration and f.claim.partner_id is not None
            }
            partners = await uow.partners.get_many(partner_ids)
        return CompanyCheck(ref, tuple(findings), partners)

    async def precheck(
        self,
        ref: CompanyRef,
        caller: Caller,
        *,
        partner_id: int | None,
        exclude_registration_id: int | None = None,
    ) -> PrecheckResult:
        """A company as typed so far, checked by the same engine as submission for
        `partner_id` (the caller's own partner, or the one staff picked): that partner's
        own matching registrations are listed; whether another claim may overlap is told to
        staff, and to partners only when the privacy policy lets them see overlaps. The
        findings stay here. `exclude_registration_id`: the registration being answered."""
        if not ref.name.strip() and not (ref.domain or "").strip():
            raise InvalidInput("Name a company (and its website) to check it.")
        now, rules = self._ctx.clock(), self._ctx.rules()
        async with self._ctx.uow() as uow:
            findings = await screen(
                uow, ref, rules=rules, now=now, exclude_registration_id=exclude_registration_id
            )
            partner = await uow.partners.get(partner_id) if partner_id is not None else None
            own_ids = {f.claim.id for f in findings if _its_own(f, partner)}
            own = await uow.registrations.get_many(own_ids) if own_ids else {}
        others: bool | None = None
        if caller.internal or self._ctx.privacy.partners_see_overlaps:
            others = any(not _its_own(f, partner) for f in findings)
        newest_first = sorted(own.values(), key=lambda r: (r.created_at, r.id or 0), reverse=True)
        return PrecheckResult(
            checked=ref,
            partner=partner,
            own=tuple(newest_first),
            others_may_overlap=others,
            staff=caller.internal,
        )


def _its_own(finding: ConflictFinding, partner: Partner | None) -> bool:
    """Whether the finding is one of `partner`'s own registrations."""
    return (
        partner is not None
        and finding.claim_kind is ClaimKind.registration
        and finding.claim.partner_id == partner.id
    )
