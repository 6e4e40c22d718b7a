//! Lambda's Runtime API for local function processes. Unlike `cargo lambda watch`, a function's
//! response is read to its end before it is acknowledged: the runtime client may close its
//! connection on the acknowledgement, and a large answer acknowledged early arrives cut short.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot};

/// What a function made of one event.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    Error(Bytes),
}

struct Invocation {
    event: Bytes,
    reply: oneshot::Sender<Outcome>,
}

struct Function {
    queue: mpsc::UnboundedSender<Invocation>,
    next: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    life: Mutex<Life>,
    /// Bumped to stop the running processes.
    stop: tokio::sync::watch::Sender<u64>,
}

/// When the function's processes started and first asked for work: its init, as a benchmark
/// reads it.
#[derive(Clone, Debug, Default)]
pub struct Life {
    pub started: Option<Instant>,
    pub first_poll: Option<Instant>,
    pub pids: Vec<u32>,
}

/// The functions of one bin directory, each started on its first invocation.
pub struct Host {
    bin_dir: PathBuf,
    /// What the processes put in AWS_LAMBDA_RUNTIME_API, before `/<function>`.
    runtime_api: String,
    instances: usize,
    functions: HashMap<&'static str, Function>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    ids: AtomicU64,
}

/// The path prefix of the Runtime API: `/.rt/<function>/2018-06-01/runtime/...`.
pub const PREFIX: &str = "/.rt/";

impl Host {
    pub fn new(
        bin_dir: PathBuf,
        runtime_api: String,
        instances: usize,
        names: impl IntoIterator<Item = &'static str>,
    ) -> Arc<Self> {
        let functions = names
            .into_iter()
            .map(|name| {
                let (queue, rx) = mpsc::unbounded_channel();
                let f = Function {
                    queue,
                    next: tokio::sync::Mutex::new(rx),
                    life: Mutex::new(Life::default()),
                    stop: tokio::sync::watch::Sender::new(0),
                };
                (name, f)
            })
            .collect();
        Arc::new(Host {
            bin_dir,
            runtime_api,
            instances: instances.max(1),
            functions,
            pending: Mutex::new(HashMap::new()),
            ids: AtomicU64::new(0),
        })
    }

    pub fn has(&self, function: &str) -> bool {
        self.functions.contains_key(function)
    }

    /// Hands the event to the function and waits for its outcome; None when the function is
    /// unknown, its processes are gone or it outlives `timeout`.
    pub async fn invoke(&self, function: &str, event: Bytes, timeout: Duration) -> Option<Outcome> {
        let f = self.functions.get(function)?;
        let life = f.life.lock().ok().map(|mut life| {
            if life.started.is_none() {
                *life = Life {
                    started: Some(Instant::now()),
                    ..Life::default()
                };
                true
            } else {
                false
            }
        });
        if life == Some(true) {
            self.spawn(function, f);
        }
        let (reply, outcome) = oneshot::channel();
        f.queue.send(Invocation { event, reply }).ok()?;
        tokio::time::timeout(timeout, outcome).await.ok()?.ok()
    }

    fn spawn(&self, function: &str, f: &Function) {
        for i in 0..self.instances {
            let mut cmd = Command::new(self.bin_dir.join(function));
            cmd.env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("{}{PREFIX}{function}", self.runtime_api),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
            .envs(self.extra_env(function))
            .kill_on_drop(true);
            match cmd.spawn() {
                Ok(mut child) => {
                    if let (Some(pid), Ok(mut life)) = (child.id(), f.life.lock()) {
                        life.pids.push(pid);
                    }
                    let name = function.to_owned();
                    let mut stop = f.stop.subscribe();
                    tokio::spawn(async move {
                        tokio::select! {
                            status = child.wait() => {
                                eprintln!("local-gateway: {name} #{i} exited: {status:?}");
                            }
                            _ = stop.changed() => {
                                let _ = child.kill().await;
                            }
                        }
                    });
                }
                Err(e) => eprintln!("local-gateway: cannot start {function}: {e}"),
            }
        }
    }

