"""Extension objects, created unbound so that no module needs to import the app."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def check_limits_are_shared(config, workers: int) -> None:
    """Rate limits counted in each process's memory would be multiplied by the number of
    workers (two workers: twice the log-in guesses). Production with more than one worker must
    count them in a shared store (Redis): refuse to start otherwise."""
    shared = not config.get("RATELIMIT_STORAGE_URI", "memory://").startswith("memory://")
    production = config.get("SAMVERKA_ENV") == "production"
    if production and config.get("RATELIMIT_ENABLED") and workers > 1 and not shared:
        raise SystemExit(
            f"RATELIMIT_STORAGE_URI is memory:// but gunicorn runs {workers} workers: every "
            "rate limit would count per worker. Set RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379 "
            "(see docs/deploy.md), or run one worker."
        )
