//! User profiles: creation, ban and revocation.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::items::{self, ProfileItem, UserStatus};
use super::{keys, n, s, Attempt, Expr, Store, StoreError, TxError};
use crate::clock;
use crate::domain::{NetworkId, UserId};

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
    pub fn profile_counts(
        &self,
        net: &NetworkId,
        user: &UserId,
        counter: &str,
        k: u64,
        seen: Seen,
        now: &clock::Now,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
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

    pub async fn get_profile(
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
            .set_key(Some(super::key_item(&keys::profile(net, user))))
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
            Some(p) if p.status == UserStatus::Banned => StatusOutcome::Banned,
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

    /// Bans the user and deactivates every code they own, in one transaction. The profile's
    /// code count guards against a code created after the listing.
    pub async fn ban_user(
        &self,
        net: &NetworkId,
        user: &UserId,
    ) -> Result<StatusOutcome, StoreError> {
        self.retrying(|_| async move {
            let Some(profile) = self.get_profile(net, user).await? else {
                return Ok(Attempt::Done(StatusOutcome::NotFound));
            };
            let codes = self.user_codes(net, user, None).await?;
            // Fewer codes than the profile counts: the index has not caught up with a new one.
            // More is fine: codes outlive a revoked profile and its count.
            if (codes.len() as u64) < profile.codes {
                return Ok(Attempt::Retry);
            }
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
            let mut tx =
                vec![self.tx_update(&keys::profile(net, user), &update, Some(&cond), &e)?];
            for code in codes.iter().filter(|c| c.active) {
                let mut e = Expr::new();
                let update = format!(
                    "SET {} = {}",
                    e.n("active"),
                    e.v(AttributeValue::Bool(false))
                );
                tx.push(self.tx_update(&keys::code(&code.code), &update, None, &e)?);
            }
            for chunk in tx.chunks(super::MAX_TX_ITEMS).skip(1) {
                // More than 99 active codes: deactivate the rest first, then ban with the profile.
                match self.transact(chunk.to_vec()).await {
                    Ok(()) => {}
                    Err(TxError::Cancelled(_)) => return Ok(Attempt::Retry),
                    Err(TxError::Store(e)) => return Err(e),
                }
            }
            tx.truncate(super::MAX_TX_ITEMS);
            match self.transact(tx).await {
                Ok(()) => Ok(Attempt::Done(StatusOutcome::Done {
                    status: UserStatus::Banned,
                    created: false,
                })),
                Err(e) => e.retry(),
            }
        })
        .await
    }

    /// Removes a user that takes part in no connection.
    pub async fn revoke_user(
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
                    Ok(Attempt::Done(match reasons[0].item() {
                        Some(i) if !i.is_empty() => StatusOutcome::Connected,
                        _ => StatusOutcome::NotFound,
                    }))
                }
                // A concurrent write to the profile: try again.
                Err(e) => e.retry(),
            }
        })
        .await
    }
}
