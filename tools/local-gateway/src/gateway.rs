//! API Gateway's HTTP API in front of the functions: the route table of `shared::routes`, the
//! payload 2.0 event, and the answers API Gateway gives itself (`{"message": ...}`).

use base64::Engine as _;
use bytes::Bytes;
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};
use shared::routes::Route;

/// The route serving `method path`, with its decoded parameters; None when no route does (API
/// Gateway answers 404 then, for an unknown path and for a method the path lacks alike).
pub fn route(method: &str, path: &str) -> Option<(&'static Route, Map<String, Value>)> {
    let (r, params) = shared::routes::route_of(method, path)?;
    let params = params
        .into_iter()
        .map(|(k, v)| {
            let v = percent_decode_str(&v).decode_utf8_lossy().into_owned();
            (k.to_owned(), Value::String(v))
        })
        .collect();
    Some((r, params))
}

/// One request as it reaches the gateway.
pub struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// Lower-case names, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub request_id: String,
    pub time_epoch_ms: u128,
}

/// A body goes as text when its type is textual and it is UTF-8; otherwise base64-encoded
/// (API Gateway's choice for binary media; a function decodes either).
fn body_field(content_type: Option<&str>, body: &Bytes) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let textual = ct.is_empty()
        || ct.starts_with("text/")
        || ct.starts_with("application/json")
        || ct.contains("+json")
        || ct.starts_with("application/x-www-form-urlencoded")
        || ct.starts_with("application/xml");
    match std::str::from_utf8(body) {
        Ok(s) if textual => (Some(s.to_owned()), false),
        _ => (
            Some(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    }
}

fn query_params(query: &str) -> Map<String, Value> {
    let mut out: Map<String, Value> = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        let (k, v) = (decode(k), decode(v));
        // Repeated names are joined with commas, as API Gateway does.
        match out.get_mut(&k) {
            Some(Value::String(prev)) => {
                prev.push(',');
                prev.push_str(&v);
            }
            _ => {
                out.insert(k, Value::String(v));
            }
        }
    }
    out
}

/// The payload 2.0 event of a request to `route`.
pub fn event(req: &Incoming, route: &Route, path_parameters: Map<String, Value>) -> Value {
    let route_key = format!("{} {}", route.method, route.path);
    let mut headers: Map<String, Value> = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &req.headers {
        if name == "cookie" {
            cookies.extend(value.split(';').map(|c| Value::String(c.trim().to_owned())));
            continue;
        }
        match headers.get_mut(name) {
            Some(Value::String(prev)) => {
                prev.push(',');
                prev.push_str(value);
            }
            _ => {
                headers.insert(name.clone(), Value::String(value.clone()));
            }
        }
    }
    let content_type = headers.get("content-type").and_then(Value::as_str);
    let (body, is_base64) = body_field(content_type, &req.body);
    let user_agent = headers.get("user-agent").cloned().unwrap_or(json!(""));
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": req.path,
        "rawQueryString": req.query.unwrap_or(""),
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": req.method,
                "path": req.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": user_agent,
            },
            "requestId": req.request_id,
            "routeKey": route_key,
            "stage": "$default",
            "timeEpoch": req.time_epoch_ms as u64,
        },
        "isBase64Encoded": is_base64,
    });
    if !path_parameters.is_empty() {
        event["pathParameters"] = Value::Object(path_parameters);
    }
    if let Some(q) = req.query.filter(|q| !q.is_empty()) {
        event["queryStringParameters"] = Value::Object(query_params(q));
    }
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    if let Some(b) = body {
        event["body"] = Value::String(b);
    }
    event
}

