"""Message hooks (tests/it/triggers_messages.rs): a custom message hook that writes its own
text around Cognito's placeholders, one that forgets the code placeholder, and custom email
senders: one that accepts every message (the test reads the code from its request) and one
that is down for its first two deliveries."""

import threading


def custom_message(event):
    request = event["request"]
    code = request["codeParameter"]
    name = request["userAttributes"].get("name", event["userName"])
    source = event["triggerSource"]
    response = {"smsMessage": None, "emailMessage": None, "emailSubject": None}
    if source == "CustomMessage_SignUp":
        response["emailSubject"] = "Welcome to the test pool"
        response["emailMessage"] = f"Hello {name}, confirm with {code} (from the hook)."
    elif source == "CustomMessage_ForgotPassword":
        response["emailSubject"] = "Reset, from the hook"
        response["emailMessage"] = f"<p>Your reset code is <b>{code}</b>.</p>"
    elif source == "CustomMessage_AdminCreateUser":
        username = request["usernameParameter"]
        response["emailSubject"] = "You are invited"
        response["emailMessage"] = f"Sign in as {username} with {code}. Metadata: " + (
            request.get("clientMetadata") or {}
        ).get("campaign", "none")
    # Any other source: the pool's templates.
    event["response"] = response
    return 200, event


def no_placeholder(event):
    event["response"] = {"emailMessage": "Welcome! (the code is missing)"}
    return 200, event


def email_sender(event):
    # A sender's answer is not read: an empty object will do.
    return 200, {}


_flaky_lock = threading.Lock()
_flaky_calls = [0]


def flaky_sender(event):
    with _flaky_lock:
        _flaky_calls[0] += 1
        calls = _flaky_calls[0]
    if calls <= 2:
        return 503, {"errorMessage": "mail provider unavailable"}
    return 200, {}


ROUTES = {
    "/custom-message": custom_message,
    "/no-placeholder": no_placeholder,
    "/email-sender": email_sender,
    "/flaky-sender": flaky_sender,
}
