"""Handlers every trigger test may use: an echo, a refusal, a non-event answer, a wrong-typed
field and a hook too slow to answer."""

import time


def echo(event):
    return 200, event


def refuse(event):
    return 400, {"errorMessage": "Refused by the test hook"}


def not_an_event(event):
    return 200, "Bad Password"


def slow(event):
    time.sleep(10)
    return 200, event


ROUTES = {
    "/echo": echo,
    "/refuse": refuse,
    "/not-an-event": not_an_event,
    "/slow": slow,
}
