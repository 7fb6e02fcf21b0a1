"""Pure company matching: are two customer records the same company, and why."""

from domain.matching.aliases import Aliases
from domain.matching.evidence import Evidence, Finding, Signal, Strength
from domain.matching.keys import CandidateKeys, candidate_keys, lookup_keys
from domain.matching.match import judge, match
from domain.matching.records import CompanyRef, MatchRules, analysed_name
from domain.matching.screen import Screen
from domain.matching.stored_forms import load_forms, name_forms

__all__ = [
    "Aliases",
    "CandidateKeys",
    "CompanyRef",
    "Evidence",
    "Finding",
    "MatchRules",
    "Screen",
    "Signal",
    "Strength",
    "analysed_name",
    "candidate_keys",
    "judge",
    "load_forms",
    "lookup_keys",
    "match",
    "name_forms",
]
