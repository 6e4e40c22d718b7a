//! User profiles: creation, ban and revocation.

use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::table::{key_item, pack};
use super::{items, keys, n, s, Attempt, Expr, Store, StoreError, TxError};
use crate::clock;
use crate::domain::{NetworkId, UserId, UserStatus};

#[derive(Debug, Serialize, Deserialize)]
pub struct ProfileItem {
    pub user: String,
    pub status: UserStatus,
    pub created_at: String,
    /// Programs where the user has a referrer, plus programs where it has had referees.
    #[serde(default)]
    pub links: u64,
    /// Codes the user owns, across programs.
    #[serde(default)]
    pub codes: u64,
}

impl ProfileItem {
    pub fn banned(&self) -> bool {
        self.status == UserStatus::Banned
    }
}

pub enum StatusOutcome {
    Done { status: UserStatus, created: bool },
    NotFound,
    Connected,
    Banned,
}

/// What a transaction's read saw of a profile it updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    Absent,
    Present,
    /// Not read: either, as long as it is not banned.
    Unknown,
}

impl Seen {
    pub fn from(p: Option<&ProfileItem>) -> Seen {
        if p.is_some() {
            Seen::Present
        } else {
            Seen::Absent
        }
    }
}

impl Store {
    /// A profile's `counter` (links or codes) grows by `k`: the profile is created active
    /// when new, a banned one refuses, and what the read saw must still hold.
    pub(crate) fn profile_counts(
        &self,
        net: &NetworkId,
        user: &UserId,
        counter: &str,
        k: u64,
        seen: Seen,
        now: &clock::Now,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let st = e.n("status");
        let active = e.v(s(UserStatus::Active.as_str()));
        let update = format!(
            "SET {u} = {uv}, {st} = if_not_exists({st}, {active}), {c} = if_not_exists({c}, {cv}) ADD {counter} {k}",
            u = e.n("user"),
            uv = e.v(s(user.as_str())),
            c = e.n("created_at"),
            cv = e.v(s(&now.rfc3339)),
            counter = e.n(counter),
            k = e.v(n(k)),
        );
        let cond = match seen {
            Seen::Absent => format!("attribute_not_exists({})", e.n(keys::PK)),
            Seen::Present => format!("{st} = {active}"),
            Seen::Unknown => format!("attribute_not_exists({st}) OR {st} = {active}"),
        };
        self.tx_update(&keys::profile(net, user), &update, Some(&cond), &e)
    }

    /// A check that the user is not banned (an absent profile is not).
    pub(crate) fn profile_not_banned(
        &self,
        net: &NetworkId,
        user: &UserId,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let st = e.n("status");
        let cond = format!(
            "attribute_not_exists({st}) OR {st} <> {}",
            e.v(s(UserStatus::Banned.as_str()))
        );
        self.tx_check(&keys::profile(net, user), &cond, &e)
    }

    /// The user lost its referrer in a program: one connection fewer.
    pub(crate) fn profile_unlink(
        &self,
        net: &NetworkId,
        user: &UserId,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let links = e.n("links");
        let update = format!("ADD {links} {}", e.v(n(-1i64)));
        let cond = format!("{links} > {}", e.v(n(0)));
        self.tx_update(&keys::profile(net, user), &update, Some(&cond), &e)
    }

    pub(crate) async fn get_profile(
        &self,
        net: &NetworkId,
        user: &UserId,
    ) -> Result<Option<ProfileItem>, StoreError> {
        self.get(&keys::profile(net, user))
            .await?
            .map(items::from_item)
            .transpose()
    }

