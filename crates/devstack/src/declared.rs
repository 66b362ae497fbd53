//! What each function's `functions!` row declares, for the local stack: the gateway, the
//! pollers and the WebSocket API run each function inside its declaration
//! ([`common::access::DECLARED`]), so its undeclared DynamoDB calls fail as IAM would.

use std::collections::HashMap;

use tokio::task::JoinHandle;

use crate::{generate, BINARIES};

/// What the row of function `name` declares (an HTTP route also holds the shared policies
/// of counted and idempotent routes).
pub fn of(name: &str) -> Option<common::access::Declared> {
    static ALL: std::sync::OnceLock<HashMap<&'static str, common::access::Declared>> = std::sync::OnceLock::new();
    let all = ALL.get_or_init(|| {
        let mut all = HashMap::new();
        for b in BINARIES {
            let routes = (b.routes)();
            for f in b.functions {
                let route = routes.iter().find(|r| r.name == f.name);
                let declared = common::access::Declared {
                    name: f.name,
                    access: f.access,
                    counted: route.is_some_and(|r| !generate::unlimited(r)),
                    idempotent: route.is_some_and(|r| r.idempotent),
                };
                all.insert(f.name, declared);
            }
        }
        all
    });
    all.get(name).copied()
}

/// Runs `task` (a poller of function `name`) as that function: its DynamoDB calls are held
/// to what its row declares.
pub fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(name: &str, task: F) -> JoinHandle<()> {
    match of(name) {
        Some(d) => tokio::spawn(common::access::DECLARED.scope(d, task)),
        None => tokio::spawn(task),
    }
}
