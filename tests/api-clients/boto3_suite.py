"""boto3 against Gatehouse's Cognito JSON API: admin actions signed with SigV4, public actions
from an UNSIGNED client, ListUsers filters and paging, and the errors the P0 actions document,
each checked by code (e.response['Error']['Code']). See README.md."""

import datetime

import boto3
import botocore
from botocore.config import Config

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
    READ_KEY,
    access_claims,
    check,
    code_for,
    error_code,
    expect,
    expect_error,
    finish,
    secret_hash,
    verify_id_token,
    wait_for_mail,
)

SRP_ONLY_CLIENT = "apiclientssrponlyclient001"
NEW_PASSWORD = "New-Horse-Battery-7"


def client(key=ADMIN_KEY, secret=ADMIN_SECRET, **config):
    return boto3.client(
        "cognito-idp",
        endpoint_url=ENDPOINT,
        region_name="local",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, **config),
    )


admin = client()
public = boto3.client(
    "cognito-idp",
    endpoint_url=ENDPOINT,
    region_name="local",
    config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}),
)
# Sends what botocore would refuse to send (a missing required member).
unchecked = client(parameter_validation=False)
state = {}


def attrs(user, key="Attributes"):
    return {a["Name"]: a["Value"] for a in user[key]}


def password_sign_in(username, password, client_id=PUBLIC_CLIENT):
    return public.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )


# --- pools and clients, as the file declares them ---------------------------------------------


def describe_pool():
    pool = admin.describe_user_pool(UserPoolId=POOL_ID)["UserPool"]
    expect(pool["Id"] == POOL_ID, pool)
    expect(pool["Arn"] == f"arn:aws:cognito-idp:local:123456789012:userpool/{POOL_ID}", pool["Arn"])
    expect("email" in pool.get("AutoVerifiedAttributes", []), pool)
    expect(isinstance(pool.get("CreationDate"), datetime.datetime), pool.get("CreationDate"))


def describe_client():
    c = admin.describe_user_pool_client(UserPoolId=POOL_ID, ClientId=PUBLIC_CLIENT)["UserPoolClient"]
    expect(c["ClientId"] == PUBLIC_CLIENT, c)
    expect("ALLOW_USER_SRP_AUTH" in c.get("ExplicitAuthFlows", []), c)
    expect("ClientSecret" not in c, "a public client has no secret")
    # An administrator reads a confidential client's secret back, as from Cognito.
    confidential = admin.describe_user_pool_client(UserPoolId=POOL_ID, ClientId=CONFIDENTIAL_CLIENT)
    expect(confidential["UserPoolClient"].get("ClientSecret") == CONFIDENTIAL_SECRET, "the secret")


def list_pools_and_clients():
    pools = admin.list_user_pools(MaxResults=60)["UserPools"]
    expect(POOL_ID in [p["Id"] for p in pools], pools)
    clients = admin.list_user_pool_clients(UserPoolId=POOL_ID, MaxResults=60)["UserPoolClients"]
    ids = {c["ClientId"] for c in clients}
    expect({PUBLIC_CLIENT, LEGACY_CLIENT, CONFIDENTIAL_CLIENT} <= ids, ids)


def mfa_config():
    answer = admin.get_user_pool_mfa_config(UserPoolId=POOL_ID)
    expect(answer["MfaConfiguration"] == "OFF", answer)


# --- admin user directory ---------------------------------------------------------------------


def admin_create_user():
    user = admin.admin_create_user(
        UserPoolId=POOL_ID,
        Username="bob",
        TemporaryPassword="Temp-Passw0rd!",
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": "bob@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )["User"]
    expect(user["Username"] == "bob", user)
    expect(user["UserStatus"] == "FORCE_CHANGE_PASSWORD", user)
    expect(user["Enabled"] is True, user)
    expect("sub" in attrs(user), user)
    expect(isinstance(user["UserCreateDate"], datetime.datetime), user["UserCreateDate"])


