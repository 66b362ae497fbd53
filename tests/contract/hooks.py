"""schemathesis hooks of the contract run (SCHEMATHESIS_HOOKS=hooks, set by run.py): test data
that no schema can describe.
"""

import os
from datetime import datetime, timedelta, timezone

import schemathesis


# Passwords on the list of commonly used ones are refused (422 "too common"). The document
# lists them (`NewPassword`: not one of), but the platform compares in any case, which a
# schema cannot say: generated bodies that pick one in other letters are left out.
_COMMON = set()
_LIST = os.path.join(os.path.dirname(__file__), "..", "..", "functions", "auth", "data", "common-passwords.txt")
for _line in open(_LIST, encoding="utf-8"):
    _line = _line.strip()
    if _line and not _line.startswith("#"):
        _COMMON.add(_line.lower())


@schemathesis.hook
def filter_body(context, body):
    if isinstance(body, dict):
        for field in ("password", "new_password"):
            value = body.get(field)
            if isinstance(value, str) and value.lower() in _COMMON:
                return False
    return True


# A position ends after it starts ("end must not be before start"): generated experience
# and education entries whose months are the wrong way round are put right.
def _months_in_order(entries):
    if not isinstance(entries, list):
        return entries
    out = []
    for e in entries:
        if isinstance(e, dict) and isinstance(e.get("start"), str) and isinstance(e.get("end"), str) and e["end"] < e["start"]:
            e = {**e, "start": e["end"], "end": e["start"]}
        out.append(e)
    return out


# An interview is scheduled in the future ("must be in the future", 422); a generated time
# that parses but has passed is moved a year past now, keeping malformed ones malformed.
@schemathesis.hook
def map_body(context, body):
    if isinstance(body, dict):
        for field in ("experience", "education"):
            if field in body:
                body = {**body, field: _months_in_order(body[field])}
    if isinstance(body, dict) and isinstance(body.get("scheduled_at"), str):
        try:
            at = datetime.fromisoformat(body["scheduled_at"].replace("Z", "+00:00"))
        except ValueError:
            return body
        if at.tzinfo is not None and at <= datetime.now(timezone.utc) + timedelta(minutes=5):
            body = {**body, "scheduled_at": (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return body
