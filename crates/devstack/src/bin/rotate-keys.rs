//! `make rotate-keys [STACK=name] [AFTER=seconds] [ONLY=signing|field]`: adds a new key to
//! the signing and field-encryption rings of a stack (the secrets `<stack>-signing-keys` and
//! `<stack>-field-keys` of template.yaml). The new key verifies and opens at once in every
//! container that fetches the ring (each does within `common::secrets::REFRESH_SECS`) and
//! starts signing and sealing AFTER seconds later (default 15 minutes), so nobody is signed
//! out and no value is sealed with a key a container lacks.
//!
//! AWS: the standard chain (AWS_ENDPOINT_URL for the stand-in, real credentials for AWS).

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| args.windows(2).find(|w| w[0] == name).map(|w| w[1].clone());
    let stack = arg("--stack").unwrap_or_else(|| std::env::var("LOCAL_PREFIX").unwrap_or_else(|_| "dev".into()));
    let after = match arg("--after").map(|a| a.parse::<i64>()) {
        None => common::secrets::DEFAULT_ROTATION_DELAY_SECS,
        Some(Ok(a)) if a >= 0 => a,
        Some(_) => usage(),
    };
    let rings: &[&str] = match arg("--only").as_deref() {
        None => &["signing", "field"],
        Some("signing") => &["signing"],
        Some("field") => &["field"],
        Some(_) => usage(),
    };
    let client = aws_sdk_secretsmanager::Client::new(&devstack::load_sdk_config().await);
    let mut failed = false;
    for ring in rings {
        let secret = format!("{stack}-{ring}-keys");
        match common::secrets::rotate(&client, &secret, after).await {
            Ok((before, after)) => println!("{secret}: {before:?}\n{:>w$}  -> {after:?}", "", w = secret.len()),
            Err(e) => {
                eprintln!("{secret}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}

fn usage() -> ! {
    eprintln!("usage: rotate-keys [--stack NAME] [--after SECONDS] [--only signing|field]");
    std::process::exit(2);
}
