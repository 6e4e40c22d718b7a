//! jumio-begin: a user starts signing up with a code. The first code named wins; the begin
//! record keeps a copy of everything a link through the code reads, which the callback plans
//! from.

use aws_sdk_dynamodb::types::AttributeValue;

use super::credits::JumioItem;
use crate::clock;
use crate::domain::shards::CODE_SHARDS;
use crate::domain::{NetworkId, ProgramId, ReferralCode, UserId};
use crate::store::codes::{CodeItem, ShardAdds};
use crate::store::graph::link::LinkRequest;
use crate::store::{items, keys, Attempt, Expr, Store, StoreError, TxError};

pub enum BeginOutcome {
    Started,
    /// The user began with a code already: the first one wins.
    Ignored,
    UnknownCode,
    AlreadyCredited,
}

impl Store {
    /// The user starts signing up with `code`. The first code named wins; attempts count each
    /// user once, on one shard of the code.
    pub async fn jumio_begin(
        &self,
        net: &NetworkId,
        user: &UserId,
        code: &ReferralCode,
    ) -> Result<BeginOutcome, StoreError> {
        self.retrying(|_| async move {
            let (k_code, k_jumio, k_credit) = (
                keys::code(code),
                keys::jumio(net, user),
                keys::credit(net, user),
            );
            let mut got = self
                .batch_get(&[k_code.clone(), k_jumio.clone(), k_credit.clone()])
                .await?;
            let Some(found) = got
                .remove(&k_code)
                .map(items::from_item::<CodeItem>)
                .transpose()?
                .filter(|c| c.network_id == net.as_str())
            else {
                return Ok(Attempt::Done(BeginOutcome::UnknownCode));
            };
            if got.contains_key(&k_credit) {
                return Ok(Attempt::Done(BeginOutcome::AlreadyCredited));
            }
            if got.contains_key(&k_jumio) {
                return Ok(Attempt::Done(BeginOutcome::Ignored));
            }
            let program = ProgramId::try_from(found.program_id.as_str())
                .map_err(|_| items::corrupt("code program"))?;
            let owner = items::user_id(&found.owner)?;
            let req = LinkRequest {
                code: Some(code),
                ..LinkRequest::new(net, &program, user, &owner)
            };
            let snapshot = self.batch_get(&req.keys()).await?;
            let now = clock::now();
            let record = JumioItem {
                code: code.as_str().to_owned(),
                owner: owner.as_str().to_owned(),
                program: program.as_str().to_owned(),
                began_at: now.rfc3339.clone(),
            };
            let mut item = items::with_key(items::to_item(&record)?, &k_jumio);
            item.insert(
                "snapshot".into(),
                AttributeValue::L(snapshot.into_values().map(AttributeValue::M).collect()),
            );
            let mut e = Expr::new();
            let absent = format!("attribute_not_exists({})", e.n(keys::PK));
            let lease = self.picker().lease();
            let attempt = ShardAdds {
                attempt: true,
                ..ShardAdds::default()
            };
            let tx = vec![
                self.tx_put(item, Some(&absent), &e, false)?,
                self.shard_count_item(
                    &found,
                    lease.shard(CODE_SHARDS),
                    attempt,
                    now.ns / 1_000_000,
                )?,
                self.tx_check(&k_credit, &absent, &e)?,
            ];
            match self.transact(tx).await {
                Ok(()) => Ok(Attempt::Done(BeginOutcome::Started)),
                // The reasons tell the answer: a credit of this user committed or committing,
                // or a begin of this user that came first. Retrying would only wait for it.
                Err(TxError::Cancelled(r))
                    if TxError::condition_failed(&r, 2) || TxError::conflicted(&r, 2) =>
                {
                    Ok(Attempt::Done(BeginOutcome::AlreadyCredited))
                }
                Err(TxError::Cancelled(r))
                    if TxError::condition_failed(&r, 0) || TxError::conflicted(&r, 0) =>
                {
                    Ok(Attempt::Done(BeginOutcome::Ignored))
                }
                Err(e) => {
                    if let TxError::Cancelled(r) = &e {
                        if r.iter().any(|x| x.code() == Some("TransactionConflict")) {
                            self.picker().collided(&lease);
                        }
                    }
                    e.retry()
                }
            }
        })
        .await
    }
}
