"""Pre token generation handlers (docs/triggers.md, "Pre token generation"): a V1 answer that
edits the ID token and the groups, a V2/V3 answer that edits both tokens and the scopes, and one
with a wrong-typed field. Each names the event's trigger source in a claim, so a test sees which
event its tokens came from; each also tries to change protected claims."""


def v1(event):
    event["response"]["claimsOverrideDetails"] = {
        "claimsToAddOrOverride": {
            "tier": "gold",
            "source": event["triggerSource"],
            "sub": "not-the-user",
            "iss": "https://evil.example.com",
            "token_use": "access",
        },
        "claimsToSuppress": ["email", "aud"],
        "groupOverrideDetails": {
            "groupsToOverride": ["hooked", "editors"],
            "iamRolesToOverride": ["arn:aws:iam::123456789012:role/hooked"],
            "preferredRole": "arn:aws:iam::123456789012:role/hooked",
        },
    }
    return 200, event


def v2(event):
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "idTokenGeneration": {
            "claimsToAddOrOverride": {
                "plan": "pro",
                "flags": {"beta": True, "limits": [1, 2]},
                "source": event["triggerSource"],
                "sub": "not-the-user",
                "aud": "someone-else",
            },
            "claimsToSuppress": ["email"],
        },
        "accessTokenGeneration": {
            "claimsToAddOrOverride": {
                "plan": "pro",
                "seats": 7,
                "dropped": "x",
                "source": event["triggerSource"],
                "iss": "https://evil.example.com",
                "token_use": "id",
                "scope": "everything",
            },
            "claimsToSuppress": ["dropped", "client_id"],
            "scopesToAdd": ["https://api.example.com/extra"],
            "scopesToSuppress": ["email"],
        },
    }
    return 200, event


def bad_type(event):
    event["response"]["claimsOverrideDetails"] = {"claimsToSuppress": "email"}
    return 200, event


ROUTES = {
    "/v1": v1,
    "/v2": v2,
    "/bad-type": bad_type,
}