/// A header's value as the function sees it: bytes past ASCII (HTTP's obs-text) read as
/// ISO-8859-1, so the function judges them; dropping the header would hide them.
pub fn header_text(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// An HTTP answer: status, headers, body.
pub type Answer = (u16, Vec<(String, String)>, Bytes);

/// API Gateway's own answer, as its HTTP API words it.
pub fn own(status: u16, message: &str) -> Answer {
    let body = json!({ "message": message }).to_string();
    (
        status,
        vec![("content-type".into(), "application/json".into())],
        Bytes::from(body),
    )
}

/// The HTTP answer of a function's payload 2.0 response. Output without a `statusCode` is
/// taken as a 200 JSON body, as API Gateway does; undecodable output is its 500.
pub fn answer(output: &[u8]) -> Answer {
    let Ok(v) = serde_json::from_slice::<Value>(output) else {
        return own(500, "Internal Server Error");
    };
    let Some(status) = v.get("statusCode").and_then(Value::as_u64) else {
        return (
            200,
            vec![("content-type".into(), "application/json".into())],
            Bytes::copy_from_slice(output),
        );
    };
    let Ok(status) = u16::try_from(status) else {
        return own(500, "Internal Server Error");
    };
    let mut headers = Vec::new();
    if let Some(h) = v.get("headers").and_then(Value::as_object) {
        for (k, val) in h {
            if let Some(s) = val.as_str() {
                headers.push((k.clone(), s.to_owned()));
            }
        }
    }
    if let Some(h) = v.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, vals) in h {
            for s in vals
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                headers.push((k.clone(), s.to_owned()));
            }
        }
    }
    for c in v
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(s) = c.as_str() {
            headers.push(("set-cookie".into(), s.to_owned()));
        }
    }
    let text = v.get("body").and_then(Value::as_str).unwrap_or("");
    let body = if v.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        match base64::engine::general_purpose::STANDARD.decode(text) {
            Ok(b) => Bytes::from(b),
            Err(_) => return own(500, "Internal Server Error"),
        }
    } else {
        Bytes::copy_from_slice(text.as_bytes())
    };
    (status, headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_by_method_and_template() {
        let (r, p) = route("GET", "/networks/demo/connections/default/users/a%40b.co").unwrap();
        assert_eq!(r.function, "get-user-connections");
        assert_eq!(p["user"], "a@b.co");
        assert!(route("TRACE", "/api/v0/get-referral-info-for-referral-hash").is_none());
        assert!(route("GET", "/nowhere").is_none());
    }

    #[test]
    fn a_body_that_is_not_utf8_goes_base64() {
        let b = Bytes::from_static(b"{\"x\":\"\xff\"}");
        let (body, b64) = body_field(Some("application/json"), &b);
        assert!(b64);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(body.unwrap())
            .unwrap();
        assert_eq!(decoded, b.to_vec());
        assert_eq!(
            body_field(Some("application/json"), &Bytes::from_static(b"{}")),
            (Some("{}".into()), false)
        );
    }

    #[test]
    fn query_values_are_decoded_and_repeats_joined() {
        let q = query_params("limit=20&a=x%20y&a=z+w");
        assert_eq!(q["limit"], "20");
        assert_eq!(q["a"], "x y,z w");
    }

    #[test]
    fn header_values_past_ascii_reach_the_function() {
        assert_eq!(header_text(b"order-42"), "order-42");
        assert_eq!(header_text(&[0xd7, 0xf8, 0x9b]), "\u{d7}\u{f8}\u{9b}");
    }

    #[test]
    fn answers_decode_headers_cookies_and_base64() {
        let out = json!({"statusCode": 201, "headers": {"content-type": "text/csv"},
            "cookies": ["a=1"], "body": "aGk=", "isBase64Encoded": true});
        let (status, headers, body) = answer(out.to_string().as_bytes());
        assert_eq!(status, 201);
        assert!(headers.contains(&("set-cookie".into(), "a=1".into())));
        assert_eq!(&body[..], b"hi");
        assert_eq!(answer(b"not json").0, 500);
        assert_eq!(
            answer(b"{\"a\":1}"),
            (
                200,
                vec![("content-type".into(), "application/json".into())],
                Bytes::from_static(b"{\"a\":1}")
            )
        );
    }
}
