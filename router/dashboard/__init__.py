"""The coordinators' dashboard: server-rendered pages, the annual report, in
six languages, behind coordinators' own logins.

`init_dashboard` wires it into the router's app: the session secret, secure
cookies, CSRF protection for the dashboard's forms (the signed API needs
none), translations and the blueprint itself.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

LANGUAGES = ("en", "es", "fr", "de", "nl", "ru")
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

csrf = CSRFProtect()


def select_language() -> str:
    """The language chosen with the switch, else the browser's preference."""
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen

    return request.accept_languages.best_match(LANGUAGES) or "en"


def load_or_create_secret(path: Path) -> bytes:
    """The session-signing secret, made on first use and readable by its owner.

    Several processes may start at once: the first to create the file writes
    it, the others read what it wrote.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes().strip()
        if len(secret) < 32:
            raise RuntimeError(f"{path}: the session secret is too short") from None
        return secret
    secret = secrets.token_hex(32).encode()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secret)

    return secret


def init_dashboard(app: Flask, services) -> None:
    """Add the dashboard to the router's app."""
    from router.dashboard.views import blueprint

    settings = services.settings
    app.config.update(
        SECRET_KEY=load_or_create_secret(settings.session_secret_file),
        SESSION_COOKIE_NAME="rr_dashboard",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure wherever the router is served over HTTPS; the embedded demo
        # on http://127.0.0.1 could not log in otherwise.
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        BABEL_DEFAULT_TIMEZONE="UTC",
    )
    csrf.init_app(app)
    Babel(app, locale_selector=select_language)
    app.register_blueprint(blueprint)