def admin_create_user_sends_invitation():
    admin.admin_create_user(
        UserPoolId=POOL_ID,
        Username="ivy",
        UserAttributes=[
            {"Name": "email", "Value": "ivy@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
        DesiredDeliveryMediums=["EMAIL"],
    )
    mails = wait_for_mail("ivy@example.com", 1)
    expect(len(mails) == 1, f"one invitation, got {mails}")
    expect("ivy" in mails[0]["body"], mails[0])


def admin_create_user_errors():
    expect_error(
        "UsernameExistsException",
        lambda: admin.admin_create_user(UserPoolId=POOL_ID, Username="alice", MessageAction="SUPPRESS"),
    )
    expect_error(
        "InvalidPasswordException",
        lambda: admin.admin_create_user(
            UserPoolId=POOL_ID, Username="weak", TemporaryPassword="short", MessageAction="SUPPRESS"
        ),
    )
    expect_error(
        "InvalidParameterException",
        lambda: admin.admin_create_user(
            UserPoolId=POOL_ID,
            Username="odd",
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "custom:nope", "Value": "x"}],
        ),
    )
    expect_error(
        "ResourceNotFoundException",
        lambda: admin.admin_create_user(UserPoolId="local_NoSuchPool", Username="x", MessageAction="SUPPRESS"),
    )


def admin_get_user():
    user = admin.admin_get_user(UserPoolId=POOL_ID, Username="alice")
    expect(user["Username"] == "alice", user)
    expect(user["UserStatus"] == "CONFIRMED", user)
    a = attrs(user, "UserAttributes")
    expect(a.get("email") == "alice@example.com" and a.get("email_verified") == "true", a)
    expect(isinstance(user["UserLastModifiedDate"], datetime.datetime), user)
    # An alias finds the same user.
    by_email = admin.admin_get_user(UserPoolId=POOL_ID, Username="alice@example.com")
    expect(by_email["Username"] == "alice", by_email)
    expect_error(
        "UserNotFoundException",
        lambda: admin.admin_get_user(UserPoolId=POOL_ID, Username="nobody"),
        "User does not exist.",
    )


def new_password_required():
    first = admin.admin_initiate_auth(
        UserPoolId=POOL_ID,
        ClientId=PUBLIC_CLIENT,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "bob", "PASSWORD": "Temp-Passw0rd!"},
    )
    expect(first["ChallengeName"] == "NEW_PASSWORD_REQUIRED", first)
    params = first["ChallengeParameters"]
    expect("userAttributes" in params and "requiredAttributes" in params, params)
    done = admin.admin_respond_to_auth_challenge(
        UserPoolId=POOL_ID,
        ClientId=PUBLIC_CLIENT,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=first["Session"],
        ChallengeResponses={"USERNAME": "bob", "NEW_PASSWORD": NEW_PASSWORD},
    )
    tokens = done["AuthenticationResult"]
    verify_id_token(tokens["IdToken"], PUBLIC_CLIENT, "bob")
    expect(admin.admin_get_user(UserPoolId=POOL_ID, Username="bob")["UserStatus"] == "CONFIRMED", "bob")


def admin_set_user_password():
    admin.admin_set_user_password(UserPoolId=POOL_ID, Username="ivy", Password=NEW_PASSWORD, Permanent=True)
    user = admin.admin_get_user(UserPoolId=POOL_ID, Username="ivy")
    expect(user["UserStatus"] == "CONFIRMED", user)
    verify_id_token(password_sign_in("ivy", NEW_PASSWORD)["AuthenticationResult"]["IdToken"], PUBLIC_CLIENT, "ivy")
    expect_error(
        "InvalidPasswordException",
        lambda: admin.admin_set_user_password(UserPoolId=POOL_ID, Username="ivy", Password="weak", Permanent=True),
    )


def admin_update_and_delete_attributes():
    admin.admin_update_user_attributes(
        UserPoolId=POOL_ID,
        Username="ivy",
        UserAttributes=[{"Name": "given_name", "Value": "Ivy"}, {"Name": "family_name", "Value": "Green"}],
    )
    a = attrs(admin.admin_get_user(UserPoolId=POOL_ID, Username="ivy"), "UserAttributes")
    expect(a.get("given_name") == "Ivy" and a.get("family_name") == "Green", a)
    admin.admin_delete_user_attributes(UserPoolId=POOL_ID, Username="ivy", UserAttributeNames=["family_name"])
    a = attrs(admin.admin_get_user(UserPoolId=POOL_ID, Username="ivy"), "UserAttributes")
    expect("family_name" not in a and a.get("given_name") == "Ivy", a)


