"""HTTP security headers and caching rules for every response."""

from __future__ import annotations

from flask import Flask, g, request

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
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    headers = _headers(production=app.config["SAMVERKA_ENV"] == "production")
    # Registered before _security_headers, so it runs after it and its policy is the one
    # that stays (Flask runs after_request functions last registered, first).
    app.after_request(_private_headers)
    app.after_request(headers)
    app.after_request(_no_store)
    app.after_request(_hide_server_header)


def _headers(production: bool):
    """The same headers for every response, written once at start-up (Flask-Talisman, used
    before, rebuilt the policy strings on every request for the same result)."""
    fixed = {
        "Permissions-Policy": "browsing-topics=()",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "; ".join(f"{name} {value}" for name, value in CSP.items()),
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    # HSTS only over TLS (directly, or at the proxy in front): browsers ignore it over http.
    hsts = "max-age=31536000; includeSubDomains" if production else None

    def _security_headers(response):
        response.headers.update(fixed)
        secure = request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"
        if hsts and secure:
            response.headers["Strict-Transport-Security"] = hsts
        return response

    return _security_headers


def _no_store(response):
    """Pages may show personal data; no browser or proxy should keep a copy."""
    if request.endpoint != "static" and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
    return response


def _hide_server_header(response):
    response.headers.pop("Server", None)
    return response
