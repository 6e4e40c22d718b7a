//! DeSo credits in the rewards ledger: a credit (admin/jumio-callback) appears as `paid`
//! rewards of rule `deso`, the referee's own bonus at level 0 and the kickback at level 1, so
//! one ledger serves both API families. Derived from the committed credit record, each reward
//! once by its derived id. DeSo pays them itself: their payout is `deso`.

use serde::Deserialize;

use super::super::{items, Store, StoreError, TxError};
use super::RewardItem;
use crate::clock;
use crate::domain::reward::{reward_id, RewardStatus, DESO_PAYOUT};
use crate::domain::{NetworkId, ProgramId};

pub const DESO_RULE: &str = "deso";
pub const DESO_EVENT: &str = "deso_credit";

/// A credit record as the stream shows it.
#[derive(Debug, Deserialize)]
pub struct CreditImage {
    pub user: String,
    #[serde(default)]
    pub counted: bool,
    #[serde(default)]
    pub referee_usd_cents: i64,
    #[serde(default)]
    pub referrer_usd_cents: i64,
    #[serde(default)]
    pub referrer: Option<String>,
    #[serde(default)]
    pub program: Option<String>,
    #[serde(default)]
    pub credited_at: Option<String>,
}

impl Store {
    /// The rewards of a credit in network `net`; `program` when the credit names none (a
    /// user who never began with a code).
    pub async fn record_deso_credit(
        &self,
        net: &NetworkId,
        c: &CreditImage,
        program: &ProgramId,
    ) -> Result<(), StoreError> {
        let program = c
            .program
            .clone()
            .unwrap_or_else(|| program.as_str().to_owned());
        let event_id = format!("deso:{}", c.user);
        let now = clock::now();
        let mut owed = vec![(0u8, c.user.clone(), c.referee_usd_cents)];
        if let (true, Some(referrer)) = (c.counted, &c.referrer) {
            owed.push((1, referrer.clone(), c.referrer_usd_cents));
        }
        let mut tx = Vec::new();
        for (level, user, cents) in owed.into_iter().filter(|o| o.2 != 0) {
            items::user_id(&user)?;
            let r = RewardItem {
                network_id: net.as_str().to_owned(),
                reward_id: reward_id(net.as_str(), &event_id, &program, DESO_RULE, level),
                program_id: program.clone(),
                rule_id: DESO_RULE.into(),
                event_id: event_id.clone(),
                event: DESO_EVENT.into(),
                referee: c.user.clone(),
                user,
                level,
                amount_usd_cents: cents,
                status: RewardStatus::Paid,
                created_at: c.credited_at.clone().unwrap_or_else(|| now.rfc3339.clone()),
                created_ns: now.ns,
                approvable_ns: now.ns,
                payout_id: Some(DESO_PAYOUT.into()),
                reverses: None,
                reason: None,
            };
            tx.extend(self.new_reward_items(net, &r)?);
        }
        if tx.is_empty() {
            return Ok(());
        }
        match self.transact(tx).await {
            Ok(()) => Ok(()),
            // Written by an earlier delivery.
            Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => Ok(()),
            Err(TxError::Cancelled(_)) => Err(StoreError::Contention),
            Err(TxError::Store(e)) => Err(e),
        }
    }
}