def alias_exists():
    # alice's verified email is an alias: another user cannot claim it verified.
    expect_error(
        "AliasExistsException",
        lambda: admin.admin_update_user_attributes(
            UserPoolId=POOL_ID,
            Username="ivy",
            UserAttributes=[
                {"Name": "email", "Value": "alice@example.com"},
                {"Name": "email_verified", "Value": "true"},
            ],
        ),
    )


def disable_and_enable():
    admin.admin_disable_user(UserPoolId=POOL_ID, Username="ivy")
    expect(admin.admin_get_user(UserPoolId=POOL_ID, Username="ivy")["Enabled"] is False, "disabled")
    expect_error("NotAuthorizedException", lambda: password_sign_in("ivy", NEW_PASSWORD), "User is disabled.")
    admin.admin_enable_user(UserPoolId=POOL_ID, Username="ivy")
    password_sign_in("ivy", NEW_PASSWORD)


def admin_reset_user_password():
    admin.admin_reset_user_password(UserPoolId=POOL_ID, Username="ivy")
    expect(admin.admin_get_user(UserPoolId=POOL_ID, Username="ivy")["UserStatus"] == "RESET_REQUIRED", "status")
    expect_error("PasswordResetRequiredException", lambda: password_sign_in("ivy", NEW_PASSWORD))
    code = code_for("ivy@example.com", after=1)  # after the invitation
    public.confirm_forgot_password(
        ClientId=PUBLIC_CLIENT, Username="ivy", ConfirmationCode=code, Password="Reset-Horse-5"
    )
    password_sign_in("ivy", "Reset-Horse-5")


def admin_confirm_sign_up():
    public.sign_up(
        ClientId=PUBLIC_CLIENT,
        Username="carl",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "carl@example.com"}],
    )
    admin.admin_confirm_sign_up(UserPoolId=POOL_ID, Username="carl")
    expect(admin.admin_get_user(UserPoolId=POOL_ID, Username="carl")["UserStatus"] == "CONFIRMED", "carl")
    expect_error(
        "NotAuthorizedException",
        lambda: admin.admin_confirm_sign_up(UserPoolId=POOL_ID, Username="carl"),
        "User cannot be confirmed. Current status is CONFIRMED",
    )


def admin_user_global_sign_out():
    tokens = password_sign_in("carl", PASSWORD)["AuthenticationResult"]
    public.get_user(AccessToken=tokens["AccessToken"])
    admin.admin_user_global_sign_out(UserPoolId=POOL_ID, Username="carl")
    expect_error("NotAuthorizedException", lambda: public.get_user(AccessToken=tokens["AccessToken"]))
    expect_error(
        "NotAuthorizedException",
        lambda: public.initiate_auth(
            ClientId=PUBLIC_CLIENT,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        ),
    )


def admin_delete_user():
    admin.admin_delete_user(UserPoolId=POOL_ID, Username="carl")
    expect_error("UserNotFoundException", lambda: admin.admin_get_user(UserPoolId=POOL_ID, Username="carl"))
    expect_error("UserNotFoundException", lambda: admin.admin_delete_user(UserPoolId=POOL_ID, Username="carl"))


# --- groups -----------------------------------------------------------------------------------


def groups():
    made = admin.create_group(UserPoolId=POOL_ID, GroupName="editors", Description="Edit", Precedence=3)["Group"]
    expect(made["GroupName"] == "editors" and made["Precedence"] == 3, made)
    expect(isinstance(made["CreationDate"], datetime.datetime), made)
    expect(admin.get_group(UserPoolId=POOL_ID, GroupName="editors")["Group"]["Description"] == "Edit", "get")
    admin.update_group(UserPoolId=POOL_ID, GroupName="editors", Description="Editors")
    expect(admin.get_group(UserPoolId=POOL_ID, GroupName="editors")["Group"]["Description"] == "Editors", "update")
    names = [g["GroupName"] for g in admin.list_groups(UserPoolId=POOL_ID)["Groups"]]
    expect({"admins", "readers", "editors"} <= set(names), names)
    expect_error(
        "GroupExistsException", lambda: admin.create_group(UserPoolId=POOL_ID, GroupName="editors")
    )


