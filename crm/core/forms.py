"""Form helpers shared by every feature."""

from __future__ import annotations

from wtforms.fields.choices import SelectChoice

from crm.errors import DomainError


def options(pairs) -> list[SelectChoice]:
    """Select choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def show_domain_error(form, error: DomainError) -> None:
    """Put a rule's refusal beside the field it names, or above the form when it names none."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
