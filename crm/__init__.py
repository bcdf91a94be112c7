"""Samverka: the application factory."""

from __future__ import annotations

import os

from flask import Flask

from config import Config, load_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: Config | str | None = None, **overrides) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages, commands."""
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_path=os.environ.get("SAMVERKA_INSTANCE_PATH", os.path.join(ROOT, "instance")),
    )
    from crm.i18n import SamverkaRequest

    app.request_class = SamverkaRequest
    settings = config if isinstance(config, Config) else load_config(config)
    settings.finalise(app.instance_path)
    app.config.update(settings.as_dict())
    app.config.update(overrides)
    app.config["SAMVERKA_ENV"] = settings.ENV_NAME
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = os.path.join(ROOT, "translations")

    from crm.core.urls import DatabaseId

    app.url_map.converters["int"] = DatabaseId  # before any route is made
    _trust_proxies(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies the client's address is the one the nearest
    proxy saw (the right end of X-Forwarded-For); a client's own X-Forwarded-For entries,
    further left, are never taken. Without proxies the headers are ignored."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def register_extensions(app: Flask) -> None:
    from crm import database, i18n, logs, security
    from crm.attachments import hooks as attachment_hooks
    from crm.auth.loader import init_login
    from crm.core import templating, uploads
    from crm.extensions import babel, csrf, db, limiter

    logs.init_app(app)
    database.check_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(app.config)
    db.init_app(app)
    database.init_engine_events(app)
    import crm.models  # noqa: F401  (every model mapped before Alembic reads the metadata)

    if not app.config["WEB_WORKER"]:
        # Flask-Migrate brings Alembic and Mako (~10 MB per process); only `flask db` needs them.
        from flask_migrate import Migrate

        Migrate(
            app,
            db,
            directory=os.path.join(ROOT, "migrations"),
            render_as_batch=True,
            compare_type=True,
        )
    uploads.init_app(app)  # before the CSRF check, which reads the body
    csrf.init_app(app)
    limiter.init_app(app)
    attachment_hooks.init_app(app)  # after CSRF and limits, before the log-in checks
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.install_template_gettext(app)
    templating.init_app(app)
    init_login(app)
    security.init_app(app)


def register_blueprints(app: Flask) -> None:
    from crm.activity.views import bp as follow_ups_bp
    from crm.attachments.views import bp as attachments_bp
    from crm.audit.views import bp as audit_bp
    from crm.auth.views import account_bp, users_bp
    from crm.auth.views import bp as auth_bp
    from crm.conversation.views import bp as mailbox_bp
    from crm.core.views import bp as core_bp
    from crm.inquiries.views import bp as inquiries_bp
    from crm.mail.views import bp as mail_bp
    from crm.partners.import_views import bp as partner_import_bp
    from crm.partners.views import bp as partners_bp
    from crm.privacy.views import bp as privacy_bp
    from crm.public.views import bp as public_bp
    from crm.reply_templates.views import bp as reply_templates_bp
    from crm.reports.views import bp as reports_bp
    from crm.routing.views import bp as routing_bp
    from crm.saved_views.views import bp as saved_views_bp
    from crm.search.views import bp as search_bp
    from crm.tags.views import bp as tags_bp
    from crm.workdays.views import bp as workdays_bp

    blueprints = (
        core_bp, public_bp, auth_bp, inquiries_bp, follow_ups_bp, partners_bp, reports_bp,
        users_bp, audit_bp, mail_bp, routing_bp, account_bp, workdays_bp, mailbox_bp,
        attachments_bp, privacy_bp, search_bp, partner_import_bp, reply_templates_bp,
        tags_bp, saved_views_bp,
    )  # fmt: skip
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    from crm.core import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    from crm.commands import crm_cli

    app.cli.add_command(crm_cli)
