//! DynamoDB's wire format, as far as the proxy reads and writes it.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};

/// The key of every item a request writes: table, PK and SK.
pub(crate) fn item_keys(body: &Value, target: &str) -> Vec<String> {
    let key = |table: &Value, k: &Value| {
        format!(
            "{}|{}|{}",
            table.as_str().unwrap_or(""),
            k["PK"]["S"].as_str().unwrap_or(""),
            k["SK"]["S"].as_str().unwrap_or("")
        )
    };
    match target {
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|t| {
                        let (op, k) = if let Some(p) = t.get("Put") {
                            (p, &p["Item"])
                        } else {
                            let op = ["Update", "Delete", "ConditionCheck"]
                                .iter()
                                .find_map(|o| t.get(*o))
                                .unwrap_or(&Value::Null);
                            (op, &op["Key"])
                        };
                        key(&op["TableName"], k)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        "PutItem" => vec![key(&body["TableName"], &body["Item"])],
        "UpdateItem" | "DeleteItem" => vec![key(&body["TableName"], &body["Key"])],
        _ => Vec::new(),
    }
}

pub(crate) fn error(type_: &str, body: Value) -> Response<Full<Bytes>> {
    let mut body = body;
    body["__type"] = json!(format!("com.amazonaws.dynamodb.v20120810#{type_}"));
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = StatusCode::BAD_REQUEST;
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        "application/x-amz-json-1.0".parse().expect("header"),
    );
    h.insert(
        "x-amzn-requestid",
        "conflict-proxy".parse().expect("header"),
    );
    resp
}

pub(crate) fn ok_json(v: Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(v.to_string())));
    resp.headers_mut()
        .insert("content-type", "application/json".parse().expect("header"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_kind_of_write() {
        let tx = json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "A"}, "SK": {"S": "1"}, "x": {"N": "1"}}}},
            {"Update": {"TableName": "t", "Key": {"PK": {"S": "B"}, "SK": {"S": "2"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"PK": {"S": "C"}, "SK": {"S": "3"}}}},
            {"Delete": {"TableName": "t", "Key": {"PK": {"S": "D"}, "SK": {"S": "4"}}}}
        ]});
        assert_eq!(
            item_keys(&tx, "TransactWriteItems"),
            ["t|A|1", "t|B|2", "t|C|3", "t|D|4"]
        );
        let put = json!({"TableName": "t", "Item": {"PK": {"S": "A"}, "SK": {"S": "1"}}});
        assert_eq!(item_keys(&put, "PutItem"), ["t|A|1"]);
        assert!(item_keys(&put, "GetItem").is_empty());
    }
}
