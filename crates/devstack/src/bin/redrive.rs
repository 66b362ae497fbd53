//! `make redrive QUEUE=<logical id>` (the running `make dev`: moves its dead-letter queue's
//! messages back to it) or `make redrive FROM_URL=<dlq url> TO_URL=<queue url>` (a deployed
//! stack; docs/operations.md says how to find the URLs). Run it after the cause is fixed.

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("redrive: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| args.windows(2).find(|w| w[0] == name).map(|w| w[1].clone());
    let sdk = devstack::load_sdk_config().await;
    let (from, to) = match (arg("--queue"), arg("--from"), arg("--to")) {
        (Some(queue), None, None) => {
            let t = devstack::template::Template::load(&devstack::default_template())?;
            let dlq = devstack::redrive::dlq_of(&t, &queue)?;
            let prefix = std::env::var("LOCAL_PREFIX").unwrap_or_else(|_| "dev".into());
            (
                devstack::redrive::local_url(&sdk, &prefix, &dlq).await?,
                devstack::redrive::local_url(&sdk, &prefix, &queue).await?,
            )
        }
        (None, Some(from), Some(to)) => (from, to),
        _ => return Err("usage: redrive --queue <logical id> | --from <dlq url> --to <queue url>".into()),
    };
    let moved = devstack::redrive::redrive(&sdk, &from, &to).await?;
    println!("moved {moved} message(s) from {from} to {to}");
    Ok(())
}
