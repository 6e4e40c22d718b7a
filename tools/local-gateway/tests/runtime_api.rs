//! The Runtime API acknowledges a function's answer only once it has all of it. The function
//! here is a Python script speaking the protocol by hand: it sends half of a 1 MiB answer,
//! and, like a runtime client that takes the acknowledgement as the end of the exchange, stops
//! there if an answer already came back.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

const FUNCTION: &str = r#"#!/usr/bin/env python3
import json, os, select, socket
api = os.environ["AWS_LAMBDA_RUNTIME_API"][len("http://"):]
hostport, prefix = api.split("/", 1)
host, port = hostport.split(":")

def call(method, path, body=b""):
    s = socket.create_connection((host, int(port)))
    head = f"{method} /{prefix}/2018-06-01/runtime/{path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    half = len(body) // 2
    s.sendall(head + body[:half])
    if body and select.select([s], [], [], 0.3)[0]:
        s.close()  # acknowledged early: the rest is never sent
        return None
    s.sendall(body[half:])
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, rest = data.split(b"\r\n\r\n", 1)
    headers = dict(l.split(": ", 1) for l in head.decode().split("\r\n")[1:])
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        rest += s.recv(65536)
    s.close()
    return headers, rest

while True:
    headers, event = call("GET", "invocation/next")
    rid = headers["lambda-runtime-aws-request-id"]
    path = json.loads(event)["rawPath"]
    out = {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": path + os.environ.get("SETTING", "") + "x" * (1 << 20)}
    call("POST", f"invocation/{rid}/response", json.dumps(out).encode())
"#;

fn bin_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-gateway-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("get-job");
    std::fs::write(&f, FUNCTION).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn request(addr: std::net::SocketAddr, method: &str, path: &str) -> (String, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let at = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&all[..at])
        .lines()
        .next()
        .unwrap()
        .to_owned();
    (status, all[at + 4..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_answer_arrives_whole() {
    let addr = local_gateway::start(([127, 0, 0, 1], 0).into(), bin_dir("whole"), 1)
        .await
        .unwrap();
    for i in 0..3 {
        let path = format!("/networks/demo/jobs/j{i}");
        let (status, body) = tokio::task::spawn_blocking(move || request(addr, "GET", &path))
            .await
            .unwrap();
        assert!(status.contains(" 200 "), "{status}");
        let want = format!("/networks/demo/jobs/j{i}");
        assert!(body.starts_with(want.as_bytes()));
        assert_eq!(body.len(), want.len() + (1 << 20));
    }
    // A method the route lacks: API Gateway's own 404, no function involved.
    let (status, body) =
        tokio::task::spawn_blocking(move || request(addr, "DELETE", "/networks/demo/jobs/j1"))
            .await
            .unwrap();
    assert!(status.contains(" 404 "), "{status}");
    assert_eq!(body, b"{\"message\":\"Not Found\"}");
}

/// `<function>.env` beside the binary sets the function's environment, as a template would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_gets_the_settings_of_its_env_file() {
    let dir = bin_dir("env");
    std::fs::write(
        dir.join("get-job.env"),
        "# a comment\nSETTING = -from-env-file\n",
    )
    .unwrap();
    let addr = local_gateway::start(([127, 0, 0, 1], 0).into(), dir, 1)
        .await
        .unwrap();
    let (status, body) =
        tokio::task::spawn_blocking(move || request(addr, "GET", "/networks/demo/jobs/j1"))
            .await
            .unwrap();
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.starts_with(b"/networks/demo/jobs/j1-from-env-file"));
}
