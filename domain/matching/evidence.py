"""What a match found: findings (a signal, its strength, score and detail) and the evidence
they make together."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Strength(StrEnum):
    """How much a finding says: ``conflict`` is strong, ``possible`` asks for review."""

    conflict = "conflict"
    possible = "possible"
    support = "support"


class Signal(StrEnum):
    """What a finding is about, strongest kinds first."""

    same_domain = "same_domain"
    same_email_domain = "same_email_domain"
    name_equal = "name_equal"
    alias = "alias"
    regional_arm = "regional_arm"
    initialism = "initialism"
    fuzzy_name = "fuzzy_name"
    sibling_domain = "sibling_domain"
    country_agrees = "country_agrees"
    country_differs = "country_differs"
    domain_differs = "domain_differs"
    product_overlap = "product_overlap"


@dataclass(frozen=True, slots=True)
class Finding:
    """One signal, how strong it is, its score in 0..1 and what matched."""

    signal: Signal
    strength: Strength
    score: float = 1.0
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why two records look like the same customer; never empty of a conflict/possible."""

    findings: tuple[Finding, ...]

    @property
    def strength(self) -> Strength:
        """``conflict`` when any finding is strong, else ``possible``."""
        strong = any(f.strength is Strength.conflict for f in self.findings)
        return Strength.conflict if strong else Strength.possible

    @property
    def score(self) -> float:
        """The best score among the conflict/possible findings."""
        return max(f.score for f in self.findings if f.strength is not Strength.support)

    @property
    def signals(self) -> frozenset[Signal]:
        """The signals present."""
        return frozenset(f.signal for f in self.findings)

    def has(self, signal: Signal) -> bool:
        """True when the evidence includes ``signal``."""
        return signal in self.signals
