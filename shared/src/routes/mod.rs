//! Every route, declared once. The Cargo.toml router of `cargo lambda watch`, the SAM
//! template, the function crates and the sample events are held to this list by its test.

use crate::store::keys::Prefix;

/// One HTTP route and the function serving it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
    /// Callable without credentials, or with a user's own: a short retry budget, and a cap
    /// on its Lambda concurrency.
    pub public: bool,
}

const fn r(method: &'static str, path: &'static str, function: &'static str) -> Route {
    Route {
        method,
        path,
        function,
        public: false,
    }
}

const fn public(method: &'static str, path: &'static str, function: &'static str) -> Route {
    Route {
        method,
        path,
        function,
        public: true,
    }
}

pub const ROUTES: [Route; 51] = [
    r("GET", "/networks/{network_id}/connections", "list-programs"),
    r(
        "PUT",
        "/networks/{network_id}/connections/{program_id}",
        "upsert-program",
    ),
    r(
        "POST",
        "/networks/{network_id}/connections/{program_id}",
        "add-connection",
    ),
    r(
        "GET",
        "/networks/{network_id}/connections/{program_id}/users/{user}",
        "get-user-connections",
    ),
    r(
        "GET",
        "/networks/{network_id}/connections/{program_id}/users/{user}/codes",
        "get-connection-codes",
    ),
    r(
        "POST",
        "/networks/{network_id}/connections/{program_id}/users/{user}/codes",
        "create-code",
    ),
    r(
        "PATCH",
        "/networks/{network_id}/codes/{code}",
        "update-code",
    ),
    r(
        "GET",
        "/networks/{network_id}/connections/{program_id}/leaderboard",
        "get-leaderboard",
    ),
    r(
        "PUT",
        "/networks/{network_id}/connections/{program_id}/users/{user}/referrer",
        "change-referrer",
    ),
    r(
        "DELETE",
        "/networks/{network_id}/connections/{program_id}/users/{user}/referrer",
        "remove-referrer",
    ),
    r("GET", "/networks/{network_id}/jobs/{job_id}", "get-job"),
    r("POST", "/networks/{network_id}/user_status", "user-status"),
    r(
        "PUT",
        "/networks/{network_id}/connections/{program_id}/rules/{rule_id}",
        "put-rule",
    ),
    r(
        "GET",
        "/networks/{network_id}/connections/{program_id}/rules",
        "list-rules",
    ),
    r("POST", "/networks/{network_id}/events", "post-event"),
    r(
        "GET",
        "/networks/{network_id}/events/{event_id}",
        "get-event",
    ),
    r(
        "GET",
        "/networks/{network_id}/users/{user}/rewards",
        "get-user-rewards",
    ),
    r(
        "POST",
        "/networks/{network_id}/events/{event_id}/reverse",
        "reverse-event",
    ),
    r(
        "GET",
        "/networks/{network_id}/connections/{program_id}/rewards",
        "list-program-rewards",
    ),
    r(
        "POST",
        "/networks/{network_id}/rewards/{reward_id}/approve",
        "approve-reward",
    ),
    r(
        "POST",
        "/networks/{network_id}/rewards/{reward_id}/void",
        "void-reward",
    ),
    r("POST", "/networks/{network_id}/payouts", "create-payout"),
    r(
        "GET",
        "/networks/{network_id}/payouts/{payout_id}",
        "get-payout",
    ),
    r(
        "GET",
        "/networks/{network_id}/payouts/{payout_id}/lines",
        "list-payout-lines",
    ),
    public(
        "POST",
        "/api/v0/get-referral-info-for-user",
        "get-referral-info-for-user",
    ),
    public(
        "POST",
        "/api/v0/get-referral-info-for-referral-hash",
        "get-referral-info-for-referral-hash",
    ),
    public("POST", "/api/v0/jumio-begin", "jumio-begin"),
    public(
        "GET",
        "/api/v0/admin/get-usd-cents-to-deso-reserve-exchange-rate",
        "get-usd-cents-to-deso-reserve-exchange-rate",
    ),
    r(
        "POST",
        "/api/v0/admin/create-referral-hash",
        "admin-create-referral-hash",
    ),
    r(
        "POST",
        "/api/v0/admin/update-referral-hash",
        "admin-update-referral-hash",
    ),
    r(
        "POST",
        "/api/v0/admin/get-all-referral-info-for-user",
        "admin-get-all-referral-info-for-user",
    ),
    r(
        "POST",
        "/api/v0/admin/download-referral-csv",
        "admin-download-referral-csv",
    ),
    r(
        "POST",
        "/api/v0/admin/upload-referral-csv",
        "admin-upload-referral-csv",
    ),
    r(
        "POST",
        "/api/v0/admin/update-jumio-country-sign-up-bonus",
        "admin-update-jumio-country-sign-up-bonus",
    ),
    r(
        "POST",
        "/api/v0/admin/get-all-country-level-sign-up-bonuses",
        "admin-get-all-country-level-sign-up-bonuses",
    ),
    r(
        "POST",
        "/api/v0/admin/update-jumio-usd-cents",
        "admin-update-jumio-usd-cents",
    ),
    r(
        "POST",
        "/api/v0/admin/update-jumio-kickback-usd-cents",
        "admin-update-jumio-kickback-usd-cents",
    ),
    r(
        "POST",
        "/api/v0/admin/set-usd-cents-to-deso-reserve-exchange-rate",
        "admin-set-usd-cents-to-deso-reserve-exchange-rate",
    ),
    r(
        "POST",
        "/api/v0/admin/jumio-callback",
        "admin-jumio-callback",
    ),
    r("POST", "/networks/{network_id}/webhooks", "create-webhook"),
    r("GET", "/networks/{network_id}/webhooks", "list-webhooks"),
    r(
        "GET",
        "/networks/{network_id}/webhooks/{webhook_id}",
        "get-webhook",
    ),
    r(
        "PATCH",
        "/networks/{network_id}/webhooks/{webhook_id}",
        "update-webhook",
    ),
    r(
        "DELETE",
        "/networks/{network_id}/webhooks/{webhook_id}",
        "delete-webhook",
    ),
    r(
        "POST",
        "/networks/{network_id}/webhooks/{webhook_id}/rotate_secret",
        "rotate-webhook-secret",
    ),
    r(
        "POST",
        "/networks/{network_id}/webhooks/{webhook_id}/test",
        "test-webhook",
    ),
    r(
        "GET",
        "/networks/{network_id}/webhooks/{webhook_id}/deliveries",
        "list-webhook-deliveries",
    ),
    r(
        "POST",
        "/networks/{network_id}/webhooks/{webhook_id}/deliveries/{message_id}/retry",
        "retry-webhook-delivery",
    ),
    r(
        "POST",
        "/networks/{network_id}/webhooks/{webhook_id}/replay",
        "replay-webhook",
    ),
    // The operators' page and its files: static, the key is pasted into the page.
    public("GET", "/console", "console"),
    public("GET", "/console/{asset}", "console"),
];

