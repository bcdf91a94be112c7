"""Template globals that are not about language (those are in crm/i18n.py)."""

from __future__ import annotations

from flask import Flask

from crm.core.idempotency import new_submission_id


def init_app(app: Flask) -> None:
    app.jinja_env.globals["new_submission_id"] = new_submission_id
