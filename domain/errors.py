"""Domain errors: each carries a stable code and a message that is safe to show a user."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # errors name the registration they are about; no import cycle at run time
    from domain.actor import Actor
    from domain.registration import Registration


class DomainError(Exception):
    """Base of every error the business rules raise on purpose."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransition(DomainError):
    """The registration is not in a state that allows this move."""

    code = "invalid_transition"


class NotAllowed(DomainError):
    """The actor may not do this. The refusals below are every one the business makes."""

    code = "not_allowed"

    APPROVERS_DECIDE = "Only the deal desk's approvers can decide registrations."
    APPROVERS_SETTLE = "Only the deal desk's approvers can settle conflicts."
    ADMINS_LINK = "Only Dibs admins can link a partner channel."
    STAFF_CLAIM = "Only the vendor's own team can claim a customer."
    STAFF_CHECK = "Only the vendor's own team can check who has a claim on a company."
    STAFF_REGISTER_FOR = "Only the vendor's team can register for another partner."
    PARTNER_OR_DESK = "Only the partner or the deal desk can do that."
    OWN_PARTNER = "Only the partner that registered this deal can do that."
    DESK_NOT_A_PARTNER = (
        "That is the deal-desk channel ([desk] channel): it stays internal and is never linked "
        "to a partner. Link the partner's own shared channel."
    )


class NotFound(DomainError):
    """The thing asked for does not exist."""

    code = "not_found"


class ConcurrentUpdate(DomainError):
    """Someone else changed the registration first; carries who, when known."""

    code = "concurrent_update"


class UnknownPartner(DomainError):
    """The actor's organisation (or, for staff, the channel) is not linked to a partner."""

    code = "unknown_partner"

    NOT_LINKED = (
        "Your organisation is not linked to Dibs yet. Ask your channel manager to run "
        "`/dibs setup` in this channel."
    )
    CHANNEL_NOT_LINKED = "This channel is not linked to a partner. Run `/dibs setup`."


class InvalidInput(DomainError):
    """Input failed validation; `field` names the offending field when there is one."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DuplicateSubmission(DomainError):
    """The same form was submitted twice; the first one stands."""

    code = "duplicate_submission"


class AlreadyDecided(ConcurrentUpdate):
    """Another decision moved the registration first (a click, a resolution, an answer):
    where it stands now and, when the audit trail says, `by` whom. Nothing of the loser's was
    applied. The message names nobody (partners read it too)."""

    def __init__(self, registration: Registration, *, by: Actor | None = None) -> None:
        super().__init__(
            f"{registration.reference} is already {registration.status.label.lower()}."
        )
        self.registration = registration
        self.by = by


class ConflictToResolve(DomainError):
    """Approve was asked for a registration whose check found a claim that still holds: the
    desk resolves the conflict (who owns the customer) instead of approving it unseen."""

    code = "conflict_to_resolve"

    def __init__(self, registration: Registration) -> None:
        super().__init__(
            f"{registration.reference} overlaps an existing claim on this customer: settle the"
            " conflict in the thread under its review card, which asks who owns the customer."
        )
        self.registration = registration
