//! Referral codes: globally unique items, listed per owner through GSI1.

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{self, CodeItem, ProfileItem, UserStatus};
use super::{keys, n, s, Attempt, Expr, Item, Store, StoreError, TxError};
use crate::clock;
use crate::domain::{Code, NetworkId, Program, ProgramId, ReferralCode, UserId};

pub enum DefaultCode {
    Created(Code),
    Existing(Code),
    OwnerBanned,
}

impl Store {
    pub async fn get_code(&self, code: &ReferralCode) -> Result<Option<Code>, StoreError> {
        self.get(&keys::code(code))
            .await?
            .map(items::code)
            .transpose()
    }

    /// A user's codes in one program, or in all programs of the network.
    pub async fn user_codes(
        &self,
        net: &NetworkId,
        user: &UserId,
        prog: Option<&ProgramId>,
    ) -> Result<Vec<Code>, StoreError> {
        let mut e = Expr::new();
        let mut kc = format!(
            "{} = {}",
            e.n(keys::GSI1PK),
            e.v(s(keys::user_codes_partition(net, user)))
        );
        if let Some(p) = prog {
            kc.push_str(&format!(
                " AND begins_with({}, {})",
                e.n(keys::GSI1SK),
                e.v(s(format!("{p}#")))
            ));
        }
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let resp = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(keys::GSI1)
                .key_condition_expression(&kc)
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(super::classify)?;
            for item in resp.items.unwrap_or_default() {
                out.push(items::code(item)?);
            }
            match resp.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        out.sort_by_key(|c| c.created_ns);
        Ok(out)
    }

    /// The code item with its GSI keys, ready to Put.
    pub fn code_item(&self, code: &Code) -> Result<Item, StoreError> {
        let mut item = items::with_key(
            items::to_item(&CodeItem::from(code))?,
            &keys::code(&code.code),
        );
        item.insert(
            keys::GSI1PK.into(),
            s(keys::user_codes_partition(&code.network, &code.owner)),
        );
        item.insert(
            keys::GSI1SK.into(),
            s(keys::user_codes_sort(&code.program, &code.code)),
        );
        Ok(item)
    }

    /// Update of the owner's profile that goes with a new code: created if new, never banned.
    pub fn profile_gains_code(
        &self,
        net: &NetworkId,
        user: &UserId,
        seen: Option<&ProfileItem>,
        now: &clock::Now,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let (update, cond) = match seen {
            None => (
                format!(
                    "SET {} = {}, {} = {}, {} = {} ADD {} {}",
                    e.n("user"),
                    e.v(s(user.as_str())),
                    e.n("status"),
                    e.v(s(UserStatus::Active.as_str())),
                    e.n("created_at"),
                    e.v(s(&now.rfc3339)),
                    e.n("codes"),
                    e.v(n(1))
                ),
                format!("attribute_not_exists({})", e.n(keys::PK)),
            ),
            Some(_) => (
                format!("ADD {} {}", e.n("codes"), e.v(n(1))),
                format!(
                    "{} = {}",
                    e.n("status"),
                    e.v(s(UserStatus::Active.as_str()))
                ),
            ),
        };
        self.tx_update(&keys::profile(net, user), &update, Some(&cond), &e)
    }

    /// The user's default code in `program`, created on first call. Concurrent first calls
    /// agree on one code: the default-code pointer is written with attribute_not_exists.
    pub async fn ensure_default_code(
        &self,
        net: &NetworkId,
        program: &Program,
        user: &UserId,
    ) -> Result<DefaultCode, StoreError> {
        self.retrying(|_| async move {
            let seen: Option<ProfileItem> = self
                .get(&keys::profile(net, user))
                .await?
                .map(items::from_item)
                .transpose()?;
            if seen
                .as_ref()
                .is_some_and(|p| p.status == UserStatus::Banned)
            {
                return Ok(Attempt::Done(DefaultCode::OwnerBanned));
            }
            let now = clock::now();
            let code = Code {
                code: ReferralCode::generate()
                    .map_err(|_| StoreError::Corrupt("entropy".into()))?,
                network: net.clone(),
                program: program.id.clone(),
                owner: user.clone(),
                referrer_amount_usd_cents: program.referrer_amount_usd_cents.get(),
                referee_amount_usd_cents: program.referee_amount_usd_cents.get(),
                max_referrals: program.max_referrals_per_code.into(),
                requires_jumio: false,
                active: true,
                total_referrals: 0,
                num_jumio_attempts: 0,
                num_jumio_successes: 0,
                total_referrer_deso_nanos: 0,
                total_referee_deso_nanos: 0,
                created_at: now.rfc3339.clone(),
                created_ns: now.ns,
            };
            let mut e = Expr::new();
            let absent = format!("attribute_not_exists({})", e.n(keys::PK));
            let pointer = items::with_key(
                Item::from([("code".to_owned(), s(code.code.as_str()))]),
                &keys::default_code(net, &program.id, user),
            );
            let tx = vec![
                self.tx_put(pointer, Some(&absent), &e, true)?,
                self.tx_put(self.code_item(&code)?, Some(&absent), &e, false)?,
                self.profile_gains_code(net, user, seen.as_ref(), &now)?,
            ];
            match self.transact(tx).await {
                Ok(()) => Ok(Attempt::Done(DefaultCode::Created(code))),
                Err(TxError::Cancelled(reasons)) if TxError::condition_failed(&reasons, 0) => {
                    // Another call made it first: answer with its code.
                    let existing =
                        reasons[0]
                            .item()
                            .and_then(|i| i.get("code"))
                            .and_then(|v| match v {
                                AttributeValue::S(c) => ReferralCode::try_from(c.as_str()).ok(),
                                _ => None,
                            });
                    match existing {
                        Some(c) => match self.get_code(&c).await? {
                            Some(code) => Ok(Attempt::Done(DefaultCode::Existing(code))),
                            None => Err(StoreError::Corrupt("default code pointer dangles".into())),
                        },
                        None => Err(StoreError::Corrupt("default code pointer".into())),
                    }
                }
                // A code collision, a profile that changed, or a conflict: try again.
                Err(TxError::Cancelled(_)) => Ok(Attempt::Retry),
                Err(TxError::Store(e)) => Err(e),
            }
        })
        .await
    }
}
