from __future__ import annotations

from typing import Any

from crm.activity.models import TimelineEvent
from crm.extensions import db


def record_event(
    kind: str, actor, *, inquiry=None, organisation=None, **data: Any
) -> TimelineEvent:
    """Put one event on the timeline of an inquiry and/or an organisation."""
    event = TimelineEvent(
        kind=kind,
        actor_id=actor.id if actor is not None else None,
        inquiry_id=inquiry.id if inquiry is not None else None,
        organisation_id=organisation.id if organisation is not None else None,
        data={key: _plain(value) for key, value in data.items()},
    )
    db.session.add(event)
    return event


def _plain(value: Any) -> Any:
    """JSON-friendly: enums become their stored value."""
    return value.value if hasattr(value, "value") else value
