"""The use cases, shared by the Slack handlers and the CLI: Slack-free and SQL-free, bound
to their dependencies (a `ServiceContext`) once at start, called with a `Caller`.

Only this package reaches storage, through the `domain.ports` protocols; every other domain
module is pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.checks import CompanyCheck, PrecheckResult
from domain.conflicts import ConflictRules
from domain.ownership import Decision
from domain.services.aliases import CompanyAliases
from domain.services.checks import Checks
from domain.services.conflicts import AddWorkingNote, Conflicts, Resolve, Resolved
from domain.services.context import ServiceContext
from domain.services.crm import CrmImports, ImportOutcome, ImportProgress, RowReader, RowSource
from domain.services.decisions import Decide, Decisions
from domain.services.deliveries import Deliveries
from domain.services.partners import LinkPartner, Partners
from domain.services.receipts import Receipts
from domain.services.registrations import (
    Registrations,
    Resubmit,
    SubmitOutcome,
    SubmitRegistration,
)

__all__ = [
    "AddWorkingNote",
    "Checks",
    "CompanyAliases",
    "CompanyCheck",
    "Conflicts",
    "CrmImports",
    "Decide",
    "Decision",
    "Decisions",
    "Deliveries",
    "ImportOutcome",
    "ImportProgress",
    "LinkPartner",
    "Partners",
    "PrecheckResult",
    "Receipts",
    "Registrations",
    "Resolve",
    "Resolved",
    "Resubmit",
    "RowReader",
    "RowSource",
    "ServiceContext",
    "Services",
    "SubmitOutcome",
    "SubmitRegistration",
]


@dataclass(frozen=True, slots=True)
class Services:
    """Every use case, bound to one context (see `bind`)."""

    registrations: Registrations
    decisions: Decisions
    conflicts: Conflicts
    checks: Checks
    partners: Partners
    aliases: CompanyAliases
    receipts: Receipts
    crm: CrmImports
    deliveries: Deliveries

    @classmethod
    def bind(cls, ctx: ServiceContext, *, base_rules: ConflictRules | None = None) -> Services:
        """The use cases on `ctx`; `base_rules` are the rules before the admins' aliases."""
        base = base_rules or ctx.rules()
        return cls(
            registrations=Registrations(ctx),
            decisions=Decisions(ctx),
            conflicts=Conflicts(ctx),
            checks=Checks(ctx),
            partners=Partners(ctx),
            aliases=CompanyAliases(ctx, base),
            receipts=Receipts(ctx),
            crm=CrmImports(ctx, base),
            deliveries=Deliveries(ctx),
        )
