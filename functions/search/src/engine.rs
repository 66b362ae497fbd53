//! The OpenSearch client: SigV4-signed JSON requests over one HTTP client per container
//! (created lazily, on the first search or index call), index creation from the mappings
//! in code, and the few document operations the platform uses.
//!
//! Serverless collections have no refresh, scroll, `_reindex` or delete-by-query, so
//! nothing here uses them: writes are visible when the engine makes them so, and tests
//! wait for documents.

use std::sync::OnceLock;
use std::time::SystemTime;

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use common::app::SearchSettings;
use common::{ApiError, ApiResult, App};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::mappings::IndexKind;
use crate::query::{Query, SearchBody, SearchResponse, Sort};

pub struct Engine {
    http: reqwest::Client,
}

static ENGINE: OnceLock<Engine> = OnceLock::new();

/// Makes rustls use the aws-lc-rs provider the AWS SDK already links (reqwest's TLS is
/// built without a provider of its own). Call before building any reqwest client.
pub fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

fn engine() -> &'static Engine {
    ENGINE.get_or_init(|| {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(8))
            .build()
            .unwrap_or_default();
        Engine { http }
    })
}

fn settings(app: &App) -> ApiResult<&SearchSettings> {
    app.settings
        .search
        .as_ref()
        .ok_or_else(|| ApiError::internal("SEARCH_ENDPOINT is not configured"))
}

/// The name of one of the stack's indexes.
pub fn index_name(app: &App, kind: IndexKind) -> ApiResult<String> {
    Ok(format!("{}-{}", settings(app)?.index_prefix, kind.suffix()))
}

/// What OpenSearch answered: status and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    fn error_type(&self) -> &str {
        self.body["error"]["type"].as_str().unwrap_or_default()
    }
    pub fn into_ok(self, what: &str) -> ApiResult<Value> {
        if self.ok() {
            Ok(self.body)
        } else {
            Err(ApiError::internal(format!(
                "search engine refused {what}: {} {}",
                self.status, self.body
            )))
        }
    }
}

/// Sends one signed request. `body` is JSON, or NDJSON for `_bulk` and `_msearch`.
pub async fn call(app: &App, method: http::Method, path: &str, body: Option<Vec<u8>>) -> ApiResult<Answer> {
    let s = settings(app)?;
    let url = format!("{}{path}", s.endpoint);
    let body = body.unwrap_or_default();
    let ndjson = path.contains("_bulk") || path.contains("_msearch");
    let content_type = if ndjson { "application/x-ndjson" } else { "application/json" };
    let mut req = http::Request::builder()
        .method(method.clone())
        .uri(&url)
        .header("content-type", content_type)
        .body(body)
        .map_err(ApiError::internal)?;
    sign_request(app, s, &mut req).await?;
    let (parts, body) = req.into_parts();
    let mut out = engine().http.request(method, &url).body(body);
    for (k, v) in &parts.headers {
        out = out.header(k, v);
    }
    let resp = out
        .send()
        .await
        .map_err(|e| ApiError::internal(format!("search engine unreachable: {e}")))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(ApiError::internal)?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Ok(Answer { status, body })
}

/// SigV4 with the function's credentials; the payload hash goes in `x-amz-content-sha256`,
/// which OpenSearch Serverless requires.
async fn sign_request(app: &App, s: &SearchSettings, req: &mut http::Request<Vec<u8>>) -> ApiResult<()> {
    let sdk = app.sdk_config();
    let Some(provider) = sdk.credentials_provider() else {
        return Err(ApiError::internal("no AWS credentials to sign search requests"));
    };
    let creds = provider.provide_credentials().await.map_err(ApiError::internal)?;
    let identity: Identity = creds.into();
    let region = sdk.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&region)
        .name(&s.service)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(ApiError::internal)?
        .into();
    let headers = req.headers().iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)));
    let uri = req.uri().to_string();
    let signable =
        SignableRequest::new(req.method().as_str(), &uri, headers, SignableBody::Bytes(req.body())).map_err(ApiError::internal)?;
    let (instructions, _) = sign(signable, &params).map_err(ApiError::internal)?.into_parts();
    instructions.apply_to_request_http1x(req);
    Ok(())
}

fn json_bytes<T: Serialize>(v: &T) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(v).map_err(ApiError::internal)
}

/// Creates the index with its mappings unless it exists (idempotent; a concurrent creator's
/// `resource_already_exists_exception` is success); an existing index gets the mappings in
/// code added (new fields are additive; a changed field type is refused by the engine and
/// logged: that change needs a new index, docs/decisions.md). Remembered per container.
pub async fn ensure_index(app: &App, kind: IndexKind) -> ApiResult<String> {
    static READY: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let name = index_name(app, kind)?;
    if READY.lock().map(|r| r.contains(&name)).unwrap_or(false) {
        return Ok(name);
    }
    let head = call(app, http::Method::HEAD, &format!("/{name}"), None).await?;
    let definition = kind.definition();
    if head.status == 404 {
        let created = call(app, http::Method::PUT, &format!("/{name}"), Some(json_bytes(&definition)?)).await?;
        if !created.ok() && created.error_type() != "resource_already_exists_exception" {
            created.into_ok("creating an index")?;
        }
    } else {
        let path = format!("/{name}/_mapping");
        let updated = call(app, http::Method::PUT, &path, Some(json_bytes(&definition["mappings"])?)).await?;
        if !updated.ok() {
            tracing::error!(index = %name, status = updated.status, answer = %updated.body, "the index's mappings differ from the code's");
        }
    }
    if let Ok(mut r) = READY.lock() {
        r.push(name.clone());
    }
    Ok(name)
}

