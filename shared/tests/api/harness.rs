//! Runs the real handlers on real API Gateway events against DynamoDB Local.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use shared::domain::NetworkId;
use shared::lambda::Handler;
use shared::store::metrics::CallCounter;
use shared::{auth, AppState, Config};

pub const TABLE: &str = "refnet-test";

/// Everything the handlers log in this test process, as the JSON lines Lambda would see.
static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

tokio::task_local! {
    /// The logs of one test's own calls, when it asks for them.
    static TASK_LOGS: std::sync::Arc<std::sync::Mutex<Vec<u8>>>;
}

struct Capture;

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let own = TASK_LOGS.try_with(|l| {
            if let Ok(mut l) = l.lock() {
                l.extend_from_slice(buf);
            }
        });
        if own.is_err() {
            if let Ok(mut l) = LOGS.lock() {
                l.extend_from_slice(buf);
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Routes the handlers' logs into a buffer, once per process, at the level Lambda runs them.
fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info,shared=debug"))
            .with_current_span(true)
            .with_writer(|| Capture)
            .try_init();
    });
}

/// Runs `fut` and returns what it logged: the lines of this task's calls only, whatever other
/// tests log meanwhile.
pub async fn with_logs<F: Future>(fut: F) -> (F::Output, String) {
    capture_logs();
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let out = TASK_LOGS.scope(buf.clone(), fut).await;
    let text = buf.lock().map(|b| String::from_utf8_lossy(&b).into_owned());
    (out, text.unwrap_or_default())
}

/// The log output so far of every call no test captured for itself.
pub fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().map(|l| l.clone()).unwrap_or_default()).into_owned()
}

pub struct App {
    pub state: &'static AppState,
    pub calls: CallCounter,
    pub net: String,
    pub key: String,
    /// The conflict proxy this App's DynamoDB calls go through, if any.
    pub proxy: Option<std::sync::Arc<conflict_proxy::Handle>>,
    pub client: aws_sdk_dynamodb::Client,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

pub fn unique(prefix: &str) -> String {
    let mut r = [0u8; 4];
    getrandom::fill(&mut r).expect("entropy");
    format!(
        "{prefix}-{}-{:08x}",
        SEQ.fetch_add(1, Ordering::SeqCst),
        u32::from_le_bytes(r)
    )
}

/// A client of DynamoDB Local, or of `endpoint` (a conflict proxy in front of it).
pub async fn client(calls: &CallCounter, endpoint: Option<&str>) -> aws_sdk_dynamodb::Client {
    if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_err() {
        panic!("set AWS_ENDPOINT_URL_DYNAMODB to a running DynamoDB Local (make test does)");
    }
    let mut conf = local_sdk_config()
        .await
        .interceptor(calls.clone())
        .interceptor(crate::policy::PolicyCheck);
    if let Some(e) = endpoint {
        conf = conf.endpoint_url(e);
    }
    aws_sdk_dynamodb::Client::from_conf(conf.build())
}

/// The functions' SDK settings with DynamoDB Local's timeouts. On AWS one call answers in
/// milliseconds and 3 s means it is lost; DynamoDB Local on a busy 2-core machine (the tests
/// beside a build) can take longer, and a test would fail on the machine, not the code. The
/// unreachable and slow store are tested with the functions' own timeouts (robustness.rs,
/// faults.sh).
pub async fn local_sdk_config() -> aws_sdk_dynamodb::config::Builder {
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .operation_attempt_timeout(std::time::Duration::from_secs(15))
        .operation_timeout(std::time::Duration::from_secs(40))
        .build();
    shared::sdk_config()
        .await
        .to_builder()
        .timeout_config(timeouts)
}

/// How a test's App reaches DynamoDB.
#[derive(Clone, Default)]
pub struct Setup {
    /// Through a conflict proxy holding each transaction's items this long.
    pub hold_ms: Option<u64>,
    pub retry_budget_ms: Option<u64>,
    /// The public routes' budget, when it differs.
    pub public_budget_ms: Option<u64>,
}

impl App {
    /// A fresh network with its own key, and a program `p` with default settings.
    pub async fn new() -> App {
        let app = Self::bare().await;
        let (s, _) = app.put("/networks/{net}/connections/p", json!({})).await;
        assert_eq!(s, 201);
        app
    }

