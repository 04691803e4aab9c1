"""The user-migration test's hook (tests/it/migration.rs): the example service's own logic
(examples/hooks/migrate_from_cognito.py), pointed at the old pool on the test's Gatehouse.

Environment: MIGRATION_ENDPOINT_FILE (a file the test writes the server's URL to once it runs),
OLD_POOL_ID, OLD_CLIENT_ID and the AWS_* key the old pool's admin actions are signed with."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "hooks"))

import migrate_from_cognito as example  # noqa: E402

_idp = []


def idp():
    if not _idp:
        with open(os.environ["MIGRATION_ENDPOINT_FILE"], encoding="utf-8") as f:
            endpoint = f.read().strip()
        _idp.append(example.old_pool(endpoint, os.environ["OLD_POOL_ID"]))
    return _idp[0]


def migrate(event):
    return example.answer(event, idp(), os.environ["OLD_POOL_ID"], os.environ["OLD_CLIENT_ID"])


def options(event):
    """A hook whose answer the call's ClientMetadata (validationData on a sign-in) chooses:
    `email`, `verified` (email_verified, "true" unless given), `status` (finalUserStatus),
    `force` (forceAliasCreation), `action` (messageAction)."""
    request = event["request"]
    choice = request.get("validationData") or request.get("clientMetadata") or {}
    response = {"userAttributes": {"email": choice.get("email", "x@new.example"),
                                   "email_verified": choice.get("verified", "true")}}
    if "status" in choice:
        response["finalUserStatus"] = choice["status"]
    if "force" in choice:
        response["forceAliasCreation"] = choice["force"] == "true"
    if "action" in choice:
        response["messageAction"] = choice["action"]
    return 200, {"response": response}


def echo_422(event):
    """A web framework's default validation error, which echoes the request it could not read
    (FastAPI's shape): the password and the typed name are in the body."""
    detail = {"type": "missing", "loc": ["body", "account"], "msg": "Field required",
              "input": {"userName": event["userName"], "request": event["request"]}}
    return 422, {"detail": [detail]}


ROUTES = {"/migrate": migrate, "/options": options, "/echo-422": echo_422}
