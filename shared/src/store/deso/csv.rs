//! Writing a validated referral CSV upload.

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::clock;
use crate::domain::referral_csv::CsvRow;
use crate::domain::shards::CODE_SHARDS;
use crate::domain::{Code, NetworkId, ProgramId, ReferralCode, UserId};
use crate::store::codes::CodeItem;
use crate::store::users::{ProfileItem, Seen};
use crate::store::{items, keys, n, s, Attempt, Expr, Key, Store, StoreError, MAX_TX_ITEMS};

impl Store {
    /// Codes named by an upload, and whether each owner may own codes (not banned).
    pub(crate) async fn csv_context(
        &self,
        net: &NetworkId,
        hashes: &[ReferralCode],
        owners: &[UserId],
    ) -> Result<(HashMap<ReferralCode, CodeItem>, HashMap<UserId, bool>), StoreError> {
        let mut codes = HashMap::new();
        for c in self.code_items(hashes, true).await? {
            if c.network_id == net.as_str() {
                codes.insert(c.key()?, c);
            }
        }
        let mut banned = HashMap::new();
        let wanted: Vec<Key> = owners.iter().map(|o| keys::profile(net, o)).collect();
        for (_, item) in self.batch_get(&wanted).await? {
            let p: ProfileItem = items::from_item(item)?;
            banned.insert(items::user_id(&p.user)?, p.banned());
        }
        Ok((codes, banned))
    }

    /// Writes a validated upload. New codes and changes of amounts go in transactions of whole
    /// rows, each with a token derived from `upload` (random, drawn once per request), its batch
    /// number and its content: a retried batch applies once, a later upload of the same file
    /// applies again. A row that changes a code's cap or activity changes every shard of that
    /// code, in a transaction of its own.
    pub(crate) async fn apply_csv(
        &self,
        net: &NetworkId,
        program: &ProgramId,
        rows: &[(CsvRow, UserId)],
        existing: &HashMap<ReferralCode, CodeItem>,
        upload: &[u8; 16],
    ) -> Result<(usize, usize), StoreError> {
        let (mut created, mut updated) = (0, 0);
        let mut simple = Vec::new();
        for (row, owner) in rows {
            let shards_change = row
                .hash
                .as_ref()
                .and_then(|h| existing.get(h))
                .is_some_and(|c| {
                    c.max_referrals != row.config.max_referrals || c.active != row.active
                });
            match &row.hash {
                Some(h) if shards_change => {
                    self.update_code(net, h, |c| c.set_config(row.config, row.active))
                        .await?;
                    updated += 1;
                }
                _ => simple.push((row, owner)),
            }
        }
        let mut start = 0;
        let mut batch_no = 0u32;
        while start < simple.len() {
            // Whole rows while they fit: a new code is 2 items (34 when inactive), plus one
            // profile per owner.
            let mut end = start;
            let mut size = 0;
            let mut owners = HashSet::new();
            while end < simple.len() {
                let (row, owner) = simple[end];
                let need = match (&row.hash, row.active) {
                    (Some(_), _) => 1,
                    (None, active) => {
                        2 + if active { 0 } else { CODE_SHARDS }
                            + usize::from(!owners.contains(owner))
                    }
                };
                if size + need > MAX_TX_ITEMS {
                    break;
                }
                size += need;
                if row.hash.is_none() {
                    owners.insert(owner.clone());
                }
                end += 1;
            }
            let batch = &simple[start..end];
            let (c, u) = self
                .retrying(|_| self.csv_batch(net, program, batch, upload, batch_no))
                .await?;
            created += c;
            updated += u;
            start = end;
            batch_no += 1;
        }
        Ok((created, updated))
    }

    async fn csv_batch(
        &self,
        net: &NetworkId,
        program: &ProgramId,
        batch: &[(&CsvRow, &UserId)],
        upload: &[u8; 16],
        batch_no: u32,
    ) -> Result<Attempt<(usize, usize)>, StoreError> {
        let now = clock::now();
        let mut tx = Vec::new();
        let mut per_owner: BTreeMap<&UserId, u64> = BTreeMap::new();
        let mut token_src = String::new();
        let (mut created, mut updated) = (0, 0);
        for (i, (row, owner)) in batch.iter().enumerate() {
            let config = row.config;
            match &row.hash {
                Some(h) => {
                    // Amounts and RequiresJumio live on the code item alone.
                    let mut e = Expr::new();
                    let update = format!(
                        "SET {} = {}, {} = {}, {} = {}",
                        e.n("referrer_amount_usd_cents"),
                        e.v(n(config.referrer_amount_usd_cents.get())),
                        e.n("referee_amount_usd_cents"),
                        e.v(n(config.referee_amount_usd_cents.get())),
                        e.n("requires_jumio"),
                        e.v(AttributeValue::Bool(config.requires_jumio)),
                    );
                    let cond = format!(
                        "{} = {} AND {} = {}",
                        e.n("network_id"),
                        e.v(s(net.as_str())),
                        e.n("owner"),
                        e.v(s(owner.as_str())),
                    );
                    tx.push(self.tx_update(&keys::code(h), &update, Some(&cond), &e)?);
                    token_src.push_str(&format!("u{h}{config:?}{}|", row.active));
                    updated += 1;
                }
                None => {
                    let created_ns = row.created_ns.unwrap_or(now.ns + i as u64);
                    let at = clock::Now {
                        ns: created_ns,
                        rfc3339: clock::rfc3339(created_ns),
                    };
                    let mut code = Code::new(net, program, owner, config, &at)
                        .map_err(|_| StoreError::Corrupt("entropy".into()))?;
                    code.active = row.active;
                    token_src.push_str(&format!("c{}|", code.code));
                    tx.extend(self.new_code_items(&code, false)?);
                    *per_owner.entry(owner).or_default() += 1;
                    created += 1;
                }
            }
        }
        for (owner, k) in per_owner {
            tx.push(self.profile_counts(net, owner, "codes", k, Seen::Unknown, &now)?);
        }
        let token = csv_token(upload, batch_no, &token_src);
        match self.transact_with_token(tx, Some(token)).await {
            Ok(()) => Ok(Attempt::Done((created, updated))),
            // A new code collided, or a row changed since validation: build the batch again.
            Err(e) => e.retry(),
        }
    }
}

/// A TransactWriteItems token (at most 36 characters) for one batch of one upload.
fn csv_token(upload: &[u8; 16], batch_no: u32, content: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(upload);
    h.update(batch_no.to_be_bytes());
    h.update(content.as_bytes());
    h.finalize()
        .iter()
        .take(18)
        .map(|b| format!("{b:02x}"))
        .collect()
}
