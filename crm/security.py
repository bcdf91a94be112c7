"""HTTP security headers and caching rules for every response."""

from __future__ import annotations

from flask import Flask, g, request

from crm.extensions import talisman

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
}


def keep_private(referrer_policy: str = "same-origin") -> None:
    """This page's URL carries a secret: never send it to another site, and don't index it.

    `same-origin`, not `no-referrer`, for pages with forms: behind TLS, Flask-WTF requires a
    same-origin Referer on every POST, so `no-referrer` would break the page's own buttons.
    """
    g.keep_private = referrer_policy


def sandboxed() -> None:
    """This response is a file, not a page: if a browser ever renders it, it runs nothing and
    reaches nothing of this site."""
    g.sandboxed = True


def _private_headers(response):
    if g.get("sandboxed"):
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    policy = g.get("keep_private")
    if policy:
        response.headers["Referrer-Policy"] = policy
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def init_app(app: Flask) -> None:
    production = app.config["SAMVERKA_ENV"] == "production"
    # Registered before Talisman, so it runs after it and its policy is the one that stays.
    app.after_request(_private_headers)
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the reverse proxy, which also redirects http
        strict_transport_security=production,
        strict_transport_security_max_age=31536000,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        frame_options="DENY",
        content_security_policy=CSP,
        referrer_policy="strict-origin-when-cross-origin",
        x_content_type_options=True,
    )
    app.after_request(_no_store)
    app.after_request(_hide_server_header)


def _no_store(response):
    """Pages may show personal data; no browser or proxy should keep a copy."""
    if request.endpoint != "static" and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
    return response


def _hide_server_header(response):
    response.headers.pop("Server", None)
    return response
