"""The WSGI entry point for gunicorn: `gunicorn router.wsgi:app`."""

from router.app import create_app
from router.config import load_settings
from router.logs import configure_logging

_settings = load_settings()
configure_logging(_settings.log_format, _settings.log_level)
app = create_app()
