"""A three-question custom challenge, written as Cognito's define / create / verify Lambdas
would be: tokens after three right answers, failure after any wrong one. The expected answer
travels only in privateChallengeParameters."""

QUESTIONS = [
    ("What is 2 + 3?", "5"),
    ("Which colour is the sky on a clear day?", "blue"),
    ("How many legs has a spider?", "8"),
]


def define(event):
    session = event["request"]["session"]
    response = event["response"]
    if event["request"].get("userNotFound"):
        # Plausible questions for a name no user has; never tokens.
        response.update(issueTokens=False, failAuthentication=len(session) >= 3,
                        challengeName="CUSTOM_CHALLENGE")
        return 200, event
    if session and session[0]["challengeName"] == "SRP_A":
        session = session[1:]
    if any(not item["challengeResult"] for item in session):
        response.update(issueTokens=False, failAuthentication=True)
    elif len(session) >= len(QUESTIONS):
        response.update(issueTokens=True, failAuthentication=False)
    else:
        response.update(issueTokens=False, failAuthentication=False,
                        challengeName="CUSTOM_CHALLENGE")
    return 200, event


def create(event):
    session = [s for s in event["request"]["session"] if s["challengeName"] == "CUSTOM_CHALLENGE"]
    round_ = len(session)
    question, answer = QUESTIONS[round_ % len(QUESTIONS)]
    event["response"].update(
        publicChallengeParameters={"question": question, "round": str(round_ + 1)},
        privateChallengeParameters={"answer": answer, "secretNote": "private-" + str(round_)},
        challengeMetadata=f"QUESTION_{round_ + 1}",
    )
    return 200, event


def verify(event):
    expected = event["request"]["privateChallengeParameters"].get("answer")
    given = event["request"]["challengeAnswer"]
    event["response"]["answerCorrect"] = given.strip().lower() == expected
    return 200, event


def define_maybe(event):
    event["response"].update(issueTokens="maybe", failAuthentication=False)
    return 200, event


def define_refuse(event):
    return 400, {"errorMessage": "No custom sign-in today"}


ROUTES = {
    "/challenge/define": define,
    "/challenge/create": create,
    "/challenge/verify": verify,
    "/challenge/define-maybe": define_maybe,
    "/challenge/define-refuse": define_refuse,
}
