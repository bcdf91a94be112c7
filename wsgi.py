"""What gunicorn and `flask --app wsgi` load."""

from config import ConfigError
from crm import create_app

try:
    app = create_app()
except ConfigError as exc:
    # A message a person can act on, not a traceback.
    raise SystemExit(f"Samverka cannot start: {exc}") from None
