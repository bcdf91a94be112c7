"""Read-only queries for tags, each in a fixed number of SQL statements."""

from __future__ import annotations

from flask import abort
from sqlalchemy import func, select

from crm.extensions import db
from crm.tags.models import Tag, inquiry_tags, organisation_tags


def tag_by_key(key: str) -> Tag | None:
    """The tag with this folded name, if there is one."""
    return db.session.scalar(select(Tag).where(Tag.key == key))


def get_tag_or_404(tag_id: int) -> Tag:
    tag = db.session.scalar(select(Tag).where(Tag.id == tag_id))
    if tag is None:
        abort(404)
    return tag


def tag_names() -> list[str]:
    """Every tag's name in alphabetical order, for suggestions (a <datalist>)."""
    return list(db.session.scalars(select(Tag.name).order_by(Tag.key)))


def _uses(table):
    return (
        select(func.count())
        .select_from(table)
        .where(table.c.tag_id == Tag.id)
        .correlate(Tag)
        .scalar_subquery()
    )


def tags_with_usage() -> list:
    """Every tag with how many inquiries and organisations have it (one statement)."""
    rows = db.session.execute(
        select(
            Tag,
            _uses(inquiry_tags).label("inquiries"),
            _uses(organisation_tags).label("organisations"),
        ).order_by(Tag.key)
    )
    return rows.all()


def usage_of(tag: Tag) -> tuple[int, int]:
    """How many inquiries and organisations have the tag (one statement)."""
    row = db.session.execute(
        select(
            select(func.count())
            .select_from(inquiry_tags)
            .where(inquiry_tags.c.tag_id == tag.id)
            .scalar_subquery(),
            select(func.count())
            .select_from(organisation_tags)
            .where(organisation_tags.c.tag_id == tag.id)
            .scalar_subquery(),
        )
    ).one()
    return row[0], row[1]


def tags_of_inquiry(inquiry) -> list[Tag]:
    return list(
        db.session.scalars(
            select(Tag)
            .join(inquiry_tags, inquiry_tags.c.tag_id == Tag.id)
            .where(inquiry_tags.c.inquiry_id == inquiry.id)
            .order_by(Tag.key)
        )
    )


def tags_of_organisation(organisation) -> list[Tag]:
    return list(
        db.session.scalars(
            select(Tag)
            .join(organisation_tags, organisation_tags.c.tag_id == Tag.id)
            .where(organisation_tags.c.organisation_id == organisation.id)
            .order_by(Tag.key)
        )
    )


def tags_by_inquiry(inquiry_ids) -> dict[int, list[Tag]]:
    """The tags of many inquiries (a list page) in one statement, by inquiry id."""
    return _tags_by(inquiry_tags.c.inquiry_id, inquiry_ids)


def tags_by_organisation(organisation_ids) -> dict[int, list[Tag]]:
    """The tags of many organisations (the register's page) in one statement, by id."""
    return _tags_by(organisation_tags.c.organisation_id, organisation_ids)


def tagged_condition(inquiry_id_column, key: str):
    """Inquiries that have the tag with this folded name (the list's tag filter)."""
    return _tagged(inquiry_tags.c.inquiry_id, inquiry_id_column, key)


def organisation_tagged_condition(organisation_id_column, key: str):
    """Organisations that have the tag with this folded name (the register's tag filter)."""
    return _tagged(organisation_tags.c.organisation_id, organisation_id_column, key)


def _tags_by(owner, owner_ids) -> dict[int, list[Tag]]:
    found: dict[int, list[Tag]] = {owner_id: [] for owner_id in owner_ids}
    if not found:
        return found
    rows = db.session.execute(
        select(owner, Tag)
        .join(Tag, Tag.id == owner.table.c.tag_id)
        .where(owner.in_(list(found)))
        .order_by(Tag.key)
    )
    for owner_id, tag in rows:
        found[owner_id].append(tag)
    return found


def _tagged(owner, owner_id_column, key: str):
    return (
        select(owner)
        .join(Tag, Tag.id == owner.table.c.tag_id)
        .where(Tag.key == key, owner == owner_id_column)
        .exists()
    )
