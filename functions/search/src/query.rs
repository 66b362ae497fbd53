//! The OpenSearch query language as typed values: what the routes build, serialized as the
//! engine reads it. Only the parts the platform uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::docs::Geo;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Query {
    MatchAll(BTreeMap<String, Value>),
    Bool(Box<Bool>),
    Term(BTreeMap<String, Value>),
    Terms(BTreeMap<String, Vec<Value>>),
    Range(BTreeMap<String, Range>),
    MultiMatch(MultiMatch),
    Match(BTreeMap<String, Match>),
    GeoDistance(GeoDistance),
    Exists { field: String },
    Prefix(BTreeMap<String, String>),
    Ids { values: Vec<String> },
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Bool {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub must: Vec<Query>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub should: Vec<Query>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filter: Vec<Query>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub must_not: Vec<Query>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_should_match: Option<usize>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Range {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gte: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lte: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gt: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MultiMatch {
    pub query: String,
    pub fields: Vec<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuzziness: Option<&'static str>,
    /// With fuzziness: the first letter is never a typo (fewer false friends: senior/junior).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<&'static str>,
}

impl MultiMatch {
    /// `fuzziness: AUTO` with the first letter never a typo; `operator: and` when every word
    /// must match.
    pub fn fuzzy(text: &str, fields: &[&str], operator: Option<&'static str>) -> MultiMatch {
        MultiMatch {
            query: text.to_string(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
            kind: None,
            fuzziness: Some("AUTO"),
            prefix_length: Some(1),
            operator,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Match {
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuzziness: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GeoDistance {
    pub distance: String,
    #[serde(flatten)]
    pub point: BTreeMap<String, Geo>,
}

impl Query {
    pub fn match_all() -> Query {
        Query::MatchAll(BTreeMap::new())
    }
    pub fn term(field: &str, v: impl Into<Value>) -> Query {
        Query::Term(BTreeMap::from([(field.to_string(), v.into())]))
    }
    pub fn terms(field: &str, vs: &[String]) -> Query {
        Query::Terms(BTreeMap::from([(
            field.to_string(),
            vs.iter().map(|v| Value::from(v.as_str())).collect(),
        )]))
    }
    pub fn range(field: &str, r: Range) -> Query {
        Query::Range(BTreeMap::from([(field.to_string(), r)]))
    }
    pub fn matches(field: &str, text: &str, operator: Option<&'static str>, fuzziness: Option<&'static str>) -> Query {
        Query::Match(BTreeMap::from([(
            field.to_string(),
            Match {
                query: text.to_string(),
                operator,
                fuzziness,
            },
        )]))
    }
    /// Typo-tolerant text over `fields` ([`MultiMatch::fuzzy`]).
    pub fn fuzzy(text: &str, fields: &[&str], operator: Option<&'static str>) -> Query {
        Query::MultiMatch(MultiMatch::fuzzy(text, fields, operator))
    }
    pub fn within(field: &str, at: Geo, km: f64) -> Query {
        Query::GeoDistance(GeoDistance {
            distance: format!("{km}km"),
            point: BTreeMap::from([(field.to_string(), at)]),
        })
    }
    pub fn all_of(filter: Vec<Query>) -> Query {
        Query::Bool(Box::new(Bool { filter, ..Bool::default() }))
    }
    pub fn any_of(should: Vec<Query>) -> Query {
        Query::Bool(Box::new(Bool {
            should,
            minimum_should_match: Some(1),
            ..Bool::default()
        }))
    }
}

/// One sort key: `{"field": {"order": ..., "missing": ...}}`.
#[derive(Clone, Debug, Serialize)]
pub struct Sort(pub BTreeMap<String, SortOrder>);

#[derive(Clone, Debug, Serialize)]
pub struct SortOrder {
    pub order: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<&'static str>,
}

impl Sort {
    pub fn by(field: &str, order: &'static str) -> Sort {
        Sort(BTreeMap::from([(
            field.to_string(),
            SortOrder {
                order,
                missing: Some("_last"),
            },
        )]))
    }
    pub fn score() -> Sort {
        Sort(BTreeMap::from([(
            "_score".to_string(),
            SortOrder {
                order: "desc",
                missing: None,
            },
        )]))
    }
}

/// An aggregation and its sub-aggregations.
#[derive(Clone, Debug, Serialize)]
pub struct Agg {
    #[serde(flatten)]
    pub kind: AggKind,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub aggs: BTreeMap<String, Agg>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AggKind {
    Filter(Query),
    Terms { field: String, size: usize },
    Range { field: String, ranges: Vec<Band> },
}

#[derive(Clone, Debug, Serialize)]
pub struct Band {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Highlight {
    pub fields: BTreeMap<String, HighlightField>,
    pub pre_tags: Vec<&'static str>,
    pub post_tags: Vec<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
pub struct HighlightField {
    pub fragment_size: u32,
    pub number_of_fragments: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Collapse {
    pub field: String,
}

/// A search request body.
#[derive(Clone, Debug, Serialize)]
pub struct SearchBody {
    pub query: Query,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_filter: Option<Query>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub aggs: BTreeMap<String, Agg>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<Sort>,
    pub size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_after: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highlight: Option<Highlight>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collapse: Option<Collapse>,
    pub track_total_hits: bool,
    #[serde(rename = "_source", skip_serializing_if = "Option::is_none")]
    pub source: Option<Vec<&'static str>>,
}

impl SearchBody {
    /// Continues after `paging`: `search_after` the previous page's last sort values, or, when
    /// the first sort key is the score, `from` the depth reached (the search stand-in does not
    /// page on `_score` with search_after; results are capped at 1000 deep either way).
    pub fn continue_after(&mut self, after: Option<Vec<Value>>, depth: usize) {
        let by_score = self.sort.first().is_some_and(|s| s.0.contains_key("_score"));
        if by_score {
            self.from = (depth > 0).then_some(depth);
            self.search_after = None;
        } else {
            self.search_after = after;
        }
    }

    pub fn new(query: Query, size: usize) -> SearchBody {
        SearchBody {
            query,
            post_filter: None,
            aggs: BTreeMap::new(),
            sort: vec![],
            size,
            from: None,
            search_after: None,
            highlight: None,
            collapse: None,
            track_total_hits: false,
            source: None,
        }
    }
}

/// What a search answers.
#[derive(Debug, Deserialize)]
pub struct SearchResponse<T> {
    pub hits: Hits<T>,
    #[serde(default)]
    pub aggregations: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct Hits<T> {
    #[serde(default)]
    pub total: Option<Total>,
    pub hits: Vec<Hit<T>>,
}

#[derive(Debug, Deserialize)]
pub struct Total {
    pub value: u64,
}

#[derive(Debug, Deserialize)]
pub struct Hit<T> {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "_source")]
    pub source: T,
    #[serde(default)]
    pub sort: Option<Vec<Value>>,
    #[serde(default)]
    pub highlight: Option<BTreeMap<String, Vec<String>>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_the_engine_reads_it() {
        let q = Query::all_of(vec![Query::term("category", "eng"), Query::terms("workplace", &["remote".into()])]);
        assert_eq!(
            serde_json::to_value(&q).unwrap(),
            serde_json::json!({"bool": {"filter": [{"term": {"category": "eng"}}, {"terms": {"workplace": ["remote"]}}]}})
        );
        let agg = Agg {
            kind: AggKind::Filter(Query::match_all()),
            aggs: BTreeMap::from([(
                "v".to_string(),
                Agg {
                    kind: AggKind::Terms {
                        field: "category".into(),
                        size: 20,
                    },
                    aggs: BTreeMap::new(),
                },
            )]),
        };
        assert_eq!(
            serde_json::to_value(&agg).unwrap(),
            serde_json::json!({"filter": {"match_all": {}}, "aggs": {"v": {"terms": {"field": "category", "size": 20}}}})
        );
        let g = Query::within("geo", Geo { lat: 51.5, lon: -0.1 }, 10.0);
        assert_eq!(
            serde_json::to_value(&g).unwrap(),
            serde_json::json!({"geo_distance": {"distance": "10km", "geo": {"lat": 51.5, "lon": -0.1}}})
        );
    }
}
