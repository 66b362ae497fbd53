"""A seeker's and an employer's journey through a client generated from docs/openapi.json.

Run by scripts/contract.sh (part of `make test`) after openapi-python-client (pinned) has
generated the package: every call below goes through the generated functions and models,
so a document that does not describe the API (a wrong field, type, status or operation)
breaks here the way it would break a Flutter or web client generated from it.

The employer is the seeded, verified one (verification needs a mailed code); the seeker
registers through the client.
"""

import argparse
import importlib
import json
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--accounts", required=True)
    ap.add_argument("--package", default="client")
    args = ap.parse_args()
    accounts = json.load(open(args.accounts))
    pkg = args.package

    def mod(name):
        return importlib.import_module(f"{pkg}.{name}")

    Client = mod("client").Client
    AuthenticatedClient = mod("client").AuthenticatedClient
    m = mod("models")
    api = lambda path: mod(f"api.{path}")  # noqa: E731

    def ok(resp, status, what):
        if resp.status_code != status:
            raise AssertionError(f"{what}: expected {status}, got {int(resp.status_code)} {resp.content[:500]!r}")
        return resp.parsed

    anon = Client(base_url=args.url, raise_on_unexpected_status=True)

    # Employer: signs in, finds the company, posts a job.
    session = ok(api("auth.auth_login").sync_detailed(
        client=anon, body=m.LoginBody(email=accounts["employer"], password=accounts["password"])), 200, "employer login")
    assert isinstance(session, m.SessionResponse) and session.user.role == m.Role.EMPLOYER
    employer = AuthenticatedClient(base_url=args.url, token=session.access_token, raise_on_unexpected_status=True)
    mine = ok(api("jobs.jobs_mine").sync_detailed(client=employer, limit=5), 200, "my jobs")
    assert mine.items, "the seeded employer has jobs"
    company_id = mine.items[0].company_id
    category = mine.items[0].category
    deadline = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    job = ok(api("jobs.jobs_create").sync_detailed(client=employer, idempotency_key=str(uuid.uuid4()), body=m.CreateJob(
        company_id=company_id,
        title="Contract Test Engineer",
        description="Keeps the generated clients honest.",
        category=category,
        employment_type=m.EmploymentType.FULL_TIME,
        experience_level=m.ExperienceLevel.SENIOR,
        workplace=m.Workplace.REMOTE,
        location=m.Location(city="Berlin", country="DE"),
        salary=m.Salary(min_=60000, max_=80000, currency="EUR", period=m.SalaryPeriod.YEAR),
        skills=["rust", "openapi"],
        application_deadline=deadline,
        status=m.OwnerStatus.PUBLISHED,
    )), 201, "post a job")
    assert isinstance(job, m.JobView) and job.status == m.JobStatus.PUBLISHED and job.accepting_applications

    # Seeker: registers, fills in the profile, reads the job, applies.
    email = f"journey-{uuid.uuid4().hex[:12]}@example.com"
    reg = ok(api("auth.auth_register").sync_detailed(client=anon, body=m.RegisterBody(
        email=email, password="a journey through the contract", role=m.RegisterBodyRole.SEEKER, full_name="Jo Client")),
        201, "register")
    seeker = AuthenticatedClient(base_url=args.url, token=reg.access_token, raise_on_unexpected_status=True)
    me = ok(api("auth.auth_me").sync_detailed(client=seeker), 200, "me")
    assert me.email == email and me.role == m.Role.SEEKER
    profile = ok(api("profiles.profiles_me_patch").sync_detailed(client=seeker, body=m.ProfilePatch(
        headline="Tester of contracts", skills=["rust", "openapi"], visibility=m.Visibility.PUBLIC)), 200, "profile")
    assert profile.headline == "Tester of contracts"
    seen = ok(api("jobs.jobs_read").sync_detailed(job.id, client=seeker), 200, "read the job")
    assert seen.title == job.title
    application = ok(api("applications.applications_apply").sync_detailed(
        job.id, client=seeker, idempotency_key=str(uuid.uuid4()),
        body=m.Apply(cover_letter="I read your OpenAPI document.")), 201, "apply")
    assert application.status == m.ApplicationStatus.SUBMITTED and application.job_id == job.id
    again = api("applications.applications_apply").sync_detailed(
        job.id, client=seeker, body=m.Apply(cover_letter="twice"))
    assert int(again.status_code) == 409 and again.parsed.error == "already_applied", again.content

    # Employer: sees the applicant, moves the application on, schedules an interview.
    applicants = ok(api("applications.applications_of_job").sync_detailed(job.id, client=employer), 200, "applicants")
    assert [a.id for a in applicants.items] == [application.id]
    reviewed = ok(api("applications.applications_move").sync_detailed(application.id, client=employer, body=m.MoveApplication(
        status=m.ApplicationStatus.REVIEWED)), 200, "review")
    assert reviewed.status == m.ApplicationStatus.REVIEWED
    moved = ok(api("applications.applications_move").sync_detailed(application.id, client=employer, body=m.MoveApplication(
        status=m.ApplicationStatus.SHORTLISTED, note="strong contract sense")), 200, "shortlist")
    assert moved.status == m.ApplicationStatus.SHORTLISTED
    at = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0)  # a date-time: the client formats it
    interview = ok(api("applications.applications_interviews_create").sync_detailed(
        application.id, client=employer, body=m.ScheduleInterview(
            kind=m.InterviewKind.VIDEO, scheduled_at=at, duration_minutes=45, meeting_url="https://meet.example/contract")),
        201, "schedule an interview")
    assert interview.status == m.InterviewStatus.SCHEDULED

    # Seeker: sees the new status and the interview; the job shows up in search in time.
    mine = ok(api("applications.applications_mine").sync_detailed(client=seeker), 200, "my applications")
    assert [(a.id, a.status) for a in mine.items] == [(application.id, m.ApplicationStatus.INTERVIEWING)], mine.items
    history = ok(api("applications.applications_history").sync_detailed(application.id, client=seeker), 200, "history")
    assert [h.to for h in history.items][-2:] == [m.ApplicationStatus.SHORTLISTED, m.ApplicationStatus.INTERVIEWING]
    interviews = ok(api("applications.applications_interviews_list").sync_detailed(application.id, client=seeker), 200, "interviews")
    assert [i.id for i in interviews.items] == [interview.id]
    deadline_at = time.monotonic() + 30
    while True:
        found = ok(api("search.search_jobs").sync_detailed(client=anon, q="Contract Test Engineer"), 200, "search")
        if any(h.id == job.id for h in found.items):
            break
        if time.monotonic() > deadline_at:
            raise AssertionError("the posted job never showed up in search")
        time.sleep(0.3)

    # Employer: closes the job; the seeker withdraws.
    ok(api("jobs.jobs_close").sync_detailed(job.id, client=employer), 204, "close")
    closed = ok(api("jobs.jobs_read").sync_detailed(job.id, client=seeker), 200, "read the closed job")
    assert closed.status == m.JobStatus.CLOSED and not closed.accepting_applications
    withdrawn = ok(api("applications.applications_withdraw").sync_detailed(application.id, client=seeker), 200, "withdraw")
    assert withdrawn.status == m.ApplicationStatus.WITHDRAWN
    print("  generated client: seeker and employer journeys passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
