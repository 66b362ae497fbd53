//! GET /search/suggest: what to complete as someone types, from the open jobs' titles,
//! company names and skills, in one `_msearch` of three.

use std::collections::BTreeMap;

use common::api_doc::ErrorBody;
use common::http::{ok, query_param, Request, Response};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::engine;
use crate::mappings::IndexKind;
use crate::query::{Collapse, MultiMatch, Query, SearchBody};

#[derive(Serialize, ToSchema, PartialEq, Eq, Debug)]
pub struct Suggestion {
    pub text: String,
    /// `title`, `company` or `skill`.
    pub kind: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Suggestions {
    pub suggestions: Vec<Suggestion>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SuggestSource {
    title: String,
    company_name: String,
    skills: Vec<String>,
}

fn prefix_query(q: &str, fields: &[&str]) -> Query {
    Query::MultiMatch(MultiMatch {
        kind: Some("bool_prefix"),
        ..MultiMatch::fuzzy(q, fields, Some("and"))
    })
}

/// GET /search/suggest
#[utoipa::path(get, path = "/search/suggest", tag = "search",
    params(("q" = Option<String>, Query, description = "what has been typed (from 2 characters; fewer or none give no suggestions)")),
    responses((status = 200, body = Suggestions), (status = 400, body = ErrorBody)))]
pub async fn suggest(app: &'static App, req: Request) -> ApiResult<Response> {
    let q = query_param(&req, "q").map(|q| q.trim().to_string()).unwrap_or_default();
    if q.chars().count() > crate::params::SHORT_Q_MAX {
        return Err(ApiError::invalid_field(
            "q",
            format!("at most {} characters", crate::params::SHORT_Q_MAX),
        ));
    }
    if q.chars().count() < 2 {
        return ok(&Suggestions { suggestions: vec![] });
    }
    let titles = {
        // As typed (the last word a prefix), or whole words with a typo.
        let typed = prefix_query(&q, &["title_suggest", "title_suggest._2gram", "title_suggest._3gram"]);
        let mistyped = Query::matches("title", &q, Some("and"), Some("AUTO"));
        let mut b = SearchBody::new(Query::any_of(vec![typed, mistyped]), 10);
        b.collapse = Some(Collapse { field: "title_key".into() });
        b.source = Some(vec!["title"]);
        b
    };
    let companies = {
        let mut b = SearchBody::new(prefix_query(&q, &["company_name"]), 5);
        b.collapse = Some(Collapse {
            field: "company_key".into(),
        });
        b.source = Some(vec!["company_name"]);
        b
    };
    let lower = q.to_lowercase();
    let skills = {
        let mut b = SearchBody::new(
            Query::any_of(vec![
                Query::Prefix(BTreeMap::from([("skill_keys".to_string(), lower.clone())])),
                Query::matches("skills", &q, None, Some("AUTO")),
            ]),
            20,
        );
        b.source = Some(vec!["skills"]);
        b
    };
    let answers = engine::msearch(app, IndexKind::Jobs, &[titles, companies, skills]).await?;
    let sources = |i: usize| -> Vec<SuggestSource> {
        answers
            .get(i)
            .and_then(|a| a["hits"]["hits"].as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|h| serde_json::from_value(h["_source"].clone()).ok())
            .collect()
    };
    let mut out = Vec::new();
    out.extend(
        sources(0)
            .into_iter()
            .map(|s| Suggestion {
                text: s.title,
                kind: "title",
            })
            .take(6),
    );
    out.extend(
        sources(1)
            .into_iter()
            .map(|s| Suggestion {
                text: s.company_name,
                kind: "company",
            })
            .take(3),
    );
    out.extend(
        sources(2)
            .into_iter()
            .flat_map(|s| s.skills)
            .filter(|k| close_to(k, &lower))
            .map(|text| Suggestion { text, kind: "skill" })
            .take(10),
    );
    ok(&Suggestions {
        suggestions: dedupe(out, 10),
    })
}

/// Whether a skill completes what was typed (`typed` in lower case): a word of it starts
/// with it, or it is within the typo budget of the skill or of its start as long as what was
/// typed (one edit from 4 characters, two from 7, as the engine's `AUTO`).
fn close_to(skill: &str, typed: &str) -> bool {
    let skill = skill.to_lowercase();
    if skill.split_whitespace().any(|w| w.starts_with(typed)) || skill.starts_with(typed) {
        return true;
    }
    let budget = match typed.chars().count() {
        0..=3 => return false,
        4..=6 => 1,
        _ => 2,
    };
    let start: String = skill.chars().take(typed.chars().count()).collect();
    strsim::levenshtein(&start, typed) <= budget || strsim::levenshtein(&skill, typed) <= budget
}

/// Case-insensitively distinct, in order, at most `max`.
pub fn dedupe(items: Vec<Suggestion>, max: usize) -> Vec<Suggestion> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|s| !s.text.trim().is_empty() && seen.insert(s.text.to_lowercase()))
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_distinct_and_bounded() {
        let s = |t: &str, kind| Suggestion { text: t.into(), kind };
        let out = dedupe(
            vec![
                s("Rust Developer", "title"),
                s("rust developer", "skill"),
                s("Rust", "skill"),
                s(" ", "title"),
            ],
            10,
        );
        assert_eq!(out, vec![s("Rust Developer", "title"), s("Rust", "skill")]);
    }

    #[test]
    fn skills_close_to_what_was_typed() {
        assert!(close_to("Kubernetes", "kube"));
        assert!(close_to("Kubernetes", "kuberntes"), "a typo");
        assert!(close_to("Machine Learning", "lear"), "a later word");
        assert!(close_to("Python", "pyth0"));
        assert!(!close_to("Python", "java"));
        assert!(!close_to("Go", "ja"));
    }
}
