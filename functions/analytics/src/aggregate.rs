//! What a batch adds up to, before anything is written: every unit of work (client events,
//! a search, a domain event) becomes additions to the counters of the items it touches and
//! ids for their sketches. A hundred views of one job in a batch are one addition of 100.

use std::collections::{BTreeMap, HashMap, HashSet};

use common::analytics::{ClientEvent, ClientEventType};
use common::events::DomainEvent;
use common::token::Role;
use common::vocab::JobStatus;

use crate::model::{self, field, Counters};

/// What to add to one item.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Delta {
    pub counters: Counters,
    /// Ids for the item's distinct-count sketch.
    pub sketch: Vec<String>,
    /// Attributes set to a text (a query's normalised text).
    pub text: BTreeMap<String, String>,
    /// A viewer's last counted view of a job (crate::views), set under a condition.
    pub mark: Option<Mark>,
}

/// The new time of a last-view item, and the time read (`None`: there was none).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mark {
    pub at: i64,
    pub was: Option<i64>,
}

/// `(PK, SK)` of an item.
pub type Key = (String, String);
pub type Deltas = BTreeMap<Key, Delta>;

/// One unit of work, counted exactly once (its id is its dedupe record).
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    pub id: String,
    /// The SQS message it came from (a failed unit fails its message).
    pub message_id: String,
    pub work: Work,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Work {
    Client {
        visitor: String,
        user: Option<String>,
        events: Vec<ClientEvent>,
    },
    Search {
        at: i64,
        query_hash: String,
        query: String,
        results: u64,
        user: Option<String>,
    },
    Domain {
        at: i64,
        /// The hash of the user behind the event (active users).
        user: Option<String>,
        event: Box<DomainEvent>,
    },
}

/// What the consumer looked up for a batch: jobs' company and category, known companies,
/// and the last counted views of the batch's viewers (crate::views).
#[derive(Clone, Debug, Default)]
pub struct Lookup {
    pub jobs: HashMap<String, JobMeta>,
    pub companies: HashSet<String>,
    pub seen: HashMap<crate::views::Pair, i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct JobMeta {
    pub company_id: String,
    pub category: String,
}

impl Unit {
    /// When the (earliest) thing it counts happened, Unix seconds.
    pub fn occurred_at(&self) -> Option<i64> {
        match &self.work {
            Work::Client { events, .. } => events.iter().map(|e| e.at).min(),
            Work::Search { at, .. } | Work::Domain { at, .. } => Some(*at),
        }
    }

    /// The jobs and companies its events name (to look up before aggregating).
    pub fn references(&self) -> (Vec<String>, Vec<String>) {
        match &self.work {
            Work::Client { events, .. } => (
                events.iter().filter_map(|e| e.job_id.clone()).collect(),
                events.iter().filter_map(|e| e.company_id.clone()).collect(),
            ),
            Work::Domain { event, .. } => match event.as_ref() {
                DomainEvent::ApplicationSubmitted(a) => (vec![a.job_id.clone()], vec![]),
                _ => (vec![], vec![]),
            },
            Work::Search { .. } => (vec![], vec![]),
        }
    }
}

fn day(at: i64) -> String {
    common::time::rfc3339(at)[..10].to_string()
}

struct Sink<'a> {
    deltas: &'a mut Deltas,
    shard: u32,
}