/// Functions fed by the table's stream: (function, PK prefixes of the items it is fed).
pub const STREAM_FUNCTIONS: [(&str, &[Prefix]); 6] = [
    ("aggregate-counts", &[Prefix::Down]),
    ("merge-boards", &[Prefix::Cnt, Prefix::RScore]),
    ("move-worker", &[Prefix::Job]),
    (
        "derive-rewards",
        &[Prefix::Mem, Prefix::Evt, Prefix::URwd, Prefix::Credit],
    ),
    ("payout-worker", &[Prefix::Pay]),
    (
        "webhook-fanout",
        &[
            Prefix::Mem,
            Prefix::Rwd,
            Prefix::Job,
            Prefix::Pay,
            Prefix::User,
            Prefix::CodeShard,
        ],
    ),
];

/// How the stream's event source mappings deliver, in the template and in the local poller.
#[derive(Clone, Copy, Debug)]
pub struct StreamMapping {
    /// Retries of a batch before it goes to the failure destination.
    pub max_retries: u32,
    /// Records older than this go to the failure destination unread.
    pub max_record_age_secs: u32,
    /// A failing batch is split in two and each half retried.
    pub bisect: bool,
}

pub const STREAM_MAPPING: StreamMapping = StreamMapping {
    max_retries: 10,
    max_record_age_secs: 6 * 3600,
    bisect: true,
};

