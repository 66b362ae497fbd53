//! `make admin EMAIL=... PASSWORD=... [NAME=...]`: creates an admin account.
//!
//! Table: TABLE_NAME, or `<LOCAL_PREFIX>-Table` of the local stack (prefix `dev`).
//! AWS: the standard chain (AWS_ENDPOINT_URL for the stand-in, real credentials for AWS).

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| args.windows(2).find(|w| w[0] == name).map(|w| w[1].clone());
    let (Some(email), Some(password)) = (arg("--email"), arg("--password")) else {
        eprintln!("usage: create-admin --email EMAIL --password PASSWORD [--name NAME]");
        std::process::exit(2);
    };
    let name = arg("--name").unwrap_or_else(|| "Administrator".into());
    let (app, table) = devstack::tool_app().await;
    match auth::admin::create_admin(&app, &email, &password, &name).await {
        Ok(id) => println!("admin {email} created (id {id}) in table {table}"),
        Err(e) => {
            eprintln!(
                "could not create the admin: {} {}",
                e.message,
                e.details.map(|d| d.to_string()).unwrap_or_default()
            );
            std::process::exit(1);
        }
    }
}
