//! The OpenAPI 3.1 document of the whole API: every domain's part merged. Written to
//! docs/openapi.json by `make openapi`; the platform function serves that file.

use utoipa::openapi::{InfoBuilder, OpenApi};
use utoipa::{Modify, OpenApi as _};

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
    doc
}

pub fn to_json() -> String {
    document().to_pretty_json().expect("the document serialises") + "\n"
}
