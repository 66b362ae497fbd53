//! What a function touches, declared in its row of the crate's `functions!` table: the
//! table's actions (and whether on the indexes too), the key rings, the uploads bucket's
//! prefixes, the search collection, the push endpoints, the live connections. `make
//! template` writes each function's environment and least-privilege policies from it; the
//! local stack refuses, as IAM would, a DynamoDB call its function did not declare.
//!
//! ```ignore
//! "jobs-create" => create: table(&[Get, Put, Update, ConditionCheck, Delete]).indexes(),
//! ```
//!
//! An `other` row (a consumer, a schedule, the relay) says what starts it as well:
//!
//! ```ignore
//! "jobs-expire" => Scheduled(expiry::handler): table(&[Query, Get, Put, Update, ConditionCheck])
//!     .indexes()
//!     .on(Schedule("rate(5 minutes)", "Stores open jobs past their deadline as expired")),
//! ```
//!
//! What every counted route needs (the signing keys, its rate-limit counter, the session
//! check) follows from the route itself ([`crate::http::UNLIMITED`]) and is not declared.

/// A DynamoDB action on the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Db {
    Get,
    BatchGet,
    Query,
    Put,
    Update,
    Delete,
    ConditionCheck,
    BatchWrite,
}

impl Db {
    /// The IAM action (`dynamodb:GetItem`) without the service prefix.
    pub const fn action(self) -> &'static str {
        match self {
            Db::Get => "GetItem",
            Db::BatchGet => "BatchGetItem",
            Db::Query => "Query",
            Db::Put => "PutItem",
            Db::Update => "UpdateItem",
            Db::Delete => "DeleteItem",
            Db::ConditionCheck => "ConditionCheckItem",
            Db::BatchWrite => "BatchWriteItem",
        }
    }

    /// The action an SDK operation needs (`TransactWriteItems` needs one per item kind and
    /// is checked item by item; `TransactGetItems` needs `GetItem`).
    pub fn of_operation(op: &str) -> Option<Db> {
        Some(match op {
            "GetItem" | "TransactGetItems" => Db::Get,
            "BatchGetItem" => Db::BatchGet,
            "Query" => Db::Query,
            "PutItem" => Db::Put,
            "UpdateItem" => Db::Update,
            "DeleteItem" => Db::Delete,
            "ConditionCheckItem" => Db::ConditionCheck,
            "BatchWriteItem" => Db::BatchWrite,
            _ => return None,
        })
    }
}

/// An S3 action on the uploads bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum S3 {
    GetObject,
    PutObject,
    DeleteObject,
}

impl S3 {
    pub const fn action(self) -> &'static str {
        match self {
            S3::GetObject => "GetObject",
            S3::PutObject => "PutObject",
            S3::DeleteObject => "DeleteObject",
        }
    }
}

/// An SNS action on push endpoints (`CreatePlatformEndpoint` also on the platform
/// applications it creates them in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    CreateEndpoint,
    SetEndpointAttributes,
    DeleteEndpoint,
    /// Sends a push message to an endpoint.
    Publish,
}

impl Push {
    pub const fn action(self) -> &'static str {
        match self {
            Push::CreateEndpoint => "CreatePlatformEndpoint",
            Push::SetEndpointAttributes => "SetEndpointAttributes",
            Push::DeleteEndpoint => "DeleteEndpoint",
            Push::Publish => "Publish",
        }
    }
}

/// Objects of the uploads bucket under `prefix` (`files/resume/*`, `*` for all).
pub type Uploads = (&'static [S3], &'static str);

/// A function's declared access (see the module's text). Built with [`table`] or
/// [`NOTHING`] and the methods below, in `const` context.
#[derive(Clone, Copy, Debug)]
pub struct Access {
    pub table: &'static [Db],
    /// The table's actions apply to its indexes too (`${Table.Arn}/index/*`).
    pub indexes: bool,
    /// Reads the field-encryption key ring (FIELD_KEYS_SECRET).
    pub field_keys: bool,
    /// Sends to the analytics ingest queue (ANALYTICS_QUEUE_URL).
    pub analytics: bool,
    /// Calls the search collection.
    pub search: bool,
    pub uploads: &'static [Uploads],
    /// Lists the uploads bucket.
    pub uploads_list: bool,
    pub push: &'static [Push],
    /// Posts to and closes live (WebSocket) connections.
    pub live: bool,
    /// MemorySize in MB when not the Globals' one.
    pub memory: Option<u32>,
    /// Timeout in seconds when not the Globals' one.
    pub timeout: Option<u32>,
    /// Reads the signing key ring although it is no counted route (consumers sealing links,
    /// the WebSocket `$connect` verifying tokens); counted routes read it anyway.
    pub signing_keys: bool,
    /// Checks sessions (`$connect`); counted routes do anyway.
    pub session_check: bool,
    /// Sends email from the stack's address (SES).
    pub mail: bool,
    /// Publishes to the events topic (the outbox relay).
    pub publishes: bool,
    /// What starts the function when it is no HTTP row ([`Trigger`]).
    pub trigger: Trigger,
    /// The function's `Description` in template.yaml, when it has one.
    pub description: Option<&'static str>,
}

