"""pycognito against Gatehouse: USER_SRP_AUTH as pycognito's AWSSRP computes it (it answers
PASSWORD_VERIFIER without a Session), with a client secret too, the new-password challenge after
SRP, refresh, GetUser and GlobalSignOut. See README.md."""

import boto3
import botocore
from botocore.config import Config
from pycognito import Cognito
from pycognito.aws_srp import AWSSRP

from common import (
    ADMIN_KEY,
    ADMIN_SECRET,
    CONFIDENTIAL_CLIENT,
    CONFIDENTIAL_SECRET,
    ENDPOINT,
    LEGACY_CLIENT,
    PASSWORD,
    POOL_ID,
    PUBLIC_CLIENT,
    access_claims,
    check,
    expect,
    expect_error,
    finish,
    verify_id_token,
)

# pycognito verifies every token it receives itself, against `{endpoint_url}/{pool id}` as the
# issuer and its JWKS: the endpoint must not end in `/` for that URL to be the pool's issuer.
KWARGS = {"endpoint_url": ENDPOINT.rstrip("/")}
UNSIGNED = Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1})
NEW_PASSWORD = "New-Horse-Battery-7"
state = {}


def cognito(username, client_id=PUBLIC_CLIENT, secret=None):
    return Cognito(
        POOL_ID,
        client_id,
        username=username,
        client_secret=secret,
        user_pool_region="local",
        botocore_config=UNSIGNED,
        boto3_client_kwargs=dict(KWARGS),
    )


def srp_sign_in():
    u = cognito("alice")
    u.authenticate(password=PASSWORD)
    claims = verify_id_token(u.id_token, PUBLIC_CLIENT, "alice")
    expect(claims.get("email") == "alice@example.com", claims)
    expect(access_claims(u.access_token).get("scope") == "aws.cognito.signin.user.admin", "scope")
    expect(u.refresh_token, "a refresh token")
    state["alice"] = u


def srp_by_alias():
    # USER_ID_FOR_SRP is the stored username; pycognito computes x with it.
    u = cognito("alice@example.com")
    u.authenticate(password=PASSWORD)
    verify_id_token(u.id_token, PUBLIC_CLIENT, "alice")


def srp_with_secret():
    u = cognito("alice", CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET)
    u.authenticate(password=PASSWORD)
    verify_id_token(u.id_token, CONFIDENTIAL_CLIENT, "alice")


def srp_raw_awssrp():
    client = boto3.client("cognito-idp", region_name="local", config=UNSIGNED, **KWARGS)
    aws = AWSSRP(username="alice", password=PASSWORD, pool_id=POOL_ID, client_id=PUBLIC_CLIENT, client=client)
    tokens = aws.authenticate_user()
    verify_id_token(tokens["AuthenticationResult"]["IdToken"], PUBLIC_CLIENT, "alice")


def srp_for_an_api_user():
    # A password set through the API stores the verifier with the hash.
    admin = boto3.client(
        "cognito-idp",
        region_name="local",
        aws_access_key_id=ADMIN_KEY,
        aws_secret_access_key=ADMIN_SECRET,
        **KWARGS,
    )
    admin.admin_create_user(UserPoolId=POOL_ID, Username="sam", MessageAction="SUPPRESS")
    admin.admin_set_user_password(UserPoolId=POOL_ID, Username="sam", Password=NEW_PASSWORD, Permanent=True)
    u = cognito("sam")
    u.authenticate(password=NEW_PASSWORD)
    verify_id_token(u.id_token, PUBLIC_CLIENT, "sam")


def srp_errors():
    expect_error("NotAuthorizedException", lambda: cognito("alice").authenticate(password="Wrong-Horse-1"),
                 "Incorrect username or password.")
    # ENABLED: an unknown user gets a challenge like a real one and fails at PASSWORD_VERIFIER.
    expect_error("NotAuthorizedException", lambda: cognito("nobody").authenticate(password=PASSWORD))
    expect_error("UserNotFoundException", lambda: cognito("nobody", LEGACY_CLIENT).authenticate(password=PASSWORD))
    expect_error("UserNotConfirmedException", lambda: cognito("uma").authenticate(password=PASSWORD))
    expect_error("PasswordResetRequiredException", lambda: cognito("rita").authenticate(password=PASSWORD))


def new_password_challenge():
    u = cognito("nina")
    u.new_password_challenge(PASSWORD, NEW_PASSWORD)
    verify_id_token(u.id_token, PUBLIC_CLIENT, "nina")
    again = cognito("nina")
    again.authenticate(password=NEW_PASSWORD)
    verify_id_token(again.id_token, PUBLIC_CLIENT, "nina")


def refresh():
    u = state["alice"]
    before = u.id_token
    u.renew_access_token()
    expect(u.id_token and u.id_token != before, "a new ID token")
    verify_id_token(u.id_token, PUBLIC_CLIENT, "alice")


def get_user():
    user = state["alice"].get_user()
    expect(user.username == "alice", user.username)
    expect(user.email == "alice@example.com", user._data)


def sign_out():
    u = state["alice"]
    access = u.access_token
    u.logout()
    client = boto3.client("cognito-idp", region_name="local", config=UNSIGNED, **KWARGS)
    expect_error("NotAuthorizedException", lambda: client.get_user(AccessToken=access))


for name, step in [
    ("USER_SRP_AUTH sign-in", srp_sign_in),
    ("USER_SRP_AUTH with the email alias", srp_by_alias),
    ("USER_SRP_AUTH with SECRET_HASH", srp_with_secret),
    ("AWSSRP.authenticate_user", srp_raw_awssrp),
    ("USER_SRP_AUTH for a user created with AdminCreateUser", srp_for_an_api_user),
    ("SRP errors", srp_errors),
    ("NEW_PASSWORD_REQUIRED after SRP", new_password_challenge),
    ("renew_access_token (REFRESH_TOKEN_AUTH)", refresh),
    ("get_user", get_user),
    ("logout (GlobalSignOut)", sign_out),
]:
    check(name, step)
finish()
