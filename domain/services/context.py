"""What every use case is bound to once, at start: storage, the clock, the policies and the
conflict rules of the moment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.conflicts import ConflictRules
from domain.policy import DeskPolicy, PrivacyPolicy, ProgramPolicy
from domain.ports import UnitOfWork

_DEFAULT_RULES = ConflictRules()


def _default_rules() -> ConflictRules:
    return _DEFAULT_RULES


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """The use cases' dependencies: `uow` makes a unit of work (one transaction), `clock`
    says what time it is (the domain never reads it itself), `rules` are the conflict rules
    in force now (the admins' aliases change them while the process runs)."""

    uow: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    desk: DeskPolicy
    program: ProgramPolicy
    privacy: PrivacyPolicy = field(default_factory=PrivacyPolicy)
    rules: Callable[[], ConflictRules] = _default_rules