/// What starts a function of a crate's `other` rows (an `http` row is started by its route).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Its HTTP route, from the handler's `#[utoipa::path]`.
    Route,
    /// Every HTTP request that no route matches (`$default`).
    Unmatched,
    /// Messages of these SQS queues (reporting partial batch failures).
    Queues(&'static [Queue]),
    /// An EventBridge schedule (`rate(5 minutes)`, `cron(0 8 * * ? *)`) and what it does.
    Schedule(&'static str, &'static str),
    /// Objects created in the uploads bucket under this prefix (`incoming/`).
    Uploaded(&'static str),
    /// Outbox items inserted into the table (its stream).
    Outbox,
    /// A route of the WebSocket API, wired by hand in template.yaml's shared part.
    WebSocket,
    /// Invoked by hand (`aws lambda invoke`).
    Manual,
}

/// An SQS queue of the template's shared part that feeds a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Queue {
    /// The queue's logical id (`NotificationsQueue`), also the event's name.
    pub queue: &'static str,
    pub batch: u32,
    /// MaximumBatchingWindowInSeconds, when the function waits to fill its batches.
    pub window: Option<u32>,
}

/// Messages of `queue`, `batch` at a time, as soon as they come.
pub const fn queue(queue: &'static str, batch: u32) -> Queue {
    Queue {
        queue,
        batch,
        window: None,
    }
}

impl Queue {
    /// Waits up to `seconds` to fill a batch.
    pub const fn window(self, seconds: u32) -> Self {
        Queue {
            window: Some(seconds),
            ..self
        }
    }
}

/// Touches nothing of its own.
pub const NOTHING: Access = Access {
    table: &[],
    indexes: false,
    field_keys: false,
    analytics: false,
    search: false,
    uploads: &[],
    uploads_list: false,
    push: &[],
    live: false,
    memory: None,
    timeout: None,
    signing_keys: false,
    session_check: false,
    mail: false,
    publishes: false,
    trigger: Trigger::Route,
    description: None,
};

/// These actions on the table.
pub const fn table(actions: &'static [Db]) -> Access {
    Access { table: actions, ..NOTHING }
}

impl Access {
    pub const fn indexes(self) -> Self {
        Access { indexes: true, ..self }
    }
    pub const fn field_keys(self) -> Self {
        Access { field_keys: true, ..self }
    }
    pub const fn analytics(self) -> Self {
        Access { analytics: true, ..self }
    }
    pub const fn search(self) -> Self {
        Access { search: true, ..self }
    }
    pub const fn uploads(self, grants: &'static [Uploads]) -> Self {
        Access { uploads: grants, ..self }
    }
    pub const fn uploads_list(self) -> Self {
        Access {
            uploads_list: true,
            ..self
        }
    }
    pub const fn push(self, actions: &'static [Push]) -> Self {
        Access { push: actions, ..self }
    }
    pub const fn live(self) -> Self {
        Access { live: true, ..self }
    }
    pub const fn memory(self, mb: u32) -> Self {
        Access { memory: Some(mb), ..self }
    }
    pub const fn timeout(self, seconds: u32) -> Self {
        Access {
            timeout: Some(seconds),
            ..self
        }
    }
    pub const fn signing_keys(self) -> Self {
        Access {
            signing_keys: true,
            ..self
        }
    }
    pub const fn session_check(self) -> Self {
        Access {
            session_check: true,
            ..self
        }
    }
    pub const fn mail(self) -> Self {
        Access { mail: true, ..self }
    }
    pub const fn publishes(self) -> Self {
        Access { publishes: true, ..self }
    }
    /// Started by `trigger` (an `other` row).
    pub const fn on(self, trigger: Trigger) -> Self {
        Access { trigger, ..self }
    }
    pub const fn description(self, text: &'static str) -> Self {
        Access {
            description: Some(text),
            ..self
        }
    }

    /// Whether it reads or writes the uploads bucket (UPLOADS_BUCKET).
    pub const fn uses_uploads(&self) -> bool {
        !self.uploads.is_empty() || self.uploads_list
    }
}

mod enforce;
pub use enforce::{Declared, Enforce, DECLARED};
