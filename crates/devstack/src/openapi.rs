//! The OpenAPI 3.1 document of the whole API: every domain's part merged, with operation
//! ids derived from template.yaml's handler names (`jobs-create` -> `jobsCreate`), unique by
//! construction. Written to docs/openapi.json by `make openapi`; the platform function
//! serves that file.

use utoipa::openapi::path::Operation;
use utoipa::openapi::{InfoBuilder, OpenApi};
use utoipa::{Modify, OpenApi as _};

use crate::template::Template;

pub fn document() -> OpenApi {
    let mut doc = auth::Api::openapi();
    doc.merge(companies::Api::openapi());
    doc.merge(categories::Api::openapi());
    doc.merge(profiles::Api::openapi());
    doc.merge(admin::Api::openapi());
    doc.merge(jobs::Api::openapi());
    doc.merge(files::Api::openapi());
    doc.merge(privacy::Api::openapi());
    doc.merge(applications::Api::openapi());
    doc.merge(analytics::Api::openapi());
    doc.merge(search::Api::openapi());
    doc.merge(notifications::Api::openapi());
    doc.merge(platform::Api::openapi());
    doc.info = InfoBuilder::new()
        .title("Job platform API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "HTTP API of the job platform. JSON in and out, snake_case, ULID ids, RFC 3339 UTC times. \
             Errors: {error, message, details, request_id}; every response carries x-request-id. \
             Lists: ?limit= (1-100, default 20) and an opaque ?cursor=; replies are {items, next_cursor}.",
        ))
        .build();
    common::api_doc::BearerAuth.modify(&mut doc);
    let t = Template::load(&crate::default_template()).expect("template.yaml loads");
    name_operations(&mut doc, &t).expect("every documented operation is a route of template.yaml");
    doc
}

/// `jobs-admin-moderate` -> `jobsAdminModerate`.
pub fn operation_id(handler: &str) -> String {
    let mut out = String::with_capacity(handler.len());
    let mut upper = false;
    for c in handler.chars() {
        if c == '-' || c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn operation_mut<'a>(doc: &'a mut OpenApi, method: &str, path: &str) -> Option<&'a mut Operation> {
    let item = doc.paths.paths.get_mut(path)?;
    match method {
        "GET" => item.get.as_mut(),
        "POST" => item.post.as_mut(),
        "PUT" => item.put.as_mut(),
        "PATCH" => item.patch.as_mut(),
        "DELETE" => item.delete.as_mut(),
        _ => None,
    }
}

/// Sets every operation's id from the template route it documents; an operation of no route
/// is an error (documented but not deployed).
pub fn name_operations(doc: &mut OpenApi, t: &Template) -> Result<(), String> {
    let mut named = 0;
    for (method, path, handler) in t.http_routes()? {
        if let Some(op) = operation_mut(doc, &method, &path) {
            op.operation_id = Some(operation_id(&handler));
            named += 1;
        }
    }
    let total: usize = doc
        .paths
        .paths
        .values()
        .map(|i| {
            [&i.get, &i.post, &i.put, &i.patch, &i.delete, &i.head, &i.options, &i.trace]
                .iter()
                .filter(|o| o.is_some())
                .count()
        })
        .sum();
    if named == total {
        Ok(())
    } else {
        Err(format!("{} documented operations are not routes of template.yaml", total - named))
    }
}

/// The document as served: [`document`] completed by [`crate::contract::complete`].
pub fn to_json() -> String {
    let mut doc = serde_json::to_value(document()).expect("the document serialises");
    crate::contract::complete(&mut doc);
    serde_json::to_string_pretty(&doc).expect("the document serialises") + "\n"
}