    /// Creates the user if new; a banned user stays banned.
    pub async fn create_user(
        &self,
        net: &NetworkId,
        user: &UserId,
    ) -> Result<StatusOutcome, StoreError> {
        let now = clock::now();
        let mut e = Expr::new();
        let update = format!(
            "SET {u} = {uv}, {st} = if_not_exists({st}, {a}), {c} = if_not_exists({c}, {cv})",
            u = e.n("user"),
            uv = e.v(s(user.as_str())),
            st = e.n("status"),
            a = e.v(s(UserStatus::Active.as_str())),
            c = e.n("created_at"),
            cv = e.v(s(&now.rfc3339)),
        );
        let resp = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::profile(net, user))))
            .update_expression(update)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(super::classify)?;
        let old: Option<ProfileItem> = resp
            .attributes
            .filter(|a| !a.is_empty())
            .map(items::from_item)
            .transpose()?;
        Ok(match old {
            Some(p) if p.banned() => StatusOutcome::Banned,
            Some(_) => StatusOutcome::Done {
                status: UserStatus::Active,
                created: false,
            },
            None => StatusOutcome::Done {
                status: UserStatus::Active,
                created: true,
            },
        })
    }

    /// Bans the user: first every code they own is deactivated (each code with all its shards
    /// in one transaction), then the status is set, guarded by the profile's code count so a
    /// code created meanwhile makes the ban go round again.
    pub(crate) async fn ban_user(
        &self,
        net: &NetworkId,
        user: &UserId,
    ) -> Result<StatusOutcome, StoreError> {
        self.retrying(|_| async move {
            let Some(profile) = self.get_profile(net, user).await? else {
                return Ok(Attempt::Done(StatusOutcome::NotFound));
            };
            let codes = self.user_code_items(net, user).await?;
            // Fewer codes than the profile counts: the index has not caught up with a new one.
            // More is fine: codes outlive a revoked profile and its count.
            if (codes.len() as u64) < profile.codes {
                return Ok(Attempt::Retry);
            }
            let mut groups = codes
                .iter()
                .filter(|c| c.active)
                .map(|c| self.code_activity_items(c, false))
                .collect::<Result<Vec<_>, _>>()?;
            let mut e = Expr::new();
            let update = format!(
                "SET {} = {}",
                e.n("status"),
                e.v(s(UserStatus::Banned.as_str()))
            );
            let cond = format!(
                "attribute_exists({}) AND (attribute_not_exists({c}) OR {c} = {})",
                e.n(keys::PK),
                e.v(n(profile.codes)),
                c = e.n("codes"),
            );
            // The status comes last, with the last codes when they fit in one transaction.
            groups.push(vec![self.tx_update(
                &keys::profile(net, user),
                &update,
                Some(&cond),
                &e,
            )?]);
            for tx in pack(groups) {
                match self.transact(tx).await {
                    Ok(()) => {}
                    Err(TxError::Cancelled(_)) => return Ok(Attempt::Retry),
                    Err(TxError::Store(e)) => return Err(e),
                }
            }
            Ok(Attempt::Done(StatusOutcome::Done {
                status: UserStatus::Banned,
                created: false,
            }))
        })
        .await
    }

    /// Removes a user that takes part in no connection.
    pub(crate) async fn revoke_user(
        &self,
        net: &NetworkId,
        user: &UserId,
    ) -> Result<StatusOutcome, StoreError> {
        self.retrying(|_| async move {
            let mut e = Expr::new();
            let links = e.n("links");
            let cond = format!(
                "attribute_exists({}) AND (attribute_not_exists({links}) OR {links} = {})",
                e.n(keys::PK),
                e.v(n(0))
            );
            let tx = vec![self.tx_delete(&keys::profile(net, user), Some(&cond), &e)?];
            match self.transact(tx).await {
                Ok(()) => Ok(Attempt::Done(StatusOutcome::Done {
                    status: UserStatus::Revoked,
                    created: false,
                })),
                Err(TxError::Cancelled(reasons)) if TxError::condition_failed(&reasons, 0) => {
                    Ok(Attempt::Done(match TxError::old_item(&reasons, 0) {
                        Some(_) => StatusOutcome::Connected,
                        None => StatusOutcome::NotFound,
                    }))
                }
                // A concurrent write to the profile: try again.
                Err(e) => e.retry(),
            }
        })
        .await
    }
}
