"""The local login flow behind `authenticated` bindings: a JWT in the `hyperware-auth_<node>` cookie.

Hyperdrive (HD `hyperdrive/src/http/server.rs` `login_handler`, `http/utils.rs` `auth_token_valid`)
signs an HS256 JWT `{"username": <node>, "subdomain": null|<process id>, "expiration": <unix s>}` with
the node's secret and sets it as `hyperware-auth_<node>=<jwt>` (or `hyperware-auth_<node>@<process>`
for a secure subdomain). Authenticated paths without a valid cookie answer the login page with 200.

The emulator behaves like a simulation-mode (fake) node: **any password logs in** — the point is to
exercise the cookie flow a browser goes through, not to protect a dev node. The secret lives in
`<home>/http-server/jwt-secret`, so cookies stay valid across node restarts.

To log in from code: `POST /login` with `{"password_hash": "<anything>", "subdomain": null}` and keep
the `Set-Cookie`; with `?redirect=/path` the answer is a 303 to that path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
import secrets
import time
from pathlib import Path

from hyperpy.node.wit_types import ProcessId

TOKEN_LIFETIME_SECONDS = 30 * 24 * 3600


def load_secret(home: Path) -> bytes:
    """The node's JWT secret, created on first use and kept across restarts."""
    path = home / "http-server" / "jwt-secret"
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(secret)
    os.replace(temporary, path)
    return secret


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(secret: bytes, node: str, subdomain: str | None) -> str:
    """An HS256 JWT with Hyperdrive's claims."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {
        "username": node,
        "subdomain": subdomain,
        "expiration": int(time.time()) + TOKEN_LIFETIME_SECONDS,
    }
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def cookie_name(node: str, subdomain: ProcessId | str | None) -> str:
    return f"hyperware-auth_{node}" if subdomain is None else f"hyperware-auth_{node}@{subdomain}"


def token_valid(node: str, subdomain: ProcessId | None, cookie_header: str, secret: bytes) -> bool:
    """Hyperdrive's `auth_token_valid`: find our cookie among `"; "`-separated pairs and verify it."""
    label = cookie_name(node, subdomain)
    token = None
    for entry in cookie_header.split("; "):
        parts = entry.split("=")
        if len(parts) == 2 and parts[0] == label:
            token = parts[1]
            break
    if not token or token.count(".") != 2:
        return False
    header, payload, signature = token.split(".")
    expected = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _b64url_decode(signature)):
            return False
        claims = json.loads(_b64url_decode(payload))
    except ValueError:
        return False
    return (
        isinstance(claims, dict)
        and claims.get("username") == node
        and claims.get("subdomain") == (None if subdomain is None else str(subdomain))
        and isinstance(claims.get("expiration"), int)
        and claims["expiration"] > time.time()
    )


def secure_subdomain(process: ProcessId) -> str:
    """`<package>-<publisher>` with every non-alphanumeric character replaced by `-`."""
    text = f"{process.package_name}-{process.publisher_node}"
    return "".join(char if char.isascii() and char.isalnum() else "-" for char in text)


def login_page(node: str, subdomain: str | None) -> str:
    """The page an unauthenticated browser gets (HTTP 200) in place of an authenticated path."""
    return LOGIN_HTML.replace("${node}", html.escape(node)).replace(
        "${subdomain}", json.dumps(subdomain).replace("<", "\\u003c")
    )


LOGIN_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Log in to ${node}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font-family: system-ui, sans-serif; display: grid; place-items: center; min-height: 90vh; }
form { display: grid; gap: .6rem; min-width: 18rem; }
small { color: #666; }
</style></head>
<body>
<form id="login">
  <h1>${node}</h1>
  <label>Password <input id="password" type="password" autofocus></label>
  <button type="submit">Log in</button>
  <small>hyperpy local node: any password is accepted (like a fake node).</small>
</form>
<script>
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = document.getElementById("password").value;
  let passwordHash = password;
  if (window.crypto && crypto.subtle) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(password));
    passwordHash = "0x" + Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  const response = await fetch("/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ password_hash: passwordHash, subdomain: ${subdomain} }),
  });
  if (response.ok) { window.location.reload(); } else { alert("login failed: " + response.status); }
});
</script>
</body>
</html>
"""
