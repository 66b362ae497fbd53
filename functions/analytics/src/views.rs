//! A job's views count once per viewer and job in [`WINDOW_SECS`]: a reload, a back button or
//! a client that sends one view fifty times is one view. The viewer is the visitor of
//! `common::analytics::Visitor` (the signed-in user, else the client's session, else its
//! address and user agent of the day), so `unique_viewers` keeps its meaning.
//!
//! The last counted view of each viewer and job is an item (`AN#SEEN#<job>#<visitor>`); the
//! consumer reads those of a batch, drops the views that repeat one (stored or earlier in
//! the batch), and writes the new times in the same transaction as the counts, on condition
//! that they are unchanged since read (a concurrent batch makes it read and decide again).
//! Expiry is the item's `at` compared here; TTL only clears old items.

use std::collections::{HashMap, HashSet};

use common::analytics::ClientEventType;

use crate::aggregate::{Unit, Work};

/// Views of one job by one viewer closer than this to a counted one are not counted.
pub const WINDOW_SECS: i64 = 30 * 60;
/// How long past its window a last-view item is kept (TTL; late is harmless).
pub const KEEP_SECS: i64 = WINDOW_SECS + 24 * 3600;

/// A viewer of a job: `(job id, visitor)`.
pub type Pair = (String, String);

pub fn seen_pk(job_id: &str, visitor: &str) -> String {
    format!("AN#SEEN#{job_id}#{visitor}")
}
pub const SEEN_SK: &str = "SEEN";
/// The attribute holding the last counted view's time (Unix seconds).
pub const AT: &str = "at";

/// The viewers of jobs in `units` (whose last counted views are to be read).
pub fn pairs(units: &[Unit]) -> HashSet<Pair> {
    let mut out = HashSet::new();
    for u in units {
        if let Work::Client { visitor, events, .. } = &u.work {
            for e in events.iter().filter(|e| e.kind == ClientEventType::JobView) {
                if let Some(j) = &e.job_id {
                    out.insert((j.clone(), visitor.clone()));
                }
            }
        }
    }
    out
}

/// Removes from `units` the views within [`WINDOW_SECS`] of a counted one of the same viewer
/// and job: one in `last` (the stored last counted views), or one kept earlier in the batch
/// (views are taken in time order). Returns how many were removed.
pub fn drop_repeats(units: &mut [Unit], last: &HashMap<Pair, i64>) -> usize {
    let mut views: Vec<(i64, usize, usize)> = Vec::new();
    for (ui, u) in units.iter().enumerate() {
        if let Work::Client { events, .. } = &u.work {
            for (ei, e) in events.iter().enumerate() {
                if e.kind == ClientEventType::JobView && e.job_id.is_some() {
                    views.push((e.at, ui, ei));
                }
            }
        }
    }
    views.sort();
    let mut counted: HashMap<Pair, i64> = last.clone();
    let mut repeats: HashSet<(usize, usize)> = HashSet::new();
    for (at, ui, ei) in views {
        let Work::Client { visitor, events, .. } = &units[ui].work else {
            continue;
        };
        let pair = (events[ei].job_id.clone().unwrap_or_default(), visitor.clone());
        match counted.get(&pair) {
            Some(t) if (at - t).abs() < WINDOW_SECS => {
                repeats.insert((ui, ei));
            }
            Some(t) => {
                let newest = (*t).max(at);
                counted.insert(pair, newest);
            }
            None => {
                counted.insert(pair, at);
            }
        }
    }
    for (ui, u) in units.iter_mut().enumerate() {
        if let Work::Client { events, .. } = &mut u.work {
            let mut ei = 0;
            events.retain(|_| {
                let keep = !repeats.contains(&(ui, ei));
                ei += 1;
                keep
            });
        }
    }
    repeats.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::analytics::ClientEvent;

    fn view(job: &str, at: i64) -> ClientEvent {
        ClientEvent {
            kind: ClientEventType::JobView,
            job_id: Some(job.into()),
            company_id: None,
            query_hash: None,
            position: None,
            at,
        }
    }

    fn unit(id: &str, visitor: &str, events: Vec<ClientEvent>) -> Unit {
        Unit {
            id: id.into(),
            message_id: id.into(),
            work: Work::Client {
                visitor: visitor.into(),
                user: None,
                events,
            },
        }
    }

    fn views_left(units: &[Unit]) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for u in units {
            if let Work::Client { visitor, events, .. } = &u.work {
                out.extend(events.iter().map(|e| (visitor.clone(), e.at)));
            }
        }
        out
    }

    #[test]
    fn fifty_identical_views_are_one() {
        let mut units = vec![unit("a", "v1", (0..50).map(|_| view("j1", 1_000)).collect())];
        assert_eq!(drop_repeats(&mut units, &HashMap::new()), 49);
        assert_eq!(views_left(&units), [("v1".to_string(), 1_000)]);
    }

    #[test]
    fn the_window_is_per_viewer_and_job_across_units_and_the_store() {
        let t = 100_000;
        let mut units = vec![
            unit("a", "v1", vec![view("j1", t + 10), view("j2", t + 10)]),
            unit("b", "v2", vec![view("j1", t + 20)]),
            unit("c", "v1", vec![view("j1", t + WINDOW_SECS + 5), view("j1", t + WINDOW_SECS + 6)]),
        ];
        // v1 viewed j1 at t (counted, stored): t + 10 repeats it, t + WINDOW + 5 does not.
        let last: HashMap<Pair, i64> = [(("j1".to_string(), "v1".to_string()), t)].into();
        assert_eq!(drop_repeats(&mut units, &last), 2);
        let left = views_left(&units);
        assert_eq!(
            left,
            [
                ("v1".to_string(), t + 10),
                ("v2".to_string(), t + 20),
                ("v1".to_string(), t + WINDOW_SECS + 5)
            ],
            "j2 by v1, j1 by v2, and v1's j1 after the window"
        );
        assert_eq!(pairs(&units).len(), 3);
    }

    #[test]
    fn a_late_view_just_before_a_counted_one_repeats_it() {
        let mut units = vec![unit("a", "v1", vec![view("j1", 5_000 - 60)])];
        let last: HashMap<Pair, i64> = [(("j1".to_string(), "v1".to_string()), 5_000)].into();
        assert_eq!(drop_repeats(&mut units, &last), 1);
    }
}
