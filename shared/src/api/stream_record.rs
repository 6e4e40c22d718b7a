//! Reading a stream record, for the consumers: its keys, its sequence number, its images.

use lambda_http::aws_lambda_events::event::dynamodb::EventRecord;

use crate::store::StoreError;

/// A key attribute's text; empty when the record lacks it.
pub(crate) fn key_text(r: &EventRecord, attr: &str) -> String {
    match r.change.keys.get(attr) {
        Some(serde_dynamo::AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    }
}

pub(crate) fn sequence(r: &EventRecord) -> String {
    r.change.sequence_number.clone().unwrap_or_default()
}

/// An image as its item type.
pub(crate) fn image<T: serde::de::DeserializeOwned>(
    img: &serde_dynamo::Item,
) -> Result<T, StoreError> {
    serde_dynamo::from_item(img.clone()).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// An image that may be absent (an INSERT's old one, a REMOVE's new one).
pub(crate) fn maybe_image<T: serde::de::DeserializeOwned>(
    img: &serde_dynamo::Item,
) -> Result<Option<T>, StoreError> {
    if img.is_empty() {
        return Ok(None);
    }
    image(img).map(Some)
}
