#!/usr/bin/env python3
"""A user-migration hook for a Gatehouse pool whose users still live in another pool: an Amazon
Cognito user pool or another Gatehouse (docs/migrating.md, "From Cognito").

On `UserMigration_Authentication` it signs the user in to the OLD pool with `AdminInitiateAuth`
(`ADMIN_NO_SRP_AUTH`) and reads the attributes with `GetUser`; on `UserMigration_ForgotPassword`
it looks the user up with `AdminGetUser`. It answers with the attributes to copy and
`messageAction = "SUPPRESS"`, or with an error status when the old pool says no. Every request's
Standard Webhooks signature is checked first, and neither the event nor the password is ever
printed.

Environment:
    HOOK_SECRET           the secret declared for the hook in [pool.triggers] (whsec_...)
    OLD_POOL_ID           the old pool's id (e.g. eu-west-1_AbCdEf123)
    OLD_CLIENT_ID         an app client of the old pool allowing ADMIN_USER_PASSWORD_AUTH
    OLD_POOL_ENDPOINT     only for an old Gatehouse: its URL (https://old-gatehouse.example/)
    MIGRATE_ATTRIBUTES    attributes to copy, comma-separated (default: email)
    PORT                  where to listen (default 9000)
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or any boto3 credential source): a key allowed to
    call AdminInitiateAuth and AdminGetUser on the old pool.

    pip install boto3 standardwebhooks && python3 migrate_from_cognito.py
"""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.exceptions import ClientError


class Refused(Exception):
    """The old pool does not know this user or this password: the sign-in fails."""


def old_pool(endpoint=None, pool_id=None):
    """A cognito-idp client for the old pool; `endpoint` points it at another Gatehouse."""
    pool_id = pool_id or os.environ["OLD_POOL_ID"]
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint or os.environ.get("OLD_POOL_ENDPOINT") or None,
        region_name=pool_id.split("_")[0],
    )


def as_map(attributes):
    return {a["Name"]: a["Value"] for a in attributes}


def migrate(event, idp, pool_id, client_id, copy=("email",)):
    """The event with its `response` filled in, or `Refused`."""
    source = event.get("triggerSource")
    name = event["userName"]
    if source == "UserMigration_Authentication":
        try:
            answer = idp.admin_initiate_auth(
                UserPoolId=pool_id,
                ClientId=client_id,
                AuthFlow="ADMIN_NO_SRP_AUTH",
                AuthParameters={"USERNAME": name, "PASSWORD": event["request"]["password"]},
            )
        except ClientError:
            raise Refused("Bad password") from None
        tokens = answer.get("AuthenticationResult")
        if tokens is None:
            # An MFA or new-password challenge: a migration cannot relay it.
            raise Refused("The old account needs a challenge this hook cannot answer")
        attributes = as_map(idp.get_user(AccessToken=tokens["AccessToken"])["UserAttributes"])
    elif source == "UserMigration_ForgotPassword":
        try:
            user = idp.admin_get_user(UserPoolId=pool_id, Username=name)
        except ClientError:
            raise Refused("User not found") from None
        attributes = as_map(user["UserAttributes"])
    else:
        raise Refused(f"Unexpected trigger {source}")
    copied = {key: attributes[key] for key in copy if key in attributes}
    if "email" in copied:
        # The old pool proved the address (or the user signed in with it): keep it usable for
        # password resets.
        copied["email_verified"] = "true"
    event["response"]["userAttributes"] = copied
    event["response"]["messageAction"] = "SUPPRESS"
    return event


def answer(event, idp, pool_id, client_id, copy=("email",)):
    """(HTTP status, body) for one verified event."""
    try:
        return 200, migrate(event, idp, pool_id, client_id, copy)
    except Refused as refusal:
        return 400, {"errorMessage": str(refusal)}


def main():
    from standardwebhooks import Webhook

    webhook = Webhook(os.environ["HOOK_SECRET"])
    pool_id, client_id = os.environ["OLD_POOL_ID"], os.environ["OLD_CLIENT_ID"]
    copy = tuple(os.environ.get("MIGRATE_ATTRIBUTES", "email").split(","))
    idp = old_pool()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                event = webhook.verify(body, dict(self.headers.items()))
            except Exception:  # a forged or replayed request
                return self.reply(401, {"errorMessage": "bad signature"})
            self.reply(*answer(event, idp, pool_id, client_id, copy))

        def reply(self, status, body):
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass  # request lines only, but stay quiet: events carry passwords

    port = int(os.environ.get("PORT", "9000"))
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
