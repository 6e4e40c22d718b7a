//! GET /console and GET /console/{asset}: the operators' web page, its modules and its style.
//!
//! The files are compiled into the binary (shared/console/); nothing is read at run time and
//! no store call is made. The page reads data through the public API with the key the
//! operator pastes, so this route itself needs none.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};

use crate::http::{path_param, ApiError};
use crate::AppState;

const ASSET_PATH: &str = "/console/{asset}";

crate::api::endpoint!(serve, public_retry_budget);

/// Only this origin, no inline script or style, no framing, no plugins.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// (name, content type, contents): the page is `index.html`, the rest its assets.
pub const FILES: [(&str, &str, &str); 10] = [
    file("index.html", include_str!("../../console/index.html")),
    file("style.css", include_str!("../../console/style.css")),
    file("app.js", include_str!("../../console/app.js")),
    file("api.js", include_str!("../../console/api.js")),
    file("dom.js", include_str!("../../console/dom.js")),
    file("programs.js", include_str!("../../console/programs.js")),
    file("user.js", include_str!("../../console/user.js")),
    file("jobs.js", include_str!("../../console/jobs.js")),
    file("rewards.js", include_str!("../../console/rewards.js")),
    file("webhooks.js", include_str!("../../console/webhooks.js")),
];

const fn file(
    name: &'static str,
    body: &'static str,
) -> (&'static str, &'static str, &'static str) {
    let b = name.as_bytes();
    let kind = match b[b.len() - 1] {
        b'l' => "text/html; charset=utf-8",
        b's' if b[b.len() - 2] == b's' => "text/css; charset=utf-8",
        _ => "text/javascript; charset=utf-8",
    };
    (name, kind, body)
}

/// The file a request names: the page for `/console`, else its `{asset}`.
pub fn lookup(asset: Option<&str>) -> Option<(&'static str, &'static str)> {
    let name = asset.unwrap_or("index.html");
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, kind, body)| (*kind, *body))
}

async fn run(_state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let asset = path_param(&req, ASSET_PATH, "asset").ok();
    let (kind, body) = lookup(asset.as_deref()).ok_or_else(|| {
        ApiError::not_found(
            "asset_not_found",
            "no such file of the console; open /console",
        )
    })?;
    let mut resp = Response::new(Body::Text(body.to_owned()));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(kind));
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    // A deploy changes the files: the browser asks again rather than run a stale module.
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_has_its_type() {
        assert_eq!(lookup(None).map(|f| f.0), Some("text/html; charset=utf-8"));
        assert_eq!(
            lookup(Some("style.css")).map(|f| f.0),
            Some("text/css; charset=utf-8")
        );
        assert_eq!(
            lookup(Some("app.js")).map(|f| f.0),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(lookup(Some("../Cargo.toml")), None);
        assert_eq!(lookup(Some("")), None);
    }

    /// The CSP refuses inline script and style: the files must carry none.
    #[test]
    fn the_page_has_no_inline_script_or_style() {
        let (_, page) = lookup(None).expect("the page");
        for tag in page.split("<script").skip(1) {
            let open = tag.split('>').next().unwrap_or_default();
            assert!(open.contains("src="), "an inline script: <script{open}>");
        }
        assert!(!page.contains("<style"), "an inline style element");
        let lower = page.to_ascii_lowercase();
        assert!(!lower.contains(" style="), "a style attribute");
        for (i, _) in lower.match_indices(" on") {
            let name: String = lower[i + 3..]
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            let after = lower[i + 3 + name.len()..].trim_start();
            assert!(
                name.is_empty() || !after.starts_with('='),
                "an inline event handler: on{name}"
            );
        }
    }

    /// Data reaches the page as text: no module writes markup from a string.
    #[test]
    fn no_module_writes_markup() {
        for (name, _, body) in FILES.iter().filter(|f| f.0.ends_with(".js")) {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
                "setAttribute(\"on",
                "localStorage",
                "document.cookie",
            ] {
                assert!(!body.contains(sink), "{name} uses {sink}");
            }
        }
    }

    /// Every module that a module imports is served.
    #[test]
    fn every_import_is_served() {
        for (name, _, body) in FILES.iter().filter(|f| f.0.ends_with(".js")) {
            for part in body.split("from \"./").skip(1) {
                let target = part.split('"').next().unwrap_or_default();
                assert!(lookup(Some(target)).is_some(), "{name} imports {target}");
            }
        }
    }
}
