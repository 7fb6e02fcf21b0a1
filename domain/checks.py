"""What a conflict check on request found, as the desk and the form show it (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.conflicts import ConflictFinding, FindingCounts, count_findings
from domain.matching import CompanyRef
from domain.partner import Partner
from domain.registration import Registration


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


@dataclass(frozen=True, slots=True)
class PrecheckResult:
    """The pre-check shown while the form is filled in: what was checked (the caller's own
    input), the partner's own registrations of that customer (active, newest first), and,
    only for those allowed to know (`others_may_overlap` None otherwise), whether any other
    claim may overlap. It never holds another party's findings. `staff`: internal staff
    look at it (the partner is named, not "you")."""

    checked: CompanyRef
    partner: Partner | None = None
    own: tuple[Registration, ...] = ()
    others_may_overlap: bool | None = None
    staff: bool = False