def group_membership():
    admin.admin_add_user_to_group(UserPoolId=POOL_ID, Username="bob", GroupName="editors")
    admin.admin_add_user_to_group(UserPoolId=POOL_ID, Username="bob", GroupName="admins")
    mine = [g["GroupName"] for g in admin.admin_list_groups_for_user(UserPoolId=POOL_ID, Username="bob")["Groups"]]
    expect(sorted(mine) == ["admins", "editors"], mine)
    members = [u["Username"] for u in admin.list_users_in_group(UserPoolId=POOL_ID, GroupName="editors")["Users"]]
    expect(members == ["bob"], members)
    tokens = password_sign_in("bob", NEW_PASSWORD)["AuthenticationResult"]
    claims = verify_id_token(tokens["IdToken"], PUBLIC_CLIENT, "bob")
    expect(claims.get("cognito:groups") == ["admins", "editors"], claims.get("cognito:groups"))
    admin.admin_remove_user_from_group(UserPoolId=POOL_ID, Username="bob", GroupName="editors")
    members = admin.list_users_in_group(UserPoolId=POOL_ID, GroupName="editors")["Users"]
    expect(members == [], members)
    expect_error(
        "ResourceNotFoundException",
        lambda: admin.admin_add_user_to_group(UserPoolId=POOL_ID, Username="bob", GroupName="nope"),
    )
    expect_error(
        "UserNotFoundException",
        lambda: admin.admin_add_user_to_group(UserPoolId=POOL_ID, Username="nobody", GroupName="admins"),
    )
    admin.delete_group(UserPoolId=POOL_ID, GroupName="editors")
    expect_error("ResourceNotFoundException", lambda: admin.get_group(UserPoolId=POOL_ID, GroupName="editors"))


# --- ListUsers --------------------------------------------------------------------------------


def list_users_filters():
    for i in range(5):
        admin.admin_create_user(
            UserPoolId=POOL_ID,
            Username=f"page{i}",
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": f"page{i}@paged.example"}],
        )

    def names(flt, **extra):
        users = admin.list_users(UserPoolId=POOL_ID, Filter=flt, **extra)["Users"]
        return sorted(u["Username"] for u in users)

    expect(names('email = "alice@example.com"') == ["alice"], names('email = "alice@example.com"'))
    expect(names('username ^= "page"') == [f"page{i}" for i in range(5)], names('username ^= "page"'))
    expect(names('email ^= "page3@"') == ["page3"], names('email ^= "page3@"'))
    expect(names('cognito:user_status = "UNCONFIRMED"') == ["uma"], names('cognito:user_status = "UNCONFIRMED"'))
    expect(names('username = "nobody"') == [], "no match")
    sub = attrs(admin.admin_get_user(UserPoolId=POOL_ID, Username="alice"), "UserAttributes")["sub"]
    expect(names(f'sub = "{sub}"') == ["alice"], "by sub")
    limited = admin.list_users(UserPoolId=POOL_ID, Filter='username = "alice"', AttributesToGet=["email"])["Users"]
    expect([a["Name"] for a in limited[0]["Attributes"]] == ["email"], limited)
    expect_error(
        "InvalidParameterException", lambda: admin.list_users(UserPoolId=POOL_ID, Filter="email alice")
    )
    expect_error(
        "InvalidParameterException", lambda: admin.list_users(UserPoolId=POOL_ID, Filter='custom:x = "y"')
    )


def list_users_disabled_filter():
    admin.admin_disable_user(UserPoolId=POOL_ID, Username="page4")
    users = admin.list_users(UserPoolId=POOL_ID, Filter='status = "Disabled"')["Users"]
    expect([u["Username"] for u in users] == ["page4"], users)
    admin.admin_enable_user(UserPoolId=POOL_ID, Username="page4")