impl Sink<'_> {
    fn at(&mut self, pk: String, sk: String) -> &mut Delta {
        self.deltas.entry((pk, sk)).or_default()
    }
    fn add(&mut self, pk: String, sk: String, counter: &str, n: i64) {
        *self.at(pk, sk).counters.entry(counter.to_string()).or_default() += n;
    }
    fn see(&mut self, pk: String, sk: String, id: &str) {
        let d = self.at(pk, sk);
        if !d.sketch.iter().any(|s| s == id) {
            d.sketch.push(id.to_string());
        }
    }
    /// A counted view of `job` by `visitor` at `at` (the batch's views repeat none).
    fn mark(&mut self, job: &str, visitor: &str, at: i64, was: Option<i64>) {
        let d = self.at(crate::views::seen_pk(job, visitor), crate::views::SEEN_SK.into());
        let newest = d.mark.map_or(at, |m| m.at.max(at));
        d.mark = Some(Mark { at: newest, was });
    }
    fn job(&mut self, job: &str, date: &str, counter: &str) {
        let sk = model::day_sk(date, self.shard);
        self.add(model::job_pk(job), sk, counter, 1);
    }
    fn company(&mut self, company: &str, date: &str, counter: &str) {
        let sk = model::day_sk(date, self.shard);
        self.add(model::company_pk(company), sk, counter, 1);
    }
    fn platform(&mut self, date: &str, counter: &str) {
        let sk = model::day_sk(date, self.shard);
        self.add(model::PLATFORM_PK.into(), sk, counter, 1);
    }
    fn active(&mut self, date: &str, user: &Option<String>) {
        if let Some(u) = user {
            let sk = model::day_sk(date, self.shard);
            self.see(model::PLATFORM_PK.into(), sk, u);
        }
    }
    /// Views, impressions, apply clicks and search clicks of a job count for the job, its
    /// company and the platform.
    fn job_event(&mut self, job: &str, meta: &JobMeta, date: &str, counter: &str) {
        self.job(job, date, counter);
        self.company(&meta.company_id, date, counter);
        self.platform(date, counter);
    }
}

/// Adds `unit` to `deltas`, on shard `shard` of the sharded items. Events about jobs or
/// companies that do not exist are dropped (they would only make items of made-up ids).
pub fn add(deltas: &mut Deltas, unit: &Unit, lookup: &Lookup, shard: u32) {
    let mut sink = Sink { deltas, shard };
    match &unit.work {
        Work::Client { visitor, user, events } => {
            for e in events {
                client_event(&mut sink, e, visitor, lookup);
                sink.active(&day(e.at), user);
            }
        }
        Work::Search {
            at,
            query_hash,
            query,
            results,
            user,
        } => {
            let date = day(*at);
            sink.platform(&date, field::SEARCHES);
            if *results == 0 {
                sink.platform(&date, field::ZERO_RESULTS);
            }
            if !query.is_empty() {
                let (pk, sk) = (model::queries_pk(&date), query_hash.clone());
                sink.add(pk.clone(), sk.clone(), field::SEARCHES, 1);
                if *results == 0 {
                    sink.add(pk.clone(), sk.clone(), field::ZERO_RESULTS, 1);
                }
                sink.at(pk, sk).text.insert(field::QUERY.into(), query.clone());
            }
            sink.active(&date, user);
        }
        Work::Domain { at, user, event } => {
            let date = day(*at);
            domain_event(&mut sink, event, &date, lookup);
            sink.active(&date, user);
        }
    }
}

fn client_event(sink: &mut Sink, e: &ClientEvent, visitor: &str, lookup: &Lookup) {
    let date = day(e.at);
    let job = e.job_id.as_deref().and_then(|j| lookup.jobs.get(j).map(|m| (j, m)));
    match (e.kind, job) {
        (ClientEventType::JobView, Some((j, meta))) => {
            sink.job_event(j, meta, &date, field::VIEWS);
            let was = lookup.seen.get(&(j.to_string(), visitor.to_string())).copied();
            sink.mark(j, visitor, e.at, was);
            let sk = model::day_sk(&date, sink.shard);
            sink.see(model::job_pk(j), sk.clone(), visitor);
            sink.see(model::company_pk(&meta.company_id), sk.clone(), visitor);
            sink.add(model::company_pk(&meta.company_id), sk, &field::of_job(j, field::VIEWS), 1);
            sink.add(model::categories_pk(&date), meta.category.clone(), field::VIEWS, 1);
        }
        (ClientEventType::JobImpression, Some((j, meta))) => sink.job_event(j, meta, &date, field::IMPRESSIONS),
        (ClientEventType::ApplyClick, Some((j, meta))) => sink.job_event(j, meta, &date, field::APPLY_CLICKS),
        (ClientEventType::SearchClick, Some((j, meta))) => {
            sink.job_event(j, meta, &date, field::SEARCH_CLICKS);
            if let Some(q) = &e.query_hash {
                sink.add(model::queries_pk(&date), q.clone(), field::CLICKS, 1);
            }
        }
        (ClientEventType::CompanyView, _) => {
            if let Some(c) = e.company_id.as_deref().filter(|c| lookup.companies.contains(*c)) {
                let sk = model::day_sk(&date, sink.shard);
                sink.add(model::company_pk(c), sk.clone(), field::COMPANY_VIEWS, 1);
                sink.see(model::company_pk(c), sk, visitor);
            }
        }
        _ => {}
    }
}

