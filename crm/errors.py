"""Domain errors: raised by services, turned into form errors or flashes by views."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the operation; the message is safe to show to the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class InvalidTransition(DomainError):
    def __init__(self, old, new) -> None:
        from flask_babel import gettext as _

        super().__init__(
            _(
                "En förfrågan med status ”%(old)s” kan inte få status ”%(new)s”.",
                old=old.label,
                new=new.label,
            ),
            field="status",
        )
        self.old = old
        self.new = new


class NotPermitted(DomainError):
    pass


class StaleObject(DomainError):
    """Someone else saved the object after the user loaded it."""
