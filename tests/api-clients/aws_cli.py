"""The AWS CLI (v1, from requirements.txt) against Gatehouse: admin-create-user, list-users with a
filter and the CLI's own paging, admin-get-user, with `--endpoint-url` and with
AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER. See README.md."""

import json
import os
import subprocess
import sys
import time

from common import ADMIN_KEY, ADMIN_SECRET, ENDPOINT, POOL_ID, check, expect, finish


def aws(*args, endpoint_flag=True, secret=ADMIN_SECRET):
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID=ADMIN_KEY,
        AWS_SECRET_ACCESS_KEY=secret,
        AWS_DEFAULT_REGION="local",
        AWS_MAX_ATTEMPTS="1",
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    env.pop("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", None)
    command = [sys.executable, "-m", "awscli", "cognito-idp", *args, "--output", "json"]
    if endpoint_flag:
        command += ["--endpoint-url", ENDPOINT]
    else:
        env["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"] = ENDPOINT
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def ok(*args, **kw):
    done = aws(*args, **kw)
    expect(done.returncode == 0, f"exit {done.returncode}: {done.stderr.strip()}")
    return json.loads(done.stdout) if done.stdout.strip() else {}


def endpoint():
    for flag in (True, False):
        config = ok("get-user-pool-mfa-config", "--user-pool-id", POOL_ID, endpoint_flag=flag)
        expect(config["MfaConfiguration"] == "OFF", config)


def create_user():
    user = ok(
        "admin-create-user",
        "--user-pool-id", POOL_ID,
        "--username", "cli-user",
        "--user-attributes", "Name=email,Value=cli@example.com", "Name=email_verified,Value=true",
        "--temporary-password", "Temp-Passw0rd!",
        "--message-action", "SUPPRESS",
    )["User"]
    expect(user["Username"] == "cli-user" and user["UserStatus"] == "FORCE_CHANGE_PASSWORD", user)
    # AWS CLI v1 prints a timestamp as received (`cli_timestamp_format = none`): the epoch
    # number the server sent, which must be now.
    created = user["UserCreateDate"]
    expect(isinstance(created, (int, float)) and abs(created - time.time()) < 300, created)


def create_user_from_environment():
    user = ok(
        "admin-create-user",
        "--user-pool-id", POOL_ID,
        "--username", "cli-env",
        "--message-action", "SUPPRESS",
        endpoint_flag=False,
    )["User"]
    expect(user["Username"] == "cli-env", user)


def get_user():
    user = ok("admin-get-user", "--user-pool-id", POOL_ID, "--username", "cli-user")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    expect(attributes.get("email") == "cli@example.com", attributes)
    expect(user["Enabled"] is True, user)
    user = ok("admin-get-user", "--user-pool-id", POOL_ID, "--username", "alice", endpoint_flag=False)
    expect(user["Username"] == "alice", user)


def list_users():
    found = ok("list-users", "--user-pool-id", POOL_ID, "--filter", 'email = "cli@example.com"')["Users"]
    expect([u["Username"] for u in found] == ["cli-user"], found)
    prefixed = ok("list-users", "--user-pool-id", POOL_ID, "--filter", 'username ^= "cli-"')["Users"]
    expect(sorted(u["Username"] for u in prefixed) == ["cli-env", "cli-user"], prefixed)


def list_users_paged():
    # --page-size 1: the CLI follows PaginationToken itself and merges the pages.
    everyone = ok("list-users", "--user-pool-id", POOL_ID, "--page-size", "1")["Users"]
    names = [u["Username"] for u in everyone]
    expect(len(names) == len(set(names)), names)
    expect({"alice", "nina", "rita", "uma", "cli-user", "cli-env"} <= set(names), names)
    first = ok("list-users", "--user-pool-id", POOL_ID, "--max-items", "2")
    expect(len(first["Users"]) == 2 and first.get("NextToken"), first)
    rest = ok("list-users", "--user-pool-id", POOL_ID, "--starting-token", first["NextToken"])
    together = [u["Username"] for u in first["Users"] + rest["Users"]]
    expect(sorted(together) == sorted(names), f"{together} != {names}")


def errors():
    missing = aws("admin-get-user", "--user-pool-id", POOL_ID, "--username", "nobody")
    expect(missing.returncode != 0 and "UserNotFoundException" in missing.stderr, missing.stderr)
    exists = aws("admin-create-user", "--user-pool-id", POOL_ID, "--username", "cli-user", "--message-action", "SUPPRESS")
    expect(exists.returncode != 0 and "UsernameExistsException" in exists.stderr, exists.stderr)
    bad = aws("list-users", "--user-pool-id", POOL_ID, secret="wrong-secret")
    expect(bad.returncode != 0 and "InvalidSignatureException" in bad.stderr, bad.stderr)


for name, step in [
    ("get-user-pool-mfa-config with either endpoint setting", endpoint),
    ("admin-create-user --endpoint-url", create_user),
    ("admin-create-user with AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", create_user_from_environment),
    ("admin-get-user", get_user),
    ("list-users --filter", list_users),
    ("list-users paging", list_users_paged),
    ("CLI errors", errors),
]:
    check(name, step)
finish()
