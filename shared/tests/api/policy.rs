//! Every DynamoDB call a function makes in these tests is held to its declared access
//! (`shared::policy`), from which the template's IAM policies are generated. DynamoDB Local
//! ignores IAM, so this is what shows a policy is enough: a call outside it fails, naming the
//! function, the action and the partition. What each function used is written to
//! `<target>/tmp/policy-use.txt`, which `make test` holds against the declarations, so that
//! none is wider than the functions need.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Mutex;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use shared::policy::{access, touches, Part};

tokio::task_local! {
    /// The function whose handler is running.
    pub static FUNCTION: &'static str;
}

/// Runs `fut` as function `name`: its DynamoDB calls are checked against its access.
pub async fn as_function<F: std::future::Future>(name: &str, fut: F) -> F::Output {
    let name: &'static str = shared::routes::all_functions()
        .find(|f| *f == name)
        .unwrap_or("unknown-function");
    FUNCTION.scope(name, fut).await
}

static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Appends a use once per process to the file `make test` checks.
fn record(line: String) {
    let Ok(mut seen) = SEEN.lock() else { return };
    if !seen.insert(line.clone()) {
        return;
    }
    let path = format!("{}/policy-use.txt", env!("CARGO_TARGET_TMPDIR"));
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

#[derive(Debug, Clone, Default)]
pub struct PolicyCheck;

impl Intercept for PolicyCheck {
    fn name(&self) -> &'static str {
        "PolicyCheck"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(function) = FUNCTION.try_with(|f| *f) else {
            return Ok(());
        };
        let req = ctx.request();
        let op = req
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.split('.').nth(1))
            .unwrap_or("")
            .to_owned();
        let body: serde_json::Value =
            serde_json::from_slice(req.body().bytes().unwrap_or(b"{}")).unwrap_or_default();
        let refuse = |why: String| -> Result<(), BoxError> {
            let msg = format!("policy: {function} {why}");
            eprintln!("{msg}");
            Err(msg.into())
        };
        let Some(acc) = access(function) else {
            return refuse("has no declared access".into());
        };
        let uses = match touches(&op, &body) {
            Ok(u) => u,
            Err(e) => return refuse(format!("makes a call the policies cannot place: {e}")),
        };
        for (action, part) in uses {
            let where_ = match part {
                Part::Table(p) => p.as_str().to_owned(),
                Part::Index(p) => format!("{}:{}", p.index(), p.as_str()),
            };
            record(format!("{function} {} {where_}", action.iam()));
            if !acc.allows(action, part) {
                return refuse(format!(
                    "{} on {where_} is outside its policy",
                    action.iam()
                ));
            }
        }
        Ok(())
    }
}
