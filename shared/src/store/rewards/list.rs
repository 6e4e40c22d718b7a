//! A user's rewards, newest first, with the balance: the key and the balance shards in one
//! BatchGetItem, then one Query per reward partition side by side.

use super::super::api_keys::{check_key, AuthFailure, KeyProbe};
use super::super::table::{ShardCursor, SortKey};
use super::super::{items, keys, Store, StoreError};
use super::balance::balance_of;
use super::RewardItem;
use crate::domain::reward::Balance;
use crate::domain::{NetworkId, UserId};

pub struct RewardsPage {
    pub balance: Balance,
    /// Up to when the balance counts rewards, in ns (0: none yet).
    pub balance_as_of_ns: u64,
    pub rewards: Vec<RewardItem>,
    pub next: Option<ShardCursor>,
}

impl Store {
    pub async fn user_rewards(
        &self,
        net: &NetworkId,
        probe: &KeyProbe,
        user: &UserId,
        (limit, cursor): (usize, Option<ShardCursor>),
        now_ns: u64,
    ) -> Result<Result<RewardsPage, AuthFailure>, StoreError> {
        let shards = Store::balance_keys(net, user);
        let mut wanted = vec![probe.key.clone()];
        wanted.extend(shards.iter().cloned());
        let got = self.batch_get(&wanted).await?;
        if let Err(f) = check_key(got.get(&probe.key), net) {
            return Ok(Err(f));
        }
        let (balance, as_of) = balance_of(shards.iter().filter_map(|k| got.get(k)), now_ns);
        let parts = keys::user_rewards_partitions(net, user);
        let (rewards, next) = self.rewards_page(&parts, limit, cursor).await?;
        Ok(Ok(RewardsPage {
            balance,
            balance_as_of_ns: as_of,
            rewards,
            next,
        }))
    }
}

impl Store {
    /// A page of a program's rewards, oldest first: the review queue (after the key and the
    /// program are checked).
    pub async fn program_rewards(
        &self,
        net: &crate::domain::NetworkId,
        prog: &crate::domain::ProgramId,
        (limit, cursor): (usize, Option<ShardCursor>),
    ) -> Result<(Vec<RewardItem>, Option<ShardCursor>), StoreError> {
        let parts = keys::program_rewards_partitions(net, prog);
        self.rewards_page(&parts, limit, cursor).await
    }

    /// A page of reward copies over `parts`, in sort-key order.
    async fn rewards_page(
        &self,
        parts: &[String],
        limit: usize,
        cursor: Option<ShardCursor>,
    ) -> Result<(Vec<RewardItem>, Option<ShardCursor>), StoreError> {
        let page = self
            .merged_page(parts, &SortKey::All, limit, cursor)
            .await?;
        let rewards = page
            .rows
            .into_iter()
            .map(|(_, item)| items::from_item::<RewardItem>(item))
            .collect::<Result<_, _>>()?;
        Ok((rewards, page.next))
    }
}