/// Functions EventBridge runs on a schedule: (function, the template parameter of its rate).
pub const SCHEDULED_FUNCTIONS: [(&str, &str); 2] = [
    ("repair", "RepairSchedule"),
    ("webhook-sender", "WebhookSenderSchedule"),
];

/// Every function: the routes', then the stream consumers', then the scheduled ones.
/// Whether `function` serves a write under a network, which takes an `Idempotency-Key`.
pub fn takes_idempotency_key(function: &str) -> bool {
    ROUTES.iter().any(|r| {
        r.function == function && r.method != "GET" && r.path.starts_with("/networks/{network_id}")
    })
}

pub fn all_functions() -> impl Iterator<Item = &'static str> {
    let mut seen = Vec::new();
    ROUTES
        .iter()
        .map(|r| r.function)
        .chain(STREAM_FUNCTIONS.iter().map(|(f, _)| *f))
        .chain(SCHEDULED_FUNCTIONS.iter().map(|(f, _)| *f))
        .filter(move |f| {
            let new = !seen.contains(f);
            seen.push(*f);
            new
        })
}

mod matching;
pub use matching::{params, path_of, route_of};

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn root(rel: &str) -> String {
        format!("{}/../{rel}", env!("CARGO_MANIFEST_DIR"))
    }

    /// (method, path, function) of the `cargo lambda watch` router in Cargo.toml.
    fn router() -> BTreeSet<(String, String, String)> {
        let text = std::fs::read_to_string(root("Cargo.toml")).expect("Cargo.toml");
        let section = text
            .split("[workspace.metadata.lambda.watch.router]")
            .nth(1)
            .expect("a router section");
        let mut out = BTreeSet::new();
        for line in section.lines().take_while(|l| !l.starts_with('[')) {
            let Some((path, rest)) = line.split_once(" = ") else {
                continue;
            };
            for entry in rest.split("{ ").skip(1) {
                let field = |name: &str| {
                    entry
                        .split(&format!("{name} = \""))
                        .nth(1)
                        .and_then(|v| v.split('"').next())
                        .unwrap_or_default()
                        .to_owned()
                };
                out.insert((
                    field("method"),
                    path.trim_matches('"').to_owned(),
                    field("function"),
                ));
            }
        }
        out
    }

    #[test]
    fn the_local_router_serves_every_route_and_no_other() {
        let declared: BTreeSet<_> = ROUTES
            .iter()
            .map(|r| {
                (
                    r.method.to_owned(),
                    r.path.to_owned(),
                    r.function.to_owned(),
                )
            })
            .collect();
        assert_eq!(router(), declared);
        assert_eq!(declared.len(), ROUTES.len(), "each route once");
    }

    #[test]
    fn the_openapi_document_describes_every_route_and_no_other() {
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(root("openapi.yaml")).expect("openapi"))
                .expect("yaml");
        let mut described = BTreeSet::new();
        for (path, ops) in doc["paths"].as_mapping().expect("paths") {
            for (method, _) in ops.as_mapping().expect("operations") {
                described.insert((
                    method.as_str().unwrap_or_default().to_uppercase(),
                    path.as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        let declared: BTreeSet<_> = ROUTES
            .iter()
            .map(|r| (r.method.to_owned(), r.path.to_owned()))
            .collect();
        assert_eq!(described, declared);
    }

    #[test]
    fn every_function_has_its_crate_and_its_event() {
        let declared: BTreeSet<String> = all_functions().map(str::to_owned).collect();
        let crates: BTreeSet<String> = std::fs::read_dir(root("functions"))
            .expect("functions/")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        assert_eq!(crates, declared, "functions/ holds one crate per function");
        for f in &declared {
            let ev = std::fs::read_to_string(root(&format!("events/{f}.json")));
            assert!(ev.is_ok(), "events/{f}.json");
        }
    }

    #[test]
    fn every_function_runs_its_own_handler() {
        use crate::lambda::Handler;
        for r in &ROUTES {
            assert!(
                matches!(crate::api::handler_of(r.function), Some(Handler::Http(_))),
                "{}",
                r.function
            );
        }
        for (f, _) in &STREAM_FUNCTIONS {
            assert!(
                matches!(crate::api::handler_of(f), Some(Handler::Stream(_))),
                "{f}"
            );
        }
        for (f, _) in &SCHEDULED_FUNCTIONS {
            assert!(
                matches!(crate::api::handler_of(f), Some(Handler::Scheduled(_))),
                "{f}"
            );
        }
        assert!(crate::api::handler_of("no-such-function").is_none());
        // each main is one line naming its own module's handler
        for f in all_functions() {
            let main: String = std::fs::read_to_string(root(&format!("functions/{f}/src/main.rs")))
                .expect("main.rs")
                .split_whitespace()
                .collect::<String>()
                .replace(",)", ")");
            let module = f.replace('-', "_");
            let named = [
                format!("shared::lambda::main(shared::api::{module}::HANDLER)"),
                format!("shared::lambda::main(shared::api::deso::{module}::HANDLER)"),
                format!("shared::lambda::main(shared::api::webhooks::{module}::HANDLER)"),
            ];
            assert!(named.iter().any(|n| main.contains(n)), "{f}: {main}");
        }
    }

    #[test]
    fn concrete_paths_find_their_route() {
        let (r, found) =
            route_of("PUT", "/networks/n/connections/p/users/a@x.io/referrer").unwrap();
        assert_eq!(r.function, "change-referrer");
        assert_eq!(found[2], ("user", "a@x.io".to_owned()));
        assert_eq!(
            route_of("DELETE", "/networks/n/connections/p/users/a@x.io/referrer")
                .unwrap()
                .0
                .function,
            "remove-referrer"
        );
        assert!(route_of("PATCH", "/networks/n/connections").is_none());
        assert!(route_of("GET", "/networks//connections").is_none());
        assert!(route_of("GET", "/prod/networks/n/connections").is_none());
        // a handler reads its parameters past a stage prefix
        let t = path_of("upsert-program");
        assert_eq!(t, "/networks/{network_id}/connections/{program_id}");
        let p = params(t, "/prod/networks/n1/connections/p1", true).unwrap();
        assert_eq!(
            p,
            [
                ("network_id", "n1".to_owned()),
                ("program_id", "p1".to_owned())
            ]
        );
        assert!(params(t, "/networks/n1/other/p1", true).is_none());
        assert!(params(t, "/n1/p1", true).is_none());
    }

    #[test]
    fn every_sample_event_names_its_own_route() {
        let dir = std::fs::read_dir(root("events")).expect("events/");
        let mut checked = 0;
        for entry in dir.flatten() {
            let name = entry.file_name().into_string().unwrap_or_default();
            let Some(function) = name.strip_suffix(".json") else {
                continue;
            };
            let ev: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(entry.path()).expect("read"))
                    .expect("json");
            let Some(path) = ev["rawPath"].as_str() else {
                if ev["source"] == "aws.events" {
                    assert!(
                        SCHEDULED_FUNCTIONS.iter().any(|(f, _)| *f == function),
                        "{name}: a scheduled event for a scheduled function"
                    );
                    continue;
                }
                assert!(
                    ev["Records"].is_array(),
                    "{name}: an HTTP, a stream or a scheduled event"
                );
                assert!(
                    STREAM_FUNCTIONS.iter().any(|(f, _)| *f == function),
                    "{name}: a stream event for a stream consumer"
                );
                continue;
            };
            let method = ev["requestContext"]["http"]["method"]
                .as_str()
                .unwrap_or("");
            let route = route_of(method, path).map(|(r, _)| r.function);
            assert_eq!(route, Some(function), "{name}: {method} {path}");
            assert_eq!(
                ev["routeKey"].as_str(),
                Some(format!("{method} {}", path_of(function)).as_str()),
                "{name}: routeKey"
            );
            checked += 1;
        }
        let functions: BTreeSet<&str> = ROUTES.iter().map(|r| r.function).collect();
        assert_eq!(checked, functions.len(), "one event per route function");
    }
}