    /// `KEY=VALUE` lines of `<bin dir>/<function>.env`, when it exists: what a function's
    /// template would set, so one binary can run under several names and settings.
    fn extra_env(&self, function: &str) -> Vec<(String, String)> {
        let path = self.bin_dir.join(format!("{function}.env"));
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .filter(|(k, _)| !k.is_empty() && !k.starts_with('#'))
            .collect()
    }

    /// The function's processes: when they started, first polled, and their pids.
    pub fn life(&self, function: &str) -> Option<Life> {
        self.functions
            .get(function)?
            .life
            .lock()
            .ok()
            .map(|l| l.clone())
    }

    /// Kills the function's processes; its next invocation starts new ones (a cold start).
    pub fn stop(&self, function: &str) {
        if let Some(f) = self.functions.get(function) {
            if let Ok(mut life) = f.life.lock() {
                *life = Life::default();
            }
            f.stop.send_modify(|g| *g += 1);
        }
    }

    /// Serves one Runtime API call; `rest` is the path after [`PREFIX`]. Returns the status,
    /// the headers and the body of the answer to the function.
    pub async fn serve(
        &self,
        method: &str,
        rest: &str,
        body: Bytes,
    ) -> (u16, Vec<(&'static str, String)>, Bytes) {
        let parts: Vec<&str> = rest.split('/').collect();
        match (method, parts.as_slice()) {
            ("GET", [function, "2018-06-01", "runtime", "invocation", "next"]) => {
                self.next(function).await
            }
            (
                "POST",
                [_, "2018-06-01", "runtime", "invocation", id, kind @ ("response" | "error")],
            ) => {
                let outcome = if *kind == "response" {
                    Outcome::Response(body)
                } else {
                    Outcome::Error(body)
                };
                let waiting = self.pending.lock().ok().and_then(|mut p| p.remove(*id));
                match waiting {
                    Some(reply) => {
                        let _ = reply.send(outcome);
                        (202, Vec::new(), Bytes::from_static(b"{\"status\":\"OK\"}"))
                    }
                    None => (
                        400,
                        Vec::new(),
                        Bytes::from_static(b"{\"errorType\":\"InvalidRequestID\"}"),
                    ),
                }
            }
            ("POST", [function, "2018-06-01", "runtime", "init", "error"]) => {
                eprintln!(
                    "local-gateway: {function} failed to start: {}",
                    String::from_utf8_lossy(&body)
                );
                (202, Vec::new(), Bytes::from_static(b"{\"status\":\"OK\"}"))
            }
            _ => (
                404,
                Vec::new(),
                Bytes::from_static(b"{\"errorType\":\"NotFound\"}"),
            ),
        }
    }

    async fn next(&self, function: &str) -> (u16, Vec<(&'static str, String)>, Bytes) {
        let Some(f) = self.functions.get(function) else {
            return (
                404,
                Vec::new(),
                Bytes::from_static(b"{\"errorType\":\"NotFound\"}"),
            );
        };
        if let Ok(mut life) = f.life.lock() {
            life.first_poll.get_or_insert_with(Instant::now);
        }
        let Some(inv) = f.next.lock().await.recv().await else {
            return (500, Vec::new(), Bytes::new());
        };
        let id = format!("req-{}", self.ids.fetch_add(1, Ordering::Relaxed) + 1);
        if let Ok(mut p) = self.pending.lock() {
            p.insert(id.clone(), inv.reply);
        }
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() + 900_000)
            .unwrap_or_default();
        let headers = vec![
            ("lambda-runtime-aws-request-id", id),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                format!("arn:aws:lambda:us-east-1:123456789012:function:{function}"),
            ),
            (
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000".into(),
            ),
            ("content-type", "application/json".into()),
        ];
        (200, headers, inv.event)
    }
}
