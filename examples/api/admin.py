"""Create a user with boto3's admin API, give it a password and sign it in (docs/api.md).

    GATEHOUSE_ENDPOINT=http://127.0.0.1:8080/ GATEHOUSE_POOL_ID=local_Example01 \
    GATEHOUSE_CLIENT_ID=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
    python3 examples/api/admin.py grace Grace-Passw0rd grace@example.com
"""

import os
import sys

import boto3
import botocore
from botocore.config import Config

endpoint = os.environ.get("GATEHOUSE_ENDPOINT", "http://127.0.0.1:8080/")
pool_id = os.environ.get("GATEHOUSE_POOL_ID", "local_Example01")
client_id = os.environ["GATEHOUSE_CLIENT_ID"]
username, password, email = sys.argv[1:4]

# Admin actions are signed with the key of an [[api_credentials]] entry
# (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY); any region name works.
admin = boto3.client("cognito-idp", endpoint_url=endpoint, region_name="local")
# Public actions need no credentials at all.
public = boto3.client(
    "cognito-idp",
    endpoint_url=endpoint,
    region_name="local",
    config=Config(signature_version=botocore.UNSIGNED),
)

user = admin.admin_create_user(
    UserPoolId=pool_id,
    Username=username,
    MessageAction="SUPPRESS",
    UserAttributes=[
        {"Name": "email", "Value": email},
        {"Name": "email_verified", "Value": "true"},
    ],
)["User"]
print("created", user["Username"], user["UserStatus"])

admin.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)

tokens = public.initiate_auth(
    ClientId=client_id,
    AuthFlow="USER_PASSWORD_AUTH",
    AuthParameters={"USERNAME": username, "PASSWORD": password},
)["AuthenticationResult"]
print("signed in, access token expires in", tokens["ExpiresIn"], "seconds")

me = public.get_user(AccessToken=tokens["AccessToken"])
print("GetUser:", {a["Name"]: a["Value"] for a in me["UserAttributes"]}["email"])

try:
    admin.admin_get_user(UserPoolId=pool_id, Username=username + "-nobody")
except admin.exceptions.UserNotFoundException as e:
    print("as expected:", e.response["Error"]["Code"])
