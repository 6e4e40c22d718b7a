//! The console's page and files, through the function that serves them.

use lambda_http::Body;

use crate::harness::{decode, App};
use shared::api::console::{CSP, FILES};

async fn get(app: &App, path: &str) -> (u16, String, String, Option<String>) {
    let req = app.request("GET", path, None, Some(""));
    let resp = app.dispatch("GET", path, req).await;
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
    };
    let (kind, csp) = (
        header("content-type").unwrap_or_default(),
        header("content-security-policy"),
    );
    let body = match resp.body() {
        Body::Text(t) => t.clone(),
        _ => String::new(),
    };
    (resp.status().as_u16(), kind, body, csp)
}

#[tokio::test]
async fn the_page_and_each_of_its_files_are_served_with_the_policy() {
    let app = App::bare().await;
    app.calls.reset();
    let (s, kind, page, csp) = get(&app, "/console").await;
    assert_eq!(app.calls.count(), 0, "static files: no round trip");
    assert_eq!(s, 200);
    assert_eq!(kind, "text/html; charset=utf-8");
    assert_eq!(csp.as_deref(), Some(CSP));
    // Relative: the page works under a stage prefix too.
    assert!(page.contains(r#"<script type="module" src="console/app.js"></script>"#));
    assert!(page.contains(r#"<link rel="stylesheet" href="console/style.css">"#));
    for (name, want, body) in FILES.iter().filter(|f| f.0 != "index.html") {
        let (s, kind, got, csp) = get(&app, &format!("/console/{name}")).await;
        assert_eq!((s, kind.as_str()), (200, *want), "{name}");
        assert_eq!(got, *body, "{name}");
        assert_eq!(csp.as_deref(), Some(CSP), "{name}");
    }
}

#[tokio::test]
async fn an_unknown_file_is_a_404_in_the_contracts_format() {
    let app = App::bare().await;
    for path in [
        "/console/nope.js",
        "/console/index.htm",
        "/console/..%2FCargo.toml",
    ] {
        let req = app.request("GET", path, None, Some(""));
        let (s, v) = decode(app.dispatch("GET", path, req).await);
        assert_eq!(s, 404, "{path}");
        assert_eq!(v["error"]["code"], "asset_not_found", "{path}");
    }
}

#[test]
fn the_policy_allows_this_origin_only_and_no_inline_code() {
    let directives: Vec<&str> = CSP.split(';').map(str::trim).collect();
    for d in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(directives.contains(&d), "{d}");
    }
    assert!(!CSP.contains("unsafe"), "no unsafe-inline or unsafe-eval");
    assert!(!CSP.contains("http"), "no other origin");
}
