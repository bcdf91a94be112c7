from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from crm.audit.models import AuditLog
from crm.extensions import db


def audit(action: str, actor=None, obj=None, *, actor_label: str | None = None, **details: Any):
    """Write one audit row: who (actor), what (action), which object, when, from where."""
    entry = AuditLog(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label or getattr(actor, "email", None),
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=str(obj.id) if obj is not None and obj.id is not None else None,
        ip=request.remote_addr if has_request_context() else None,
        details=details,
    )
    db.session.add(entry)
    return entry