fn domain_event(sink: &mut Sink, event: &DomainEvent, date: &str, lookup: &Lookup) {
    match event {
        DomainEvent::UserRegistered(u) => match u.role {
            Role::Seeker => sink.platform(date, field::SIGNUPS_SEEKER),
            Role::Employer => sink.platform(date, field::SIGNUPS_EMPLOYER),
            Role::Admin => {}
        },
        DomainEvent::JobCreated(j) if j.job.status == JobStatus::Published => sink.platform(date, field::JOBS_POSTED),
        DomainEvent::JobUpdated(j) if j.job.status == JobStatus::Published && j.previous_status == Some(JobStatus::Draft) => {
            sink.platform(date, field::JOBS_POSTED)
        }
        DomainEvent::ApplicationSubmitted(a) => {
            let sk = model::day_sk(date, sink.shard);
            sink.job(&a.job_id, date, field::APPLICATIONS);
            sink.company(&a.company_id, date, field::APPLICATIONS);
            sink.add(
                model::company_pk(&a.company_id),
                sk,
                &field::of_job(&a.job_id, field::APPLICATIONS),
                1,
            );
            sink.platform(date, field::APPLICATIONS);
            sink.add(model::companies_pk(date), a.company_id.clone(), field::APPLICATIONS, 1);
            if let Some(meta) = lookup.jobs.get(&a.job_id) {
                sink.add(model::categories_pk(date), meta.category.clone(), field::APPLICATIONS, 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn lookup() -> Lookup {
        Lookup {
            jobs: [(
                "j1".to_string(),
                JobMeta {
                    company_id: "c1".into(),
                    category: "engineering".into(),
                },
            )]
            .into(),
            companies: ["c1".to_string()].into(),
            seen: HashMap::new(),
        }
    }

    #[test]
    fn a_hundred_views_of_one_job_are_one_addition_per_item() {
        let at = common::time::now_secs();
        let date = day(at);
        let mut deltas = Deltas::new();
        for i in 0..100 {
            let unit = Unit {
                id: format!("m{i}"),
                message_id: format!("m{i}"),
                work: Work::Client {
                    visitor: format!("v{}", i % 10),
                    user: None,
                    events: vec![view("j1", at), view("unknown-job", at)],
                },
            };
            add(&mut deltas, &unit, &lookup(), 2);
        }
        let job = &deltas[&(model::job_pk("j1"), model::day_sk(&date, 2))];
        assert_eq!(job.counters[field::VIEWS], 100);
        assert_eq!(job.sketch.len(), 10, "each visitor once");
        let company = &deltas[&(model::company_pk("c1"), model::day_sk(&date, 2))];
        assert_eq!(company.counters[&field::of_job("j1", field::VIEWS)], 100);
        // job, company, platform, category and each viewer's last view: nothing for the
        // unknown job.
        assert_eq!(deltas.len(), 4 + 10, "{:?}", deltas.keys().collect::<Vec<_>>());
        let mark = deltas[&(crate::views::seen_pk("j1", "v3"), crate::views::SEEN_SK.to_string())].mark;
        assert_eq!(mark, Some(Mark { at, was: None }));
    }
}
