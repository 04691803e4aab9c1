"""Shared by the Python suites: the environment the Rust test passes, checks that print one
line each, codes read from the server's outbox file and ID tokens verified against the pool's
JWKS (tests/api-clients/README.md)."""

import json
import os
import re
import sys
import time
import traceback

import jwt

ENDPOINT = os.environ.get("GATEHOUSE_ENDPOINT", "http://127.0.0.1:8080/")
POOL_ID = os.environ.get("GATEHOUSE_POOL_ID", "local_Example01")
PUBLIC_CLIENT = os.environ.get("GATEHOUSE_PUBLIC_CLIENT_ID", "")
LEGACY_CLIENT = os.environ.get("GATEHOUSE_LEGACY_CLIENT_ID", "")
CONFIDENTIAL_CLIENT = os.environ.get("GATEHOUSE_CONFIDENTIAL_CLIENT_ID", "")
CONFIDENTIAL_SECRET = os.environ.get("GATEHOUSE_CONFIDENTIAL_CLIENT_SECRET", "")
ADMIN_KEY = os.environ.get("GATEHOUSE_ADMIN_KEY_ID", "")
ADMIN_SECRET = os.environ.get("GATEHOUSE_ADMIN_SECRET", "")
READ_KEY = os.environ.get("GATEHOUSE_READ_KEY_ID", "")
OUTBOX = os.environ.get("GATEHOUSE_OUTBOX", "")
PASSWORD = os.environ.get("GATEHOUSE_USER_PASSWORD", "")
ISSUER = ENDPOINT.rstrip("/") + "/" + POOL_ID

_passed = 0
_failed = 0


def check(name, fn):
    """Runs one step; prints PASS or FAIL with the reason. A failure does not stop the suite."""
    global _passed, _failed
    try:
        fn()
        _passed += 1
        print(f"PASS {name}", flush=True)
    except Exception as e:  # noqa: BLE001 - every failure is reported, then the next step runs
        _failed += 1
        reason = f"{type(e).__name__}: {e}".replace("\n", " ")
        print(f"FAIL {name}: {reason[:600]}", flush=True)
        if os.environ.get("GATEHOUSE_SUITE_TRACE"):
            traceback.print_exc()


def finish():
    print(f"{_passed} passed, {_failed} failed", flush=True)
    sys.exit(0 if _failed == 0 else 1)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def error_code(exc):
    """The Cognito exception name botocore read from the answer."""
    response = getattr(exc, "response", None)
    if response is None:
        raise exc
    return response["Error"]["Code"]


def expect_error(code, fn, message=None):
    """Calls fn and requires a botocore ClientError with `code` (and `message`, when given)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        got = error_code(e)
        expect(got == code, f"expected {code}, got {got}: {e}")
        if message is not None:
            text = e.response["Error"].get("Message", "")
            expect(message in text, f"expected message containing {message!r}, got {text!r}")
        return e
    raise AssertionError(f"expected {code}, the call succeeded")


def emails():
    if not OUTBOX or not os.path.exists(OUTBOX):
        return []
    with open(OUTBOX, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _recipient(mail):
    to = mail.get("to")
    return to[0] if isinstance(to, list) and to else to


def code_for(to, after=0, timeout=10.0):
    """The six-digit code in the first email to `to` past the first `after` emails to it (the
    outbox is written after the request's transaction commits, so wait a little)."""
    deadline = time.time() + timeout
    while True:
        mine = [m for m in emails() if _recipient(m) == to]
        if len(mine) > after:
            body = mine[after].get("body", "")
            found = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
            expect(found is not None, f"no code in the email to {to}: {body!r}")
            return found.group(1)
        if time.time() > deadline:
            raise AssertionError(f"no email #{after + 1} to {to} in {OUTBOX}")
        time.sleep(0.1)


def mails_to(to):
    return [m for m in emails() if _recipient(m) == to]


def wait_for_mail(to, count, timeout=10.0):
    """The emails to `to` once there are at least `count` of them."""
    deadline = time.time() + timeout
    while True:
        mine = mails_to(to)
        if len(mine) >= count or time.time() > deadline:
            return mine
        time.sleep(0.1)


_jwks = None


def verify_id_token(token, client_id, username=None):
    """Verifies an ID token against the pool's JWKS (PyJWT's PyJWKClient) and returns its claims."""
    global _jwks
    if _jwks is None:
        _jwks = jwt.PyJWKClient(f"{ISSUER}/.well-known/jwks.json")
    key = _jwks.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=client_id, issuer=ISSUER)
    expect(claims.get("token_use") == "id", f"token_use {claims.get('token_use')}")
    if username is not None:
        expect(
            claims.get("cognito:username") == username,
            f"cognito:username {claims.get('cognito:username')} != {username}",
        )
    return claims


def access_claims(token):
    """An access token's claims, verified against the JWKS (no audience: access tokens have none)."""
    global _jwks
    if _jwks is None:
        _jwks = jwt.PyJWKClient(f"{ISSUER}/.well-known/jwks.json")
    key = _jwks.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token, key.key, algorithms=["RS256"], issuer=ISSUER, options={"verify_aud": False}
    )
    expect(claims.get("token_use") == "access", f"token_use {claims.get('token_use')}")
    return claims


def secret_hash(username, client_id=None, secret=None):
    import base64
    import hashlib
    import hmac

    client_id = client_id or CONFIDENTIAL_CLIENT
    secret = secret or CONFIDENTIAL_SECRET
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