    /// A fresh network with its own key and no program.
    pub async fn bare() -> App {
        Self::with(Setup::default()).await
    }

    /// A fresh network and program `p`, reaching DynamoDB as `setup` says.
    pub async fn with_program(setup: Setup) -> App {
        let app = Self::with(setup).await;
        let (s, _) = app.put("/networks/{net}/connections/p", json!({})).await;
        assert_eq!(s, 201);
        app
    }

    /// A fresh network and program `p`, its DynamoDB calls through a conflict proxy that holds
    /// each transaction's items `hold_ms`, as DynamoDB does on AWS.
    pub async fn contended(hold_ms: u64) -> App {
        Self::with_program(Setup {
            hold_ms: Some(hold_ms),
            ..Setup::default()
        })
        .await
    }

    /// The conflict proxy's counts: transactions, conflicts, the hottest items.
    pub fn proxy_stats(&self) -> Value {
        self.proxy
            .as_ref()
            .map(|p| p.proxy.stats(5))
            .unwrap_or(Value::Null)
    }

    /// Makes the conflict proxy hold each transaction's items `ms` from now on.
    pub fn set_hold(&self, ms: u64) {
        if let Some(p) = &self.proxy {
            p.proxy.set_hold(ms);
        }
    }

    /// A fresh network with its own key and no program, reaching DynamoDB as `setup` says.
    pub async fn with(setup: Setup) -> App {
        capture_logs();
        crate::stream::start();
        let calls = CallCounter::default();
        let proxy = match setup.hold_ms {
            Some(ms) => Some(crate::stream::proxy(ms).await),
            None => None,
        };
        let client = client(&calls, proxy.as_ref().map(|p| p.endpoint()).as_deref()).await;
        let net = unique("n");
        let budget = setup.retry_budget_ms.unwrap_or(20_000).to_string();
        let public_budget = setup
            .public_budget_ms
            .map_or_else(|| budget.clone(), |b| b.to_string());
        let config = Config::from_lookup(|k| match k {
            "TABLE_NAME" => Some(TABLE.into()),
            "RETRY_BUDGET_MS" => Some(budget.clone()),
            // Public routes keep a short budget in production; here races must end in answers,
            // unless a test sets it.
            "PUBLIC_RETRY_BUDGET_MS" => Some(public_budget.clone()),
            "DESO_NETWORK_ID" => Some(net.clone()),
            "DESO_PROGRAM_ID" => Some("p".into()),
            "SUPER_ADMIN_PUBLIC_KEYS" => Some(deso_public_key(SUPER_ADMIN)),
            "ADMIN_PUBLIC_KEYS" => Some(deso_public_key(ADMIN)),
            "AWS_ENDPOINT_URL_DYNAMODB" => std::env::var(k).ok(),
            _ => None,
        })
        .expect("config");
        let state: &'static AppState = Box::leak(Box::new(AppState::new(config, client.clone())));
        state.store.ensure_table().await.expect("table");
        let key = auth::generate_key().expect("key");
        state
            .store
            .register_key(
                &NetworkId::try_from(net.as_str()).unwrap(),
                &auth::hash_key(&key),
            )
            .await
            .expect("register key");
        App {
            state,
            calls,
            net,
            key,
            proxy,
            client,
        }
    }

    /// Another Lambda instance of the same deployment: same network, table and proxy, and a
    /// process state (shard preferences, caches) of its own.
    pub fn instance(&self) -> App {
        let state = AppState::new(self.state.config.clone(), self.client.clone());
        App {
            state: Box::leak(Box::new(state)),
            calls: self.calls.clone(),
            net: self.net.clone(),
            key: self.key.clone(),
            proxy: self.proxy.clone(),
            client: self.client.clone(),
        }
    }

    /// The same network in a process whose webhook settings `f` changed.
    pub fn with_webhooks(&self, f: impl FnOnce(&mut shared::config::WebhookSettings)) -> App {
        self.with_config(|c| f(&mut c.webhooks))
    }

