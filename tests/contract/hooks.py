"""schemathesis hooks of the contract run (SCHEMATHESIS_HOOKS=hooks, set by run.py): test data
that no schema can describe.
"""

import json
import os
import re
import urllib.request
import uuid
from datetime import date, datetime, timedelta, timezone

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


# The rules below hold between fields, or name live things, so no schema states them; they
# are applied in `before_call`, which runs before every request of every phase (the coverage
# phase, which sends each field's boundary values, too), to the cases meant to be accepted.
# Values are reordered, partners added, or replaced within their declared form only.


# A position ends after it starts ("end must not be before start"): experience and
# education entries whose months are the wrong way round are put right.
def _months_in_order(entries):
    if not isinstance(entries, list):
        return entries
    out = []
    for e in entries:
        if isinstance(e, dict) and isinstance(e.get("start"), str) and isinstance(e.get("end"), str) and e["end"] < e["start"]:
            e = {**e, "start": e["end"], "end": e["start"]}
        out.append(e)
    return out


# A salary range has `min <= max` (a job's `salary`, a profile's `salary_expectation`): two
# whole amounts the wrong way round are swapped (both fields share one range, so a swapped
# pair breaks or keeps the other bounds exactly as before; whole amounts may come as `3.0`).
def _amount(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _salary_in_order(salary):
    if isinstance(salary, dict):
        low, high = salary.get("min"), salary.get("max")
        if _amount(low) and _amount(high) and low > high:
            return {**salary, "min": high, "max": low}
    return salary


# An interview's time and a job's application deadline lie in the future and within a year
# (422 "must be in the future", "must be within a year"): a generated time that parses but
# lies outside is moved a month past now, keeping malformed ones malformed.
def _in_window(value):
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return value
    now = datetime.now(timezone.utc)
    if at.tzinfo is not None and not (now + timedelta(minutes=5) < at < now + timedelta(days=360)):
        return (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _whole(value):
    try:
        return int(str(value).strip())
    except ValueError:
        return None


# The searches' rules between filters (GET /jobs, /search/jobs, /candidates, and a saved
# search's query): an amount needs its currency and the lower amount comes first; lat, lon
# and radius_km go together, and include_remote needs them; sorting by relevance needs a
# `q`. Missing partners are added with valid values and amounts put in order; a value that
# is there is never changed, so a malformed one stays malformed.
def _filters_in_order(query):
    if not isinstance(query, dict):
        return
    if any(k in query for k in ("salary_min", "salary_max")) and str(query.get("currency", "")).strip() == "":
        query["currency"] = "EUR"
    low, high = _whole(query.get("salary_min", "")), _whole(query.get("salary_max", ""))
    if low is not None and high is not None and low > high:
        query["salary_min"], query["salary_max"] = query["salary_max"], query["salary_min"]
    radius = ("lat", "lon", "radius_km")
    if any(k in query for k in radius) or str(query.get("include_remote", "")).strip() == "true":
        for k, v in zip(radius, ("52.52", "13.4", "25")):
            if str(query.get(k, "")).strip() == "":
                query[k] = v
    if str(query.get("sort", "")).strip() == "relevance" and str(query.get("q", "")).strip() == "":
        query["q"] = "engineer"


_SEARCHES = {"/jobs", "/search/jobs", "/candidates"}


# An analytics range runs `from` on or before `to` (today when not given), at most 366 days:
# a range that does not is given a `to` 29 days after `from`.
def _range_in_order(query):
    try:
        start = date.fromisoformat(str(query["from"]))
    except (KeyError, ValueError):
        return
    raw_end = query.get("to")
    try:
        end = date.today() if raw_end in (None, "") else date.fromisoformat(str(raw_end))
    except ValueError:
        return
    if start > end or (end - start).days + 1 > 366:
        try:
            query["to"] = (start + timedelta(days=29)).isoformat()
        except OverflowError:
            query["to"] = start.isoformat()

# A job's category is the slug of an active one (a well-formed slug naming none is a 422 on
# `category`, as a live code is): a well-formed one is replaced by a slug the platform has.
_SLUG = re.compile(r"^\s*[a-z0-9]([a-z0-9-]{0,58}[a-z0-9])?\s*$")
_live_categories = []


def _live_category():
    if not _live_categories:
        with urllib.request.urlopen(f"{os.environ['CONTRACT_BASE']}/categories", timeout=30) as r:
            _live_categories.extend(c["slug"] for c in json.load(r)["items"])
    return _live_categories[0]


# An Idempotency-Key names one request: sent again with another body it is refused (422
# `idempotency_key_reused`), so each call gets a key of its own, in the same form.
_KEY = re.compile(r"^[ \t]*[!-~]{1,255}[ \t]*$")


# The audit log is read by entity (`entity_type` and `entity_id`) or by actor (`actor_id`),
# one of the two: a missing partner is added, and an actor wins over a partial entity.
def _audit_filter(query):
    given = {k: str(query.get(k, "")) for k in ("entity_type", "entity_id", "actor_id")}
    if given["actor_id"]:
        query["entity_type"] = query["entity_id"] = ""
    elif given["entity_type"] or given["entity_id"]:
        query["entity_type"] = query.get("entity_type") or "job"
        query["entity_id"] = query.get("entity_id") or "01M95GMRGCPYBWGYVBM276131P"
    else:
        query["actor_id"] = "01M95GMRGCPYBWGYVBM276131P"


@schemathesis.hook
def before_call(context, case, **kwargs):
    # Only cases meant to be accepted are mended: a negative case is left as generated (an
    # edit makes schemathesis re-derive the case's mode, and a case missing its
    # Authorization header would be sent with it again).
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return
    if case.method.upper() == "GET" and case.path in _SEARCHES and isinstance(case.query, dict):
        _filters_in_order(case.query)
    if case.method.upper() == "GET" and "analytics" in case.path and isinstance(case.query, dict):
        _range_in_order(case.query)
    if case.method.upper() == "GET" and case.path == "/admin/audit":
        if case.query is None:
            case.query = {}
        _audit_filter(case.query)
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and _KEY.match(value):
            headers[name] = f"contract-{uuid.uuid4()}"
    body = case.body
    if not isinstance(body, dict):
        return
    if case.path in ("/jobs", "/jobs/{id}") and isinstance(body.get("category"), str) and _SLUG.match(body["category"]):
        body["category"] = _live_category()
    if case.method.upper() == "POST" and case.path == "/me/saved-searches":
        _filters_in_order(body.get("query"))
    for field in ("experience", "education"):
        if field in body:
            body[field] = _months_in_order(body[field])
    for field in ("salary", "salary_expectation"):
        if field in body:
            body[field] = _salary_in_order(body[field])
    for field in ("scheduled_at", "application_deadline"):
        if isinstance(body.get(field), str):
            body[field] = _in_window(body[field])
