//! The keys of webhooks, their secrets and messages.

use super::{Key, Prefix};
use crate::domain::NetworkId;

pub const WEBHOOK_PREFIX: &str = "WH#";
/// Partitions of the due index: messages due at once spread over them.
pub const DUE_SHARDS: usize = 4;

pub fn webhook(net: &NetworkId, id: &str) -> Key {
    (
        format!("{}{net}", Prefix::Net),
        format!("{WEBHOOK_PREFIX}{id}"),
    )
}

pub fn webhook_count(net: &NetworkId) -> Key {
    (format!("{}{net}", Prefix::Net), "WHCOUNT".into())
}

pub fn webhook_secret(net: &NetworkId, id: &str) -> Key {
    (format!("{}{net}#{id}", Prefix::WhSec), "WHSEC".into())
}

pub fn messages_partition(net: &NetworkId, webhook: &str) -> String {
    format!("{}{net}#{webhook}", Prefix::WhMsg)
}

pub fn message(net: &NetworkId, webhook: &str, message_id: &str) -> Key {
    (messages_partition(net, webhook), message_id.to_owned())
}

/// (network, webhook) of a message partition key.
pub fn parse_messages_partition(pk: &str) -> Option<(&str, &str)> {
    Prefix::WhMsg.strip(pk)?.split_once('#')
}

pub fn due_partition(shard: usize) -> String {
    format!("{}{shard}", super::IndexPrefix::Due)
}

/// A message's place in the due index: its partition by a hash of the message, then its time.
pub fn due(net: &NetworkId, webhook: &str, message_id: &str, due_ms: u64) -> Key {
    let shard = message_id.bytes().fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    }) % DUE_SHARDS;
    (
        due_partition(shard),
        format!("{due_ms:013}#{net}#{webhook}#{message_id}"),
    )
}

/// The first due-index sort key after `now_ms`: what is due sorts below it.
pub fn due_before(now_ms: u64) -> String {
    format!("{:013}", now_ms + 1)
}
