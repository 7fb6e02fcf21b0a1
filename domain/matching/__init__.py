"""Pure company matching: are two customer records the same company, and why."""

from domain.matching.aliases import Aliases
from domain.matching.keys import CandidateKeys, candidate_keys, lookup_keys
from domain.matching.match import (
    CompanyRef,
    Evidence,
    Finding,
    MatchRules,
    Signal,
    Strength,
    match,
)

__all__ = [
    "Aliases",
    "CandidateKeys",
    "CompanyRef",
    "Evidence",
    "Finding",
    "MatchRules",
    "Signal",
    "Strength",
    "candidate_keys",
    "lookup_keys",
    "match",
]
