//! Exactly-once crediting of a sign-up (admin/jumio-callback).
//!
//! The callback stays at two round trips because jumio-begin stores, on the user's begin
//! record, a copy of everything a link through the code reads. The callback plans a plain link
//! from that copy; the link's own conditions (the user's membership and profile, the code
//! shard, the tree fence at the referrer's epoch) fail if any of it has changed, and the
//! callback then reads afresh.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::bonus_of;
use crate::clock;
use crate::domain::code::CreditAdds;
use crate::domain::deso::{payout, Alpha3, CodeAmounts, LedgerEntry, Payout};
use crate::domain::link::Verdict;
use crate::domain::shards::EDGE_SHARDS;
use crate::domain::{NetworkId, ProgramId, ReferralCode, UserId};
use crate::store::codes::ShardAdds;
use crate::store::graph::link::{LinkHint, LinkRequest, LinkSnapshot};
use crate::store::table::item_key;
use crate::store::{items, keys, n, s, Attempt, Expr, Item, Store, StoreError, TxError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreditOutcome {
    pub credited: bool,
    pub counted: bool,
    pub referee_usd_cents: u64,
    pub referrer_usd_cents: u64,
}

impl CreditOutcome {
    fn nothing() -> CreditOutcome {
        CreditOutcome {
            credited: false,
            counted: false,
            referee_usd_cents: 0,
            referrer_usd_cents: 0,
        }
    }
}

/// The code a user began with, and what a link through it read at that moment.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct JumioItem {
    pub code: String,
    pub owner: String,
    pub program: String,
    pub began_at: String,
}

impl Store {
    /// Credits the user's sign-up exactly once: the credit record, the ledger, the code's
    /// counters and the connection commit together or not at all.
    pub async fn jumio_credit(
        &self,
        net: &NetworkId,
        user: &UserId,
        country: Option<&Alpha3>,
    ) -> Result<CreditOutcome, StoreError> {
        let hint = std::sync::Mutex::new(LinkHint::default());
        self.retrying(|attempt| {
            let hint = &hint;
            async move {
                self.credit_attempt(net, user, country, attempt > 0, hint)
                    .await
            }
        })
        .await
    }

    async fn credit_attempt(
        &self,
        net: &NetworkId,
        user: &UserId,
        country: Option<&Alpha3>,
        fresh: bool,
        hint_slot: &std::sync::Mutex<LinkHint>,
    ) -> Result<Attempt<CreditOutcome>, StoreError> {
        let hint = hint_slot.lock().map(|h| h.clone()).unwrap_or_default();
        let (k_jumio, k_credit, k_settings) = (
            keys::jumio(net, user),
            keys::credit(net, user),
            keys::deso_settings(net),
        );
        let k_country = country.map(|c| keys::deso_country(net, c.as_str()));
        let mut wanted = vec![k_jumio.clone(), k_credit.clone(), k_settings.clone()];
        wanted.extend(k_country.clone());
        let mut got = self.batch_get(&wanted).await?;
        if got.contains_key(&k_credit) {
            return Ok(Attempt::Done(CreditOutcome::nothing()));
        }
        let (bonus, settings) = bonus_of(&mut got, &k_settings, k_country.as_ref())?;
        let rate = settings.usd_cents_per_deso;
        let now = clock::now();
        let unpaid = payout(&bonus, rate, None);

        let Some(mut jumio_item) = got.remove(&k_jumio) else {
            // Never began: the bonus, once, and nothing counts.
            let tx = self.credit_items(net, user, None, &unpaid, country, &now)?;
            return self.commit_credit(tx, &unpaid).await;
        };
        let cached = jumio_item.remove("snapshot");
        let j: JumioItem = items::from_item(jumio_item)?;
        let code =
            ReferralCode::try_from(j.code.as_str()).map_err(|_| items::corrupt("jumio code"))?;
        let owner = items::user_id(&j.owner)?;
        let program =
            ProgramId::try_from(j.program.as_str()).map_err(|_| items::corrupt("jumio program"))?;
        let req = LinkRequest {
            code: Some(&code),
            ..LinkRequest::new(net, &program, user, &owner)
        };
        let mut link_got = match (fresh, cached) {
            (false, Some(AttributeValue::L(list))) => {
                let mut m = HashMap::new();
                for v in list {
                    if let AttributeValue::M(item) = v {
                        m.insert(item_key(&item)?, item);
                    }
                }
                m
            }
            _ => self.batch_get(&req.keys()).await?,
        };
        let snap = LinkSnapshot::take(&req, &mut link_got)?;
        let code_item = match (snap.judge(&req)?, &snap.code) {
            (Verdict::Plain, Some(c)) => c.clone(),
            // Already connected, a cycle, a ban, an inactive code or program, or a referee
            // with referees of its own: the bonus, and nothing counts.
            _ => {
                let tx = self.credit_items(
                    net,
                    user,
                    Some((&code, &owner, &program)),
                    &unpaid,
                    country,
                    &now,
                )?;
                return self.commit_credit(tx, &unpaid).await;
            }
        };
        let c = code_item.clone().into_code(Default::default())?;
        let amounts = CodeAmounts {
            referee_usd_cents: c.config.referee_amount_usd_cents.get().into(),
            referrer_usd_cents: c.config.referrer_amount_usd_cents.get().into(),
        };
        let paid = payout(&bonus, rate, Some(amounts));
        let mut tx = self.credit_items(
            net,
            user,
            Some((&code, &owner, &program)),
            &paid,
            country,
            &now,
        )?;
        let offset = tx.len();
        let lease = self.picker().lease();
        let adds = ShardAdds {
            credit: Some(CreditAdds {
                referee_deso_nanos: paid.referee_nanos,
                referrer_deso_nanos: paid.referrer_nanos,
            }),
            ..ShardAdds::default()
        };
        let plan = match self.plain_items(&req, &snap, &hint, &lease, &now, adds)? {
            Ok(p) => p,
            // Every shard is full: the code is.
            Err(_) => {
                let tx = self.credit_items(
                    net,
                    user,
                    Some((&code, &owner, &program)),
                    &unpaid,
                    country,
                    &now,
                )?;
                return self.commit_credit(tx, &unpaid).await;
            }
        };
        let plan_tx = plan.tx.clone();
        tx.extend(plan_tx);
        match self.transact(tx).await {
            Ok(()) => Ok(Attempt::Done(outcome(&paid))),
            // The credit record exists, or is being written: a concurrent call credits this
            // user, and waiting for it would tell nothing more.
            Err(TxError::Cancelled(r)) if credited_elsewhere(&r) => {
                Ok(Attempt::Done(CreditOutcome::nothing()))
            }
            Err(TxError::Cancelled(r)) => {
                let learned = self.learn_from(&snap, &plan, &r, &lease, offset).await?;
                if let Ok(mut h) = hint_slot.lock() {
                    *h = learned;
                }
                Ok(Attempt::Retry)
            }
            Err(TxError::Store(e)) => Err(e),
        }
    }

