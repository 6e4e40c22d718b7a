//! Referral codes: globally unique items, listed per owner through GSI1.

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{self, CodeItem};
use super::users::Seen;
use super::{keys, s, Attempt, Expr, Item, Store, StoreError, TxError};
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
        let prefix = prog.map(|p| format!("{p}#"));
        let mut out = self
            .query_partition(
                true,
                &keys::user_codes_partition(net, user),
                prefix.as_deref(),
            )
            .await?
            .into_iter()
            .map(items::code)
            .collect::<Result<Vec<_>, _>>()?;
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

    /// A new code and its network index entry, both refused if the code exists.
    pub fn new_code_items(
        &self,
        code: &Code,
    ) -> Result<Vec<aws_sdk_dynamodb::types::TransactWriteItem>, StoreError> {
        let mut e = Expr::new();
        let absent = format!("attribute_not_exists({})", e.n(keys::PK));
        let index = items::with_key(
            Item::from([("code".to_owned(), s(code.code.as_str()))]),
            &keys::network_code(&code.network, code.created_ns, &code.code),
        );
        Ok(vec![
            self.tx_put(self.code_item(code)?, Some(&absent), &e, false)?,
            self.tx_put(index, None, &Expr::new(), false)?,
        ])
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
            let now = clock::now();
            let code = Code::new(
                net,
                &program.id,
                user,
                program.referrer_amount_usd_cents.get(),
                program.referee_amount_usd_cents.get(),
                program.max_referrals_per_code.into(),
                false,
                &now,
            )
            .map_err(|_| StoreError::Corrupt("entropy".into()))?;
            let mut e = Expr::new();
            let absent = format!("attribute_not_exists({})", e.n(keys::PK));
            let pointer = items::with_key(
                Item::from([("code".to_owned(), s(code.code.as_str()))]),
                &keys::default_code(net, &program.id, user),
            );
            let mut tx = vec![
                self.tx_put(pointer, Some(&absent), &e, true)?,
                self.profile_counts(net, user, "codes", 1, Seen::Unknown, &now)?,
            ];
            tx.extend(self.new_code_items(&code)?);
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
                Err(TxError::Cancelled(reasons)) if TxError::condition_failed(&reasons, 1) => {
                    Ok(Attempt::Done(DefaultCode::OwnerBanned))
                }
                // A code collision or a conflict: try again.
                Err(e) => e.retry(),
            }
        })
        .await
    }
}
