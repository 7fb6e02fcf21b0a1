"""Domain errors: each carries a stable code and a message that is safe to show a user."""

from __future__ import annotations


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
    """The actor may not do this."""

    code = "not_allowed"


class NotFound(DomainError):
    """The thing asked for does not exist."""

    code = "not_found"


class ConcurrentUpdate(DomainError):
    """Someone else changed the registration first; carries who, when known."""

    code = "concurrent_update"


class UnknownPartner(DomainError):
    """The actor's organisation is not linked to a partner."""

    code = "unknown_partner"


class InvalidInput(DomainError):
    """Input failed validation; `field` names the offending field when there is one."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DuplicateSubmission(DomainError):
    """The same form was submitted twice; the first one stands."""

    code = "duplicate_submission"
