//! Jobs (API.md, "Jobs and applications", the job routes): employers post jobs for their
//! companies; anyone browses the open ones; admins moderate reported ones; a schedule
//! expires jobs whose deadline has passed.
//!
//! | item | PK | SK | indexes |
//! |---|---|---|---|
//! | job | `JOB#<id>` | `JOB` | open only: GSI1 `OPENJOBS`, GSI2 `OPENJOBS#CAT#<slug>`, GSI4 `OPENJOBS#FEATURED` (featured) and GSI5 `OPENJOBS#DEADLINE` (with a deadline); always GSI3 `COMPANYJOBS#<company>` |
//! | report | `JOB#<id>` | `REPORT#<user id>` | |
//! | report queue entry | `JOB#<id>` | `REPORTS` | GSI1 `REPORTQUEUE` while unresolved |
//!
//! "Open" is the stored status `published`; a published job whose deadline has passed reads
//! as `expired` at once (checked on every read) and is stored as expired by the schedule.
//! The category's `open_job_count` changes in the same transaction as the job.

pub mod expiry;
pub mod handlers;
pub mod listing;
pub mod model;
pub mod moderation;
pub mod rules;
pub mod store;

pub use common::vocab::{Job, Moderation};
pub(crate) use handlers::id_param;
pub use handlers::*;
pub use model::*;
pub(crate) use store::*;
pub use store::{from_item, get, job_pk, key, open_jobs, OpenJobs, JOB_SK};

common::functions! {
    openapi(tags( (name = "jobs", description = "Job posts: employers post for their companies; anyone browses open ones"), (name = "moderation", description = "Reports of jobs and the admin queue") ));
    http {
        "jobs-create" => create: table(&[Get, Put, Update, Delete, ConditionCheck]).indexes(),
        "jobs-read" => read: table(&[Get]).indexes(),
        "jobs-update" => update: table(&[Get, Put, Update, ConditionCheck]).indexes(),
        "jobs-close" => close: table(&[Get, Put, Update, ConditionCheck]).indexes(),
        "jobs-list" => listing::list: table(&[Query]).indexes(),
        "jobs-featured" => listing::featured: table(&[Query]).indexes(),
        "jobs-mine" => listing::mine: table(&[Get, Query]).indexes(),
        "jobs-of-company" => listing::of_company_route: table(&[Get, Query]).indexes(),
        "jobs-of-category" => listing::of_category_route: table(&[Get, Query]).indexes(),
        "jobs-report" => moderation::report: table(&[Get, Put, Update, Delete, ConditionCheck]).indexes(),
        "jobs-admin-reports" => moderation::queue: table(&[Query]).indexes(),
        "jobs-admin-moderate" => moderation::moderate: table(&[Get, Put, Update, ConditionCheck]).indexes(),
    }
    other {
        "jobs-expire" => Scheduled(expiry::handler): table(&[Query, Get, Put, Update, ConditionCheck]).indexes().on(Schedule(
            "rate(5 minutes)",
            "Stores open jobs past their deadline as expired and emits job.expired",
        )),
    }
}
