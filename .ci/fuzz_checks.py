"""Schemathesis checks of smart2fa's own (loaded by .ci/fuzz.sh through SCHEMATHESIS_HOOKS).

error_envelope: every error answer of /2fa is the JSON envelope of docs/api.md,
{"code": <the HTTP status>, "errorCode": <int>, "message": "<text>", "moreInfo": "/2fa/errors#<int>"},
served as application/json: never an empty body, an HTML page or a plain-text message.
"""
import json

import schemathesis


@schemathesis.check
def error_envelope(ctx, response, case):
    status = response.status_code
    if status < 400:
        return None
    content_type = ",".join(response.headers.get("content-type", []))
    if not content_type.split(";")[0].strip().lower() == "application/json":
        raise AssertionError(
            f"{status} answered with content type {content_type!r} instead of the JSON error envelope; "
            f"body: {response.content[:300]!r}"
        )
    try:
        body = json.loads(response.content)
    except ValueError as err:
        raise AssertionError(f"{status} answered a body that is not JSON ({err}): {response.content[:300]!r}")
    if not isinstance(body, dict):
        raise AssertionError(f"{status} answered {body!r} instead of the error envelope")
    problems = []
    if body.get("code") != status:
        problems.append(f"code is {body.get('code')!r}, not the HTTP status {status}")
    error_code = body.get("errorCode")
    if not isinstance(error_code, int) or isinstance(error_code, bool):
        problems.append(f"errorCode is {error_code!r}, not an integer")
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        problems.append(f"message is {message!r}, not a text")
    if body.get("moreInfo") != f"/2fa/errors#{error_code}":
        problems.append(f"moreInfo is {body.get('moreInfo')!r}, not '/2fa/errors#{error_code}'")
    if problems:
        raise AssertionError(f"{status} error envelope: " + "; ".join(problems) + f"\nbody: {body!r}")
    return None