def list_users_paging():
    seen = []
    token = None
    pages = 0
    while True:
        extra = {"PaginationToken": token} if token else {}
        answer = admin.list_users(UserPoolId=POOL_ID, Filter='username ^= "page"', Limit=2, **extra)
        pages += 1
        expect(len(answer["Users"]) <= 2, answer)
        seen += [u["Username"] for u in answer["Users"]]
        token = answer.get("PaginationToken")
        if not token:
            break
        expect(pages < 10, "paging ends")
    expect(sorted(seen) == [f"page{i}" for i in range(5)], seen)
    expect(len(seen) == 5 and pages == 3, f"{pages} pages: {seen}")
    # botocore's paginator follows the tokens as the CLI does.
    paginator = admin.get_paginator("list_users")
    everyone = [u["Username"] for page in paginator.paginate(UserPoolId=POOL_ID, PaginationConfig={"PageSize": 3}) for u in page["Users"]]
    expect(len(everyone) == len(set(everyone)), everyone)
    expect({"alice", "bob", "nina", "rita", "uma", "page0", "page4"} <= set(everyone), everyone)
    groups = admin.get_paginator("list_groups").paginate(UserPoolId=POOL_ID, PaginationConfig={"PageSize": 1})
    expect({"admins", "readers"} <= {g["GroupName"] for page in groups for g in page["Groups"]}, "groups paged")


# --- public actions, unsigned -----------------------------------------------------------------


def sign_in_and_tokens():
    answer = password_sign_in("alice", PASSWORD)
    tokens = answer["AuthenticationResult"]
    expect(tokens["TokenType"] == "Bearer" and tokens["ExpiresIn"] > 0, tokens)
    claims = verify_id_token(tokens["IdToken"], PUBLIC_CLIENT, "alice")
    expect(claims.get("email") == "alice@example.com" and claims.get("email_verified") is True, claims)
    expect(claims.get("cognito:groups") == ["readers"], claims)
    access = access_claims(tokens["AccessToken"])
    expect(access.get("scope") == "aws.cognito.signin.user.admin", access.get("scope"))
    expect(access.get("client_id") == PUBLIC_CLIENT and access.get("username") == "alice", access)
    state["alice"] = tokens
    # The alias signs in too.
    password_sign_in("alice@example.com", PASSWORD)


def admin_signed_public_call():
    # A signed client may call public actions as well (the signature is ignored).
    admin.initiate_auth(
        ClientId=PUBLIC_CLIENT,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )


def refresh():
    answer = public.initiate_auth(
        ClientId=PUBLIC_CLIENT,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": state["alice"]["RefreshToken"]},
    )["AuthenticationResult"]
    verify_id_token(answer["IdToken"], PUBLIC_CLIENT, "alice")
    expect("AccessToken" in answer, answer)


def sign_in_errors():
    expect_error("NotAuthorizedException", lambda: password_sign_in("alice", "Wrong-Horse-1"), "Incorrect username or password.")
    # ENABLED (the default) hides whether the user exists; LEGACY says so.
    expect_error("NotAuthorizedException", lambda: password_sign_in("nobody", PASSWORD), "Incorrect username or password.")
    expect_error("UserNotFoundException", lambda: password_sign_in("nobody", PASSWORD, LEGACY_CLIENT), "User does not exist.")
    expect_error("UserNotConfirmedException", lambda: password_sign_in("uma", PASSWORD))
    expect_error("PasswordResetRequiredException", lambda: password_sign_in("rita", PASSWORD))
    expect_error("ResourceNotFoundException", lambda: password_sign_in("alice", PASSWORD, "nosuchclient00000000000000"))
    expect_error("InvalidParameterException", lambda: password_sign_in("alice", PASSWORD, SRP_ONLY_CLIENT))
    # A required member missing (botocore would refuse to send it).
    expect_error("InvalidParameterException", lambda: unchecked.initiate_auth(ClientId=PUBLIC_CLIENT, AuthParameters={}))


def get_and_update_user():
    token = state["alice"]["AccessToken"]
    me = public.get_user(AccessToken=token)
    expect(me["Username"] == "alice", me)
    expect(attrs(me, "UserAttributes").get("name") == "Alice", me)
    public.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "name", "Value": "Alice B"}])
    expect(attrs(public.get_user(AccessToken=token), "UserAttributes")["name"] == "Alice B", "updated")
    public.delete_user_attributes(AccessToken=token, UserAttributeNames=["name"])
    expect("name" not in attrs(public.get_user(AccessToken=token), "UserAttributes"), "deleted")
    expect_error("NotAuthorizedException", lambda: public.get_user(AccessToken="not-a-token"))


