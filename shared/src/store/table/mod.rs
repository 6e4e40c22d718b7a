//! Table operations every store module shares: expression placeholders and key helpers here,
//! reads and queries in `read`, transactions and their item builders in `write`.

mod merged;
mod read;
mod write;

pub use merged::{MergedPage, ShardCursor};

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;

pub use write::pack;

use super::{keys, Item, Key, StoreError};

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn key_item(key: &Key) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(key.0.clone())),
        (keys::SK.to_owned(), AttributeValue::S(key.1.clone())),
    ])
}

pub fn item_key(item: &Item) -> Result<Key, StoreError> {
    match (item.get(keys::PK), item.get(keys::SK)) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Ok((pk.clone(), sk.clone())),
        _ => Err(StoreError::Corrupt("item without PK/SK".into())),
    }
}

pub(super) fn dedup(keys: &[Key]) -> Vec<Key> {
    let mut seen = HashSet::new();
    keys.iter().filter(|k| seen.insert(*k)).cloned().collect()
}

pub(crate) fn built<T, E: std::error::Error + Send + Sync + 'static>(
    r: Result<T, E>,
) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Other(Box::new(e)))
}

/// Condition and update expressions with their placeholders.
#[derive(Default, Debug, Clone)]
pub struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub fn new() -> Self {
        Self::default()
    }
    /// `#name` placeholder for an attribute.
    pub fn n(&mut self, attr: &str) -> String {
        let p = format!(
            "#{}",
            attr.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        self.names.insert(p.clone(), attr.to_owned());
        p
    }
    /// `:vN` placeholder for a value.
    pub fn v(&mut self, value: AttributeValue) -> String {
        let p = format!(":v{}", self.values.len());
        self.values.insert(p.clone(), value);
        p
    }
    pub(crate) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }
    pub(crate) fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// The key condition of a Query on one partition.
#[derive(Clone, Debug)]
pub enum SortKey {
    All,
    Prefix(String),
    /// Sort keys strictly below this one.
    Below(String),
    /// Sort keys from the first to the second, both included.
    Between(String, String),
}

/// One page of a Query.
pub struct Page {
    pub items: Vec<Item>,
    /// Sort key to resume after, when there is more.
    pub last_sk: Option<String>,
}
