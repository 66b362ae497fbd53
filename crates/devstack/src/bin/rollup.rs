//! `make rollup FROM=YYYY-MM-DD TO=YYYY-MM-DD`: runs the daily analytics rollup for every day
//! of the range, then the weeks and months they touch (what the 00:30 UTC schedule does for
//! yesterday). Idempotent: re-running a range gives the same figures.
//!
//! Table: TABLE_NAME (a deployed stack's, with AWS credentials), or `<LOCAL_PREFIX>-Table`
//! of the local stack (prefix `dev`).

use chrono::NaiveDate;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| args.windows(2).find(|w| w[0] == name).map(|w| w[1].clone());
    let date = |v: Option<String>| v.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
    let (Some(from), Some(to)) = (date(arg("--from")), date(arg("--to"))) else {
        eprintln!("usage: rollup --from YYYY-MM-DD --to YYYY-MM-DD");
        std::process::exit(2);
    };
    if from > to {
        eprintln!("rollup: --from is after --to");
        std::process::exit(2);
    }
    let (app, table) = devstack::tool_app().await;
    match analytics::rollup::range(&app, from, to).await {
        Ok(days) => {
            for d in days {
                println!(
                    "{}: {} applications, {} searches ({} without results), {} signups, {} active users",
                    d.period,
                    d.figures.applications,
                    d.figures.searches,
                    d.figures.zero_result_searches,
                    d.figures.signups.seeker + d.figures.signups.employer,
                    d.figures.active_users
                );
            }
            println!("rolled up {from} to {to} (and their weeks and months) in table {table}");
        }
        Err(e) => {
            eprintln!(
                "rollup failed: {} {}",
                e.message,
                e.details.map(|d| d.to_string()).unwrap_or_default()
            );
            std::process::exit(1);
        }
    }
}