def verify_new_email():
    token = state["alice"]["AccessToken"]
    answer = public.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "email", "Value": "alice@new.example"}]
    )
    details = answer.get("CodeDeliveryDetailsList", [])
    expect(details and details[0]["AttributeName"] == "email" and details[0]["DeliveryMedium"] == "EMAIL", answer)
    code = code_for("alice@new.example")
    wrong = "000000" if code != "000000" else "111111"
    expect_error(
        "CodeMismatchException",
        lambda: public.verify_user_attribute(AccessToken=token, AttributeName="email", Code=wrong),
    )
    public.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    a = attrs(public.get_user(AccessToken=token), "UserAttributes")
    expect(a["email"] == "alice@new.example" and a["email_verified"] == "true", a)
    # A code on request.
    public.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    code_for("alice@new.example", after=1)


def change_password():
    token = state["alice"]["AccessToken"]
    expect_error(
        "NotAuthorizedException",
        lambda: public.change_password(AccessToken=token, PreviousPassword="Wrong-Horse-1", ProposedPassword=NEW_PASSWORD),
    )
    expect_error(
        "InvalidPasswordException",
        lambda: public.change_password(AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword="weak"),
    )
    public.change_password(AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword=NEW_PASSWORD)
    state["alice"] = password_sign_in("alice", NEW_PASSWORD)["AuthenticationResult"]
    expect_error("NotAuthorizedException", lambda: password_sign_in("alice", PASSWORD))


def global_sign_out():
    tokens = state["alice"]
    public.global_sign_out(AccessToken=tokens["AccessToken"])
    expect_error("NotAuthorizedException", lambda: public.get_user(AccessToken=tokens["AccessToken"]))
    expect_error(
        "NotAuthorizedException",
        lambda: public.initiate_auth(
            ClientId=PUBLIC_CLIENT,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        ),
    )


def revoke_token():
    tokens = password_sign_in("alice", NEW_PASSWORD)["AuthenticationResult"]
    public.revoke_token(Token=tokens["RefreshToken"], ClientId=PUBLIC_CLIENT)
    expect_error(
        "NotAuthorizedException",
        lambda: public.initiate_auth(
            ClientId=PUBLIC_CLIENT,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        ),
    )


def sign_up_and_confirm():
    answer = public.sign_up(
        ClientId=PUBLIC_CLIENT,
        Username="dave",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "dave@example.com"}],
    )
    expect(answer["UserConfirmed"] is False and answer["UserSub"], answer)
    details = answer["CodeDeliveryDetails"]
    expect(details["DeliveryMedium"] == "EMAIL" and details["AttributeName"] == "email", details)
    expect(details["Destination"] != "dave@example.com" and "*" in details["Destination"], details)
    expect_error("UserNotConfirmedException", lambda: password_sign_in("dave", PASSWORD))
    # Another code within the resend interval is refused.
    expect_error("LimitExceededException", lambda: public.resend_confirmation_code(ClientId=PUBLIC_CLIENT, Username="dave"))
    code = code_for("dave@example.com")
    wrong = "000000" if code != "000000" else "111111"
    expect_error(
        "CodeMismatchException",
        lambda: public.confirm_sign_up(ClientId=PUBLIC_CLIENT, Username="dave", ConfirmationCode=wrong),
        "Invalid verification code provided, please try again.",
    )
    public.confirm_sign_up(ClientId=PUBLIC_CLIENT, Username="dave", ConfirmationCode=code)
    user = admin.admin_get_user(UserPoolId=POOL_ID, Username="dave")
    expect(user["UserStatus"] == "CONFIRMED", user)
    expect(attrs(user, "UserAttributes").get("email_verified") == "true", user)
    verify_id_token(password_sign_in("dave", PASSWORD)["AuthenticationResult"]["IdToken"], PUBLIC_CLIENT, "dave")
    expect_error(
        "InvalidParameterException",
        lambda: public.resend_confirmation_code(ClientId=PUBLIC_CLIENT, Username="dave"),
    )


def sign_up_errors():
    expect_error(
        "UsernameExistsException",
        lambda: public.sign_up(ClientId=LEGACY_CLIENT, Username="alice", Password=PASSWORD,
                               UserAttributes=[{"Name": "email", "Value": "other@example.com"}]),
        "User already exists",
    )
    expect_error(
        "InvalidPasswordException",
        lambda: public.sign_up(ClientId=PUBLIC_CLIENT, Username="erin", Password="short",
                               UserAttributes=[{"Name": "email", "Value": "erin@example.com"}]),
    )
    expect_error(
        "ResourceNotFoundException",
        lambda: public.sign_up(ClientId="nosuchclient00000000000000", Username="erin", Password=PASSWORD),
    )


