//! Applications (API.md, "Jobs and applications"): seekers apply to open jobs; the job's
//! company moves applications through the hiring pipeline and schedules interviews; both
//! sides see what is theirs to see.
//!
//! | item | PK | SK | indexes |
//! |---|---|---|---|
//! | application | `APP#<id>` | `APP` | GSI1 `JOBAPPS#<job>` / `<submitted_at>#<id>`; GSI2 `USERAPPS#<seeker>` / `<submitted_at>#<id>` |
//! | one-per-seeker guard | `JOB#<job>` | `APPLICANT#<seeker>` | |
//! | status history entry | `APP#<id>` | `HIST#<at>#<ulid>` | |
//! | interview | `APP#<id>` | `INTERVIEW#<id>` | GSI3 `INTERVIEW#<id>` / `INTERVIEW`; while scheduled GSI4 `INTERVIEWS#SCHEDULED` / `<scheduled_at>#<id>` (reminders) |
//! | job applicant counters | `JOB#<job>` | `STATS` | |
//! | seeker application counters | `USER#<seeker>` | `APPSTATS` | |
//! | profile grant (private profile open to the company) | `USER#<seeker>` | `GRANT#COMPANY#<company>` | |
//!
//! Every change is one transaction with its history entry, counters and event.

pub mod handlers;
pub mod interviews;
pub mod model;
pub mod rules;
pub mod store;

pub use handlers::*;
pub use model::*;
pub use store::{app_pk, applied_to_any, by_job, by_seeker, erase_seeker, export_seeker, get, SeekerExport};

common::functions! {
    openapi(tags((name = "applications", description = "Applying, the hiring pipeline, interviews")));
    http {
        "applications-apply" => apply: table(&[Get, Query, Put, Update, Delete, ConditionCheck]).indexes().uploads(&[(&[GetObject], "files/resume/*"), (&[PutObject, DeleteObject, GetObject], "applications/*")]),
        "applications-of-job" => of_job: table(&[Get, Query, Put]).indexes(),
        "applications-mine" => mine: table(&[Get, Query, Put]).indexes(),
        "applications-read" => read: table(&[Get, Put]).indexes().uploads(&[(&[GetObject], "applications/*")]),
        "applications-withdraw" => withdraw: table(&[Get, Query, Put, Update, ConditionCheck]).indexes().uploads(&[(&[GetObject], "applications/*")]),
        "applications-move" => move_status: table(&[Get, Query, Put, Update, ConditionCheck]).indexes().uploads(&[(&[GetObject], "applications/*")]),
        "applications-history" => history: table(&[Get, Query, Put]).indexes(),
        "applications-interviews-create" => interviews::schedule: table(&[Get, Query, Put, Update, ConditionCheck]).indexes(),
        "applications-interviews-list" => interviews::list: table(&[Get, Query, Put]).indexes(),
        "applications-interviews-update" => interviews::update: table(&[Get, Query, Put, Update, ConditionCheck]).indexes(),
        "applications-stats" => stats: table(&[Get, BatchGet, Query, Put]).indexes(),
    }
}