    /// The same network in a process whose configuration `f` changed.
    pub fn with_config(&self, f: impl FnOnce(&mut Config)) -> App {
        let mut config = self.state.config.clone();
        f(&mut config);
        App {
            state: Box::leak(Box::new(AppState::new(config, self.client.clone()))),
            ..self.instance()
        }
    }

    /// Runs the webhook sender on this network's messages for `secs`, as its function would.
    pub async fn send_webhooks(&self, secs: f64) -> shared::api::webhook_sender::Sweep {
        let net = NetworkId::try_from(self.net.as_str()).unwrap();
        crate::policy::as_function(
            "webhook-sender",
            shared::api::webhook_sender::sweep(
                self.state,
                std::time::Duration::from_secs_f64(secs),
                Some(&net),
            ),
        )
        .await
    }

    /// Sends `method path` with `body` through the handler that serves it, as an event built
    /// from the matching file in events/.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let req = self.request(method, path, body.map(|b| b.to_string()), key);
        let resp = self.dispatch(method, path, req).await;
        decode(resp)
    }

    /// As `call`, with one header of the answer too.
    pub async fn call_for_header(
        &self,
        method: &str,
        path: &str,
        body: Value,
        header: &str,
    ) -> (u16, Value, Option<String>) {
        let req = self.request(method, path, Some(body.to_string()), None);
        let resp = self.dispatch(method, path, req).await;
        let h = resp
            .headers()
            .get(header)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        let (s, v) = decode(resp);
        (s, v, h)
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        key: Option<&str>,
    ) -> Request {
        let path = path.replace("{net}", &self.net);
        let (route, file) = route_of(method, &path);
        let deso = route.starts_with("/api/v0/");
        let mut ev: Value = serde_json::from_str(
            &std::fs::read_to_string(format!(
                "{}/../events/{file}.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .expect("event file"),
        )
        .expect("event json");
        let (raw_path, query) = path.split_once('?').unwrap_or((&path, ""));
        ev["rawPath"] = json!(raw_path);
        ev["requestContext"]["http"]["path"] = json!(raw_path);
        ev["rawQueryString"] = json!(query);
        let mut qs = serde_json::Map::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            qs.insert(k.to_owned(), json!(v));
        }
        if qs.is_empty() {
            ev.as_object_mut().unwrap().remove("queryStringParameters");
        } else {
            ev["queryStringParameters"] = Value::Object(qs);
        }
        if !deso {
            ev["pathParameters"] = path_params(route, raw_path);
        }
        // A sample event's Idempotency-Key shows the header; a test sets its own.
        if let Some(h) = ev["headers"].as_object_mut() {
            h.remove("idempotency-key");
        }
        match key {
            // DeSo routes: credentials ride in the body; tests set any country header themselves.
            _ if deso => {
                ev["headers"]
                    .as_object_mut()
                    .unwrap()
                    .remove("cf-ipcountry");
            }
            Some("") => {
                ev["headers"]
                    .as_object_mut()
                    .unwrap()
                    .remove("authorization");
            }
            Some(k) => ev["headers"]["authorization"] = json!(format!("Bearer {k}")),
            None => ev["headers"]["authorization"] = json!(format!("Bearer {}", self.key)),
        }
        match body {
            Some(b) => ev["body"] = json!(b),
            None => {
                ev.as_object_mut().unwrap().remove("body");
            }
        }
        lambda_http::request::from_str(&ev.to_string()).expect("event parses")
    }

    pub fn dispatch<'a>(
        &'a self,
        method: &str,
        path: &str,
        req: Request,
    ) -> Pin<Box<dyn Future<Output = Response<Body>> + Send + 'a>> {
        let path = path.replace("{net}", &self.net);
        let (_, file) = route_of(method, &path);
        dispatch(self.state, file, req)
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("PUT", path, Some(body), None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(body), None).await
    }
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None, None).await
    }

    /// Add Connection in program `prog`.
    pub async fn link(&self, prog: &str, user: &str, referrer: &str) -> (u16, Value) {
        self.post(
            &format!("/networks/{{net}}/connections/{prog}"),
            json!({"user": user, "connection": referrer}),
        )
        .await
    }

    /// User Status `change` (`create_user`, `ban`, `revoke_invite`) of `user`.
    pub async fn status(&self, user: &str, change: &str) -> (u16, Value) {
        self.post(
            "/networks/{net}/user_status",
            json!({"user": user, "status_change": change}),
        )
        .await
    }

    /// Change Referrer: PUT the user's referrer in program `prog`.
    pub async fn set_referrer(&self, prog: &str, user: &str, referrer: &str) -> (u16, Value) {
        self.put(
            &format!("/networks/{{net}}/connections/{prog}/users/{user}/referrer"),
            json!({"connection": referrer}),
        )
        .await
    }

    /// Remove Referrer: DELETE the user's referrer in program `prog`.
    pub async fn remove_referrer(&self, prog: &str, user: &str) -> (u16, Value) {
        self.call(
            "DELETE",
            &format!("/networks/{{net}}/connections/{prog}/users/{user}/referrer"),
            None,
            None,
        )
        .await
    }

    /// Asserts, once the counts have settled, that this network's items keep every invariant
    /// `refnet-admin check` verifies.
    pub async fn check(&self) {
        self.settle().await;
        let facts = self
            .state
            .store
            .check_facts(Some(&self.net))
            .await
            .expect("the table reads");
        let report = shared::domain::check::check(&facts);
        assert!(report.skipped.is_empty(), "a move still runs: {report:?}");
        assert!(report.ok(), "violations: {:#?}", report.violations);
    }

    /// GET Job until the job ends (or a minute passes); its last view.
    pub async fn wait_job(&self, id: &str) -> Value {
        for _ in 0..600 {
            let (s, v) = self.get(&format!("/networks/{{net}}/jobs/{id}")).await;
            assert_eq!(s, 200, "{v}");
            if v["job"]["status"] != "running" {
                return v["job"].clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("job {id} did not end within a minute");
    }

    /// Delivers stream `records` to consumer `function` as its mapping would; all must apply.
    pub async fn stream_to(&self, function: &'static str, records: Vec<Value>) {
        let Some(shared::lambda::Handler::Stream(handler)) = shared::api::handler_of(function)
        else {
            panic!("{function} is no stream consumer");
        };
        let ev = crate::stream::event(json!({ "Records": records }));
        let out = crate::policy::as_function(function, handler(self.state, ev))
            .await
            .expect("the batch applies");
        assert!(out.batch_item_failures.is_empty(), "{function}: failures");
    }

    /// Runs `call` alone; asserts it succeeds in `want` round trips, and gives its body.
    pub async fn trips(
        &self,
        name: &str,
        want: usize,
        call: impl Future<Output = (u16, Value)>,
    ) -> Value {
        self.calls.reset();
        let (s, v) = call.await;
        assert!(s < 300, "{name}: {s} {v}");
        let n = self.calls.count();
        eprintln!("round trips: {name} = {n}");
        assert_eq!(n, want, "{name}");
        v
    }

    /// Waits until the counts include everything written so far.
    pub async fn settle(&self) {
        crate::stream::settle().await
    }

    /// GET User Connections once the counts have settled.
    pub async fn connections(&self, prog: &str, user: &str, query: &str) -> Value {
        self.settle().await;
        let (s, v) = self
            .get(&format!(
                "/networks/{{net}}/connections/{prog}/users/{user}{query}"
            ))
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }
}

pub const SUPER_ADMIN: u8 = 0xa1;
pub const ADMIN: u8 = 0xa2;

pub fn signer(seed: u8) -> k256::ecdsa::SigningKey {
    k256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("seed")
}

/// The DeSo public key of test signer `seed`.
pub fn deso_public_key(seed: u8) -> String {
    deso_sign::public_key(&signer(seed))
}

/// A fresh session JWT of test signer `seed`.
pub fn deso_jwt(seed: u8) -> String {
    deso_sign::session_jwt(&signer(seed), shared::clock::now_secs())
}

/// `extra` with AdminPublicKey and JWT of signer `seed`.
pub fn as_admin(seed: u8, extra: Value) -> Value {
    let mut v = json!({"AdminPublicKey": deso_public_key(seed), "JWT": deso_jwt(seed)});
    if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    v
}

/// `extra` with PublicKeyBase58Check and JWT of signer `seed`.
pub fn as_user(seed: u8, extra: Value) -> Value {
    let mut v = json!({"PublicKeyBase58Check": deso_public_key(seed), "JWT": deso_jwt(seed)});
    if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    v
}

impl App {
    /// POST /api/v0/<route> with a JSON body; DeSo's error format is checked.
    pub async fn deso(&self, route: &str, body: Value) -> (u16, Value) {
        self.deso_raw(route, body.to_string(), &[]).await
    }

    pub async fn deso_raw(
        &self,
        route: &str,
        body: String,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let path = format!("/api/v0/{route}");
        let mut req = self.request("POST", &path, Some(body), None);
        for (k, v) in headers {
            req.headers_mut().insert(
                lambda_http::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                lambda_http::http::HeaderValue::from_str(v).unwrap(),
            );
        }
        let resp = self.dispatch("POST", &path, req).await;
        let status = resp.status().as_u16();
        show_causes(status);
        let body: Value = match resp.body() {
            Body::Text(t) => serde_json::from_str(t).expect("json response"),
            _ => Value::Null,
        };
        if status >= 400 {
            assert!(body["error"].is_string(), "DeSo error body: {body}");
        }
        (status, body)
    }
}

/// On a 5xx, the logged causes help whoever reads the failure.
fn show_causes(status: u16) {
    if status >= 500 {
        for line in logs()
            .lines()
            .filter(|l| l.contains("\"ERROR\""))
            .rev()
            .take(3)
        {
            eprintln!("logged: {line}");
        }
    }
}

pub fn decode(resp: Response<Body>) -> (u16, Value) {
    let status = resp.status().as_u16();
    show_causes(status);
    let body = match resp.body() {
        Body::Text(t) => serde_json::from_str(t).expect("json response"),
        Body::Binary(b) => serde_json::from_slice(b).expect("json response"),
        Body::Empty => Value::Null,
        _ => Value::Null,
    };
    if status >= 400 {
        assert!(
            body["error"]["code"].is_string(),
            "error body has a code: {body}"
        );
        assert!(
            body["error"]["message"].is_string(),
            "error body has a message: {body}"
        );
    }
    (status, body)
}

/// The route and event file of `method path`, from the one route table.
fn route_of(method: &str, path: &str) -> (&'static str, String) {
    let raw = path.split('?').next().unwrap_or(path);
    match shared::routes::route_of(method, raw) {
        Some((r, _)) => (r.path, r.function.to_owned()),
        None => panic!("no route for {method} {path}"),
    }
}

fn path_params(route: &str, path: &str) -> Value {
    let found = shared::routes::params(route, path, false).unwrap_or_default();
    Value::Object(
        found
            .into_iter()
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect(),
    )
}

/// The handler of function `name`, as its Lambda binary runs it.
pub fn dispatch(
    s: &'static AppState,
    name: String,
    req: Request,
) -> Pin<Box<dyn Future<Output = Response<Body>> + Send + 'static>> {
    Box::pin(async move {
        match shared::api::handler_of(&name) {
            Some(Handler::Http(h)) => crate::policy::as_function(&name, h(s, req))
                .await
                .expect("handlers answer every request with a response"),
            _ => panic!("no HTTP handler for {name}"),
        }
    })
}

/// A valid mainnet DeSo key derived from `n`.
pub fn deso_key(n: u8) -> String {
    let mut payload = vec![0xcd, 0x14, 0x00, 0x02];
    payload.extend_from_slice(&[n; 32]);
    bs58::encode(payload).with_check().into_string()
}

/// The users of a User Connections list (`upline` or `downline`), in order.
pub fn users(v: &Value, field: &str) -> Vec<String> {
    v[field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["user"].as_str().or(x.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub fn email(prefix: &str, i: usize) -> String {
    format!("{prefix}{i}@example.com")
}