def forgot_password():
    answer = public.forgot_password(ClientId=PUBLIC_CLIENT, Username="dave")
    expect(answer["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL", answer)
    code = code_for("dave@example.com", after=1)
    wrong = "000000" if code != "000000" else "111111"
    expect_error(
        "CodeMismatchException",
        lambda: public.confirm_forgot_password(ClientId=PUBLIC_CLIENT, Username="dave", ConfirmationCode=wrong, Password=NEW_PASSWORD),
    )
    expect_error(
        "InvalidPasswordException",
        lambda: public.confirm_forgot_password(ClientId=PUBLIC_CLIENT, Username="dave", ConfirmationCode=code, Password="weak"),
    )
    public.confirm_forgot_password(ClientId=PUBLIC_CLIENT, Username="dave", ConfirmationCode=code, Password=NEW_PASSWORD)
    password_sign_in("dave", NEW_PASSWORD)
    # A code is good once.
    expect_error(
        "ExpiredCodeException",
        lambda: public.confirm_forgot_password(ClientId=PUBLIC_CLIENT, Username="dave", ConfirmationCode=code, Password=PASSWORD),
        "Invalid code provided, please request a code again.",
    )
    # An unknown user under ENABLED gets a plausible answer; under LEGACY, the truth.
    hidden = public.forgot_password(ClientId=PUBLIC_CLIENT, Username="nobody")
    expect(hidden["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL", hidden)
    expect_error("UserNotFoundException", lambda: public.forgot_password(ClientId=LEGACY_CLIENT, Username="nobody"))


def too_many_wrong_codes():
    public.sign_up(
        ClientId=PUBLIC_CLIENT,
        Username="tina",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "tina@example.com"}],
    )
    code = code_for("tina@example.com")
    wrong = "000000" if code != "000000" else "111111"
    codes = []
    for _ in range(12):
        try:
            public.confirm_sign_up(ClientId=PUBLIC_CLIENT, Username="tina", ConfirmationCode=wrong)
            raise AssertionError("a wrong code was accepted")
        except Exception as e:  # noqa: BLE001
            codes.append(error_code(e))
        if codes[-1] != "CodeMismatchException":
            break
    expect(codes[-1] == "TooManyFailedAttemptsException", codes)
    expect(set(codes[:-1]) == {"CodeMismatchException"} and len(codes) > 2, codes)
    # Even the right code is refused now.
    expect_error(
        "TooManyFailedAttemptsException",
        lambda: public.confirm_sign_up(ClientId=PUBLIC_CLIENT, Username="tina", ConfirmationCode=code),
    )


def confidential_client():
    sign_in = lambda params: public.initiate_auth(  # noqa: E731
        ClientId=CONFIDENTIAL_CLIENT, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params
    )
    tokens = sign_in({"USERNAME": "dave", "PASSWORD": NEW_PASSWORD, "SECRET_HASH": secret_hash("dave")})
    verify_id_token(tokens["AuthenticationResult"]["IdToken"], CONFIDENTIAL_CLIENT, "dave")
    expect_error("NotAuthorizedException", lambda: sign_in({"USERNAME": "dave", "PASSWORD": NEW_PASSWORD}))
    expect_error(
        "NotAuthorizedException",
        lambda: sign_in({"USERNAME": "dave", "PASSWORD": NEW_PASSWORD, "SECRET_HASH": secret_hash("dave", secret="wrong")}),
        "Unable to verify secret hash",
    )
    public.sign_up(
        ClientId=CONFIDENTIAL_CLIENT,
        SecretHash=secret_hash("frank"),
        Username="frank",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "frank@example.com"}],
    )
    code = code_for("frank@example.com")
    public.confirm_sign_up(ClientId=CONFIDENTIAL_CLIENT, SecretHash=secret_hash("frank"), Username="frank", ConfirmationCode=code)
    refreshed = public.initiate_auth(
        ClientId=CONFIDENTIAL_CLIENT,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["AuthenticationResult"]["RefreshToken"], "SECRET_HASH": secret_hash("dave")},
    )
    verify_id_token(refreshed["AuthenticationResult"]["IdToken"], CONFIDENTIAL_CLIENT, "dave")
    expect(CONFIDENTIAL_SECRET, "secret given")


