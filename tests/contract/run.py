"""Schemathesis against the running platform, as each kind of caller.

Run by scripts/contract.sh (part of `make test`): logs the seeded accounts in, then runs
`schemathesis run <base>/openapi.json` once per caller (anonymous, seeker, employer, admin;
two at a time, see GROUPS) with every check and every phase, a fixed seed (the same cases each run) and
tests/contract/schemathesis.toml. Exits non-zero if any run found a failure.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PHASES = "examples,coverage,fuzzing,stateful"


def login(base: str, email: str, password: str) -> str:
    req = urllib.request.Request(
        f"{base}/auth/login",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["access_token"]


def register(base: str, password: str) -> str:
    """A new seeker's access token: the caller's spare account (see schemathesis.toml)."""
    body = {"email": f"contract-spare-{uuid.uuid4().hex[:12]}@example.com", "password": password,
            "full_name": "Spare Account", "role": "seeker"}
    req = urllib.request.Request(
        f"{base}/auth/register", data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "idempotency-key": str(uuid.uuid4())}, method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["access_token"]


# Callers run two at a time (the machine has two cores and one run keeps about one busy).
# The admin may suspend or erase accounts and deactivate categories, so it never runs beside
# the seeker or the employer, whose runs use them; the anonymous caller uses none of them.
GROUPS = [["seeker", "employer"], ["admin", "anonymous"]]


def start(args, accounts, caller):
    """Starts schemathesis as `caller`; returns (process, log path, start time)."""
    st = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    cmd = [
        st, "--config-file", os.path.join(HERE, "schemathesis.toml"), "run", f"{args.url}/openapi.json",
        "--phases", PHASES, "--checks", "all", "--seed", "20261206", "--workers", "1",
        "--report", "junit", "--report-dir", os.path.join(args.reports, caller),
    ]
    # The routes that end the caller's own session (DELETE /me, POST /auth/logout) are
    # called with a spare account's token (schemathesis.toml), so the rest of the run
    # is not all 401.
    spare = "anonymous"
    if caller != "anonymous":
        # Logged in right before its run: an access token lives 15 minutes.
        token = login(args.url, accounts[caller], accounts["password"])
        cmd += ["--header", f"Authorization: Bearer {token}"]
        spare = register(args.url, accounts["password"])
    cmd += args.extra.split()
    log = os.path.join(args.reports, f"{caller}.log")
    os.makedirs(args.reports, exist_ok=True)
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": HERE, "CONTRACT_BASE": args.url,
           "CONTRACT_SPARE_TOKEN": spare}
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    return proc, log, time.monotonic()


def finish(caller, proc, log, started) -> bool:
    """Waits for one caller's run and prints its summary (and its output when it failed)."""
    rc = proc.wait()
    text = open(log).read()
    # schemathesis ends with a line such as "==== 1 failure, 3 warnings in 145.23s ====".
    summary = [l.strip("= ") for l in text.splitlines() if re.fullmatch(r"=+ .* in [0-9.]+s =+", l.strip())]
    print(f"  {caller}: exit {rc} in {time.monotonic() - started:.0f} s ({summary[-1] if summary else 'no summary'})", flush=True)
    if rc != 0:
        print(text[-20000:], flush=True)
    return rc == 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--accounts", required=True)
    ap.add_argument("--reports", required=True)
    ap.add_argument("--callers", default="anonymous,seeker,employer,admin")
    ap.add_argument("--extra", default="", help="more schemathesis options, space separated")
    args = ap.parse_args()
    accounts = json.load(open(args.accounts))
    wanted = args.callers.split(",")
    unknown = [c for c in wanted if c not in sum(GROUPS, [])]
    if unknown:
        print(f"unknown callers: {', '.join(unknown)}", file=sys.stderr)
        return 2
    failed = []
    for group in GROUPS:
        runs = [(caller, *start(args, accounts, caller)) for caller in group if caller in wanted]
        failed += [caller for caller, proc, log, started in runs if not finish(caller, proc, log, started)]
    if failed:
        print(f"schemathesis found failures as: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