/// How a write meets the version already in the index.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Applied,
    /// The index holds a newer version: this write is stale and was dropped.
    Stale,
}

/// Indexes `doc` under `id` unless the index holds a newer version (`external_gte`: the
/// same version again overwrites, so derived fields such as a company name refresh).
pub async fn put<T: Serialize>(app: &App, kind: IndexKind, id: &str, version: u64, doc: &T) -> ApiResult<Written> {
    let index = ensure_index(app, kind).await?;
    let path = format!("/{index}/_doc/{}?version={version}&version_type=external_gte", encode(id));
    written(
        call(app, http::Method::PUT, &path, Some(json_bytes(doc)?)).await?,
        "indexing a document",
    )
}

/// Removes `id` at `version`: the engine keeps the deletion's version, so an older write
/// arriving later is refused.
pub async fn delete(app: &App, kind: IndexKind, id: &str, version: u64) -> ApiResult<Written> {
    let index = ensure_index(app, kind).await?;
    let path = format!("/{index}/_doc/{}?version={version}&version_type=external_gte", encode(id));
    let answer = call(app, http::Method::DELETE, &path, None).await?;
    if answer.status == 404 {
        return Ok(Written::Applied);
    }
    written(answer, "deleting a document")
}

fn written(answer: Answer, what: &str) -> ApiResult<Written> {
    if answer.status == 409 && answer.error_type() == "version_conflict_engine_exception" {
        return Ok(Written::Stale);
    }
    answer.into_ok(what).map(|_| Written::Applied)
}

fn encode(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// One write of a bulk request.
pub enum BulkOp {
    Put { id: String, version: u64, doc: Value },
    Delete { id: String, version: u64 },
}

/// Writes many documents in one request per 500 (`_bulk`), each under the same version
/// rules as [`put`] and [`delete`]; a stale write is not an error.
pub async fn bulk(app: &App, kind: IndexKind, ops: Vec<BulkOp>) -> ApiResult<()> {
    let index = ensure_index(app, kind).await?;
    for chunk in ops.chunks(500) {
        let mut nd = Vec::new();
        for op in chunk {
            let (action, id, version, doc) = match op {
                BulkOp::Put { id, version, doc } => ("index", id, version, Some(doc)),
                BulkOp::Delete { id, version } => ("delete", id, version, None),
            };
            let meta = serde_json::json!({ action: {"_id": encode(id), "version": version, "version_type": "external_gte"} });
            nd.extend(json_bytes(&meta)?);
            nd.push(b'\n');
            if let Some(doc) = doc {
                nd.extend(json_bytes(doc)?);
                nd.push(b'\n');
            }
        }
        let path = format!("/{index}/_bulk");
        let answer = call(app, http::Method::POST, &path, Some(nd)).await?.into_ok("a bulk write")?;
        let failed = answer["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i.as_object().and_then(|o| o.values().next()))
            .find(|r| {
                let status = r["status"].as_u64().unwrap_or(500);
                !(200..300).contains(&status) && status != 404 && status != 409
            });
        if let Some(f) = failed {
            return Err(ApiError::internal(format!("search engine refused a bulk write: {f}")));
        }
    }
    Ok(())
}

/// The ids of every document `query` finds, in `id_field` order, page after page (no
/// scroll on Serverless: `search_after`).
pub async fn ids(app: &App, kind: IndexKind, id_field: &'static str, query: Query) -> ApiResult<Vec<String>> {
    const PAGE: usize = 500;
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let mut body = SearchBody::new(query.clone(), PAGE);
        body.sort = vec![Sort::by(id_field, "asc")];
        body.search_after = after.take();
        body.source = Some(vec![id_field]);
        let res: SearchResponse<Value> = search(app, kind, &body).await?;
        let n = res.hits.hits.len();
        after = res.hits.hits.last().and_then(|h| h.sort.clone());
        out.extend(res.hits.hits.into_iter().map(|h| h.id));
        if n < PAGE || after.is_none() {
            return Ok(out);
        }
    }
}

/// One search request; the body is a typed query serialized.
pub async fn search<Q: Serialize, R: DeserializeOwned>(app: &App, kind: IndexKind, body: &Q) -> ApiResult<R> {
    let index = ensure_index(app, kind).await?;
    let answer = call(app, http::Method::POST, &format!("/{index}/_search"), Some(json_bytes(body)?)).await?;
    serde_json::from_value(answer.into_ok("a search")?).map_err(ApiError::internal)
}

/// Several searches in one request (`_msearch`); one answer per body, in order.
pub async fn msearch<Q: Serialize>(app: &App, kind: IndexKind, bodies: &[Q]) -> ApiResult<Vec<Value>> {
    if bodies.is_empty() {
        return Ok(vec![]);
    }
    let index = ensure_index(app, kind).await?;
    let mut nd = Vec::new();
    for b in bodies {
        nd.extend(b"{}\n");
        nd.extend(json_bytes(b)?);
        nd.push(b'\n');
    }
    // On the index's path: permissions (Serverless data access policies) are per index.
    let path = format!("/{index}/_msearch");
    let answer = call(app, http::Method::POST, &path, Some(nd)).await?.into_ok("a multi-search")?;
    match answer.get("responses") {
        Some(Value::Array(r)) => Ok(r.clone()),
        _ => Err(ApiError::internal("multi-search answer without responses")),
    }
}
