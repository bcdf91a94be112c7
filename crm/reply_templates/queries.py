"""Read-only queries for reply templates, each one statement."""

from __future__ import annotations

from flask import abort
from sqlalchemy import or_, select

from crm.extensions import db
from crm.reply_templates.models import ReplyTemplate
from crm.reply_templates.services import is_visible_to, may_have_personal


def templates_for(user) -> list[ReplyTemplate]:
    """The shared templates and the user's own (if they may have any), by name."""
    condition = ReplyTemplate.owner_id.is_(None)
    if may_have_personal(user):
        condition = or_(condition, ReplyTemplate.owner_id == user.id)
    return list(
        db.session.scalars(
            select(ReplyTemplate)
            .where(condition)
            .order_by(ReplyTemplate.owner_id.is_not(None), ReplyTemplate.name, ReplyTemplate.id)
        )
    )


def visible_template(template_id: int | None, user) -> ReplyTemplate | None:
    """The template if it exists and the user may see it (someone else's personal one does
    not exist for them)."""
    if template_id is None:
        return None
    template = db.session.get(ReplyTemplate, template_id)
    return template if template is not None and is_visible_to(template, user) else None


def get_template_or_404(template_id: int, user) -> ReplyTemplate:
    template = visible_template(template_id, user)
    if template is None:
        abort(404)
    return template
