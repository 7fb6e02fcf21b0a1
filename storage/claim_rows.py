"""Claims as storage reads them: a registration, account or opportunity row as the domain's
`Claim` (with the name analysis the row stored, when the caller read it)."""

from __future__ import annotations

from typing import Any

from domain.conflicts import Claim, ClaimKind
from domain.matching import CompanyRef, load_forms
from domain.matching.names import CompanyName
from domain.registration import RegistrationStatus


def _analysed(name: str, row: Any, prefix: int | None) -> CompanyName | None:
    """The row's stored analysis of `name` (`prefix`: the rules' block prefix; None: the
    caller did not select ``name_forms``)."""
    if prefix is None or row.name_forms is None:
        return None
    return load_forms(name, row.name_forms, prefix)


def registration_claim(row: Any, prefix: int | None = None) -> Claim:
    """Mirrors `domain.conflicts.company_ref`, from the columns it reads (with `prefix`,
    the stored name forms too: see `_analysed`)."""
    company = CompanyRef(
        name=row.company,
        domain=row.website or None,
        email=row.contact_email or None,
        country=row.country or None,
        products=frozenset(row.products or ()),
        analysed=_analysed(row.company, row, prefix),
    )
    return Claim(
        kind=ClaimKind.registration,
        id=row.id,
        company=company,
        partner_id=row.partner_id,
        status=RegistrationStatus(row.status),
        created_at=row.created_at,
        protected_until=row.protected_until,
        reference=row.reference,
    )


def account_claim(row: Any, prefix: int | None = None) -> Claim:
    analysed = _analysed(row.name, row, prefix)
    return Claim(
        kind=ClaimKind.account,
        id=row.id,
        company=CompanyRef(
            name=row.name, domain=row.domain, country=row.country, analysed=analysed
        ),
        external_id=row.external_id,
        is_customer=row.is_customer,
        is_named=row.is_named,
        owner_slack_id=row.owner_slack_id,
        owner_email=row.owner_email,
    )


def opportunity_claim(row: Any, prefix: int | None = None) -> Claim:
    analysed = _analysed(row.name, row, prefix)
    return Claim(
        kind=ClaimKind.opportunity,
        id=row.id,
        company=CompanyRef(name=row.name, domain=row.domain, analysed=analysed),
        external_id=row.external_id,
        account_external_id=row.account_external_id,
        owner_slack_id=row.owner_slack_id,
        owner_email=row.owner_email,
        stage=row.stage,
        created_at=row.created_at,
        last_activity_at=row.last_activity_at,
    )
