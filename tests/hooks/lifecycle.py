"""Handlers of the lifecycle trigger tests (tests/it/triggers_lifecycle.rs): pre sign-up confirms
example.com addresses and refuses names that ask for it, pre authentication blocks users marked
so, and the post hooks fail for users whose names say so (every event is recorded by the
service)."""


def _refuse(message):
    return 400, {"errorMessage": message}


def pre_sign_up(event):
    name = event["userName"]
    request = event["request"]
    validation = request.get("validationData") or {}
    if "refused" in name or validation.get("deny") == "yes":
        return _refuse(f"Sign-ups are closed for {name}")
    email = request["userAttributes"].get("email", "")
    if email.endswith("@example.com"):
        event["response"]["autoConfirmUser"] = True
        event["response"]["autoVerifyEmail"] = True
    if validation.get("verify_phone") == "yes":
        event["response"]["autoVerifyPhone"] = True
    return 200, event


def post_confirmation(event):
    if event["userName"].startswith("grumpy"):
        return _refuse("Welcome mail bounced")
    return 200, event


def pre_authentication(event):
    attributes = event["request"]["userAttributes"]
    if event["userName"].startswith("blocked") or attributes.get("custom:blocked") == "yes":
        return _refuse(f"Sign-in blocked for {event['userName']}")
    return 200, event


def post_authentication(event):
    if event["userName"].startswith("late"):
        return _refuse("Audit log unavailable")
    return 200, {"response": {}}


ROUTES = {
    "/pre-sign-up": pre_sign_up,
    "/post-confirmation": post_confirmation,
    "/pre-authentication": pre_authentication,
    "/post-authentication": post_authentication,
}
