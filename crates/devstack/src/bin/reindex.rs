//! `make reindex`: rebuilds every search index of the local stack (prefix `dev`) from its
//! table while search keeps answering. SEARCH_ENDPOINT is the search stand-in's URL
//! (`make dev` prints it; default http://127.0.0.1:9200).
//!
//! Deployed, invoke the stack's SearchReindexFunction instead (README, "Search").

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::var("SEARCH_ENDPOINT").is_err() {
        std::env::set_var("SEARCH_ENDPOINT", "http://127.0.0.1:9200");
    }
    let (app, table) = devstack::tool_app().await;
    match search::reindex::run(&app).await {
        Ok(r) => println!("search indexes rebuilt from {table}: {r:?}"),
        Err(e) => {
            eprintln!("could not rebuild the search indexes: {} ({:?})", e.message, e.source);
            std::process::exit(1);
        }
    }
}