def delete_user_self():
    tokens = password_sign_in("dave", NEW_PASSWORD)["AuthenticationResult"]
    public.delete_user(AccessToken=tokens["AccessToken"])
    expect_error("UserNotFoundException", lambda: admin.admin_get_user(UserPoolId=POOL_ID, Username="dave"))


# --- who may call what ------------------------------------------------------------------------


def signature_errors():
    expect_error(
        "InvalidSignatureException",
        lambda: client(secret="wrong-secret").get_user_pool_mfa_config(UserPoolId=POOL_ID),
    )
    expect_error(
        "UnrecognizedClientException",
        lambda: client(key="AKIANOSUCHKEY0000000").get_user_pool_mfa_config(UserPoolId=POOL_ID),
    )
    expect_error("MissingAuthenticationTokenException", lambda: public.get_user_pool_mfa_config(UserPoolId=POOL_ID))


def key_permissions():
    reader = client(key=READ_KEY)
    reader.get_user_pool_mfa_config(UserPoolId=POOL_ID)
    expect_error(
        "AccessDeniedException",
        lambda: reader.admin_create_user(UserPoolId=POOL_ID, Username="x", MessageAction="SUPPRESS"),
    )
    reader.admin_get_user(UserPoolId=POOL_ID, Username="alice")
    expect_error("InvalidSignatureException", lambda: client(secret="wrong-secret").list_users(UserPoolId=POOL_ID))


for name, step in [
    ("DescribeUserPool", describe_pool),
    ("DescribeUserPoolClient", describe_client),
    ("ListUserPools and ListUserPoolClients", list_pools_and_clients),
    ("GetUserPoolMfaConfig", mfa_config),
    ("AdminCreateUser (SUPPRESS)", admin_create_user),
    ("AdminCreateUser sends an invitation", admin_create_user_sends_invitation),
    ("AdminCreateUser errors", admin_create_user_errors),
    ("AdminGetUser (and an alias, UserNotFoundException)", admin_get_user),
    ("AdminInitiateAuth NEW_PASSWORD_REQUIRED and AdminRespondToAuthChallenge", new_password_required),
    ("AdminSetUserPassword", admin_set_user_password),
    ("AdminUpdateUserAttributes and AdminDeleteUserAttributes", admin_update_and_delete_attributes),
    ("AliasExistsException", alias_exists),
    ("AdminDisableUser and AdminEnableUser", disable_and_enable),
    ("AdminResetUserPassword", admin_reset_user_password),
    ("AdminConfirmSignUp", admin_confirm_sign_up),
    ("AdminUserGlobalSignOut", admin_user_global_sign_out),
    ("AdminDeleteUser", admin_delete_user),
    ("groups", groups),
    ("group membership and cognito:groups", group_membership),
    ("ListUsers filters", list_users_filters),
    ("ListUsers status filter", list_users_disabled_filter),
    ("ListUsers paging", list_users_paging),
    ("InitiateAuth USER_PASSWORD_AUTH unsigned", sign_in_and_tokens),
    ("public action from a signed client", admin_signed_public_call),
    ("REFRESH_TOKEN_AUTH", refresh),
    ("sign-in errors", sign_in_errors),
    ("GetUser, UpdateUserAttributes, DeleteUserAttributes", get_and_update_user),
    ("new email verified by code", verify_new_email),
    ("ChangePassword", change_password),
    ("GlobalSignOut", global_sign_out),
    ("RevokeToken", revoke_token),
    ("SignUp, ResendConfirmationCode, ConfirmSignUp", sign_up_and_confirm),
    ("SignUp errors", sign_up_errors),
    ("ForgotPassword and ConfirmForgotPassword", forgot_password),
    ("TooManyFailedAttemptsException after wrong codes", too_many_wrong_codes),
    ("confidential client SECRET_HASH", confidential_client),
    ("DeleteUser", delete_user_self),
    ("SigV4 errors", signature_errors),
    ("a key limited to some actions (AccessDeniedException)", key_permissions),
]:
    check(name, step)
finish()
