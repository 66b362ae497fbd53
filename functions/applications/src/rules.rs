//! Application rules: the hiring pipeline (which moves are legal, who may make them), cover
//! letters, notes, and interviews (kinds, times, ratings).

pub use common::vocab::{ApplicationStatus as Status, InterviewKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const COVER_LETTER_MAX: usize = 10_000;
pub const NOTE_MAX: usize = 2_000;
pub const FEEDBACK_MAX: usize = 5_000;
pub const DURATION_MIN: u32 = 5;
pub const DURATION_MAX: u32 = 480;
/// An interview's location (an address, a room).
pub const LOCATION_MAX: usize = 300;
/// Interviews are scheduled at most this far ahead.
pub const SCHEDULE_MAX_DAYS: i64 = 366;

/// Who moves an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mover {
    Company,
    Applicant,
}

/// Whether `who` may move an application from `from` to `to`; the error lists the statuses
/// that are allowed from `from` (for the 409's details).
pub fn check_move(from: Status, to: Status, who: Mover) -> Result<(), Vec<Status>> {
    let allowed: Vec<Status> = match who {
        Mover::Company => from.company_moves().to_vec(),
        Mover::Applicant if !from.is_final() => vec![Status::Withdrawn],
        Mover::Applicant => vec![],
    };
    if allowed.contains(&to) {
        Ok(())
    } else {
        Err(allowed)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InterviewStatus {
    Scheduled,
    Cancelled,
    Completed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    StrongNo,
    No,
    Yes,
    StrongYes,
}

/// An interview time: RFC 3339, in the future, within a year; normalised to UTC seconds.
pub fn interview_time(raw: &str, now_secs: i64) -> Result<String, &'static str> {
    let t = common::time::parse_rfc3339(raw.trim()).ok_or("must be an RFC 3339 time such as 2027-01-31T14:00:00Z")?;
    let secs = t.timestamp();
    if secs <= now_secs {
        return Err("must be in the future");
    }
    if secs > now_secs + SCHEDULE_MAX_DAYS * 86_400 {
        return Err("must be within a year");
    }
    Ok(common::time::rfc3339(secs))
}

pub fn duration(minutes: u32) -> Result<u32, &'static str> {
    if (DURATION_MIN..=DURATION_MAX).contains(&minutes) {
        Ok(minutes)
    } else {
        Err("must be from 5 to 480 minutes")
    }
}

/// An interview's `(location, meeting_url)`.
pub type Place = (Option<String>, Option<String>);
/// `(field, problem)`.
pub type FieldProblem = (&'static str, &'static str);

/// Where an interview happens: a video interview needs a link, an onsite one a place.
pub fn place(kind: InterviewKind, location: Option<&str>, meeting_url: Option<&str>) -> Result<Place, FieldProblem> {
    let location = common::values::optional_text(location.unwrap_or_default(), LOCATION_MAX).map_err(|e| ("location", e))?;
    let url = common::values::website(meeting_url.unwrap_or_default()).map_err(|e| ("meeting_url", e))?;
    match kind {
        InterviewKind::Video if url.is_none() => Err(("meeting_url", "is required for a video interview")),
        InterviewKind::Onsite if location.is_none() => Err(("location", "is required for an onsite interview")),
        _ => Ok((location, url)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipeline_moves_one_step_at_a_time() {
        use Status::*;
        assert!(check_move(Submitted, Reviewed, Mover::Company).is_ok());
        assert!(check_move(Offered, Hired, Mover::Company).is_ok());
        for s in [Submitted, Reviewed, Shortlisted, Interviewing, Offered] {
            assert!(check_move(s, Rejected, Mover::Company).is_ok(), "{s:?}");
            assert!(check_move(s, Withdrawn, Mover::Applicant).is_ok(), "{s:?}");
            assert!(check_move(s, Withdrawn, Mover::Company).is_err(), "only the applicant withdraws");
        }
        assert_eq!(check_move(Submitted, Hired, Mover::Company), Err(vec![Reviewed, Rejected]));
        assert_eq!(check_move(Reviewed, Submitted, Mover::Company), Err(vec![Shortlisted, Rejected]));
        for s in [Hired, Rejected, Withdrawn] {
            assert!(s.is_final());
            for to in Status::ALL {
                assert!(check_move(s, to, Mover::Company).is_err());
                assert!(check_move(s, to, Mover::Applicant).is_err());
            }
        }
        assert!(check_move(Submitted, Reviewed, Mover::Applicant).is_err());
    }

    #[test]
    fn interviews() {
        let now = 1_800_000_000;
        assert!(interview_time("2020-01-01T00:00:00Z", now).is_err());
        assert_eq!(interview_time("2027-01-15T10:00:00+01:00", now).unwrap(), "2027-01-15T09:00:00Z");
        assert!(duration(4).is_err() && duration(60).is_ok() && duration(481).is_err());
        assert!(place(InterviewKind::Video, None, None).is_err());
        assert!(place(InterviewKind::Video, None, Some("https://meet.example/abc")).is_ok());
        assert!(place(InterviewKind::Onsite, Some(" "), None).is_err());
        assert!(place(InterviewKind::Phone, None, None).is_ok());
        assert_eq!(Status::parse("shortlisted"), Some(Status::Shortlisted));
    }
}