    async fn commit_credit(
        &self,
        tx: Vec<TransactWriteItem>,
        pay: &Payout,
    ) -> Result<Attempt<CreditOutcome>, StoreError> {
        match self.transact(tx).await {
            Ok(()) => Ok(Attempt::Done(outcome(pay))),
            Err(TxError::Cancelled(r)) if credited_elsewhere(&r) => {
                Ok(Attempt::Done(CreditOutcome::nothing()))
            }
            Err(e) => e.retry(),
        }
    }

    /// The credit record (first, refused if it exists) and the ledger entries it owes.
    fn credit_items(
        &self,
        net: &NetworkId,
        user: &UserId,
        code: Option<(&ReferralCode, &UserId, &ProgramId)>,
        pay: &Payout,
        country: Option<&Alpha3>,
        now: &clock::Now,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let (referee_nanos, referrer_nanos) = (pay.referee_nanos, pay.referrer_nanos);
        let mut record: Item = HashMap::from([
            ("user".to_owned(), s(user.as_str())),
            ("counted".to_owned(), AttributeValue::Bool(pay.counted)),
            ("referee_usd_cents".to_owned(), n(pay.referee_cents)),
            ("referrer_usd_cents".to_owned(), n(pay.referrer_cents)),
            ("referee_deso_nanos".to_owned(), n(referee_nanos)),
            ("referrer_deso_nanos".to_owned(), n(referrer_nanos)),
            ("credited_at".to_owned(), s(&now.rfc3339)),
        ]);
        // The referrer and program too: the rewards ledger derives the credit's rewards from
        // this record alone.
        if let Some((c, owner, program)) = code {
            record.insert("code".into(), s(c.as_str()));
            record.insert("referrer".into(), s(owner.as_str()));
            record.insert("program".into(), s(program.as_str()));
        }
        if let Some(c) = country {
            record.insert("country".into(), s(c.as_str()));
        }
        let mut e = Expr::new();
        let absent = format!("attribute_not_exists({})", e.n(keys::PK));
        let mut tx = vec![self.tx_put(
            items::with_key(record, &keys::credit(net, user)),
            Some(&absent),
            &e,
            false,
        )?];
        let mut owed = vec![(user, "referee", pay.referee_cents, referee_nanos)];
        if let (true, Some((_, owner, _))) = (pay.counted, code) {
            owed.push((owner, "referrer", pay.referrer_cents, referrer_nanos));
        }
        for (beneficiary, role, cents, nanos) in owed {
            let entry = LedgerEntry {
                beneficiary: beneficiary.as_str().to_owned(),
                referee: user.as_str().to_owned(),
                role: role.to_owned(),
                usd_cents: cents,
                deso_nanos: nanos,
                code: code.map(|(c, _, _)| c.as_str().to_owned()),
                counted: pay.counted,
            };
            let key = keys::ledger(net, beneficiary, now.ns, user, role);
            tx.push(self.tx_put(
                items::with_key(items::to_item(&entry)?, &key),
                None,
                &Expr::new(),
                false,
            )?);
        }
        Ok(tx)
    }

    /// What `user` is owed, entry by entry.
    pub async fn ledger(
        &self,
        net: &NetworkId,
        user: &UserId,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        let parts = (0..EDGE_SHARDS).map(|s| {
            let pk = keys::ledger_partition(net, user, s);
            async move { self.query_partition(false, &pk, None).await }
        });
        futures::future::try_join_all(parts)
            .await?
            .into_iter()
            .flatten()
            .map(items::from_item)
            .collect()
    }
}

/// The credit record, first in every credit transaction, exists or is held by another one.
fn credited_elsewhere(r: &[aws_sdk_dynamodb::types::CancellationReason]) -> bool {
    TxError::condition_failed(r, 0) || TxError::conflicted(r, 0)
}

fn outcome(pay: &Payout) -> CreditOutcome {
    CreditOutcome {
        credited: true,
        counted: pay.counted,
        referee_usd_cents: pay.referee_cents,
        referrer_usd_cents: pay.referrer_cents,
    }
}
