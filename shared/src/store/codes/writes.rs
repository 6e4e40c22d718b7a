//! Creating codes and changing their config.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{shard_keys, CodeItem, ShardItem};
use crate::clock;
use crate::domain::shards::{resplit_cap, CODE_SHARDS};
use crate::domain::{
    Code, CodeConfig, CodeTotals, NetworkId, Program, ProgramId, ReferralCode, UserId,
};
use crate::store::users::Seen;
use crate::store::{items, keys, n, s, Attempt, Expr, Item, Store, StoreError, TxError};

pub enum DefaultCode {
    Created(Code),
    Existing(Code),
    OwnerBanned,
}

pub enum CreateOutcome {
    Created(Box<Code>),
    OwnerBanned,
    ProgramNotFound,
}

impl Store {
    /// The user's default code in `program`, created on first call. Concurrent first calls
    /// agree on one code: the default-code pointer is written with attribute_not_exists.
    pub(crate) async fn ensure_default_code(
        &self,
        net: &NetworkId,
        program: &Program,
        user: &UserId,
    ) -> Result<DefaultCode, StoreError> {
        self.retrying(|_| async move {
            let now = clock::now();
            let config = CodeConfig {
                referrer_amount_usd_cents: program.referrer_amount_usd_cents,
                referee_amount_usd_cents: program.referee_amount_usd_cents,
                max_referrals: program.max_referrals_per_code.into(),
                requires_jumio: false,
            };
            let code = Code::new(net, &program.id, user, config, &now)
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
            tx.extend(self.new_code_items(&code, false)?);
            match self.transact(tx).await {
                Ok(()) => Ok(Attempt::Done(DefaultCode::Created(code))),
                Err(TxError::Cancelled(reasons)) if TxError::condition_failed(&reasons, 0) => {
                    // Another call made it first: answer with its code.
                    let existing = TxError::old_item(&reasons, 0)
                        .and_then(|i| items::text(i, "code"))
                        .and_then(|c| ReferralCode::from_token(c).ok())
                        .ok_or_else(|| StoreError::Corrupt("default code pointer".into()))?;
                    match self.get_code(net, &existing).await? {
                        Some(code) => Ok(Attempt::Done(DefaultCode::Existing(code))),
                        None => Err(StoreError::Corrupt("default code pointer dangles".into())),
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

    /// A new code owned by `owner` in `program`.
    pub async fn create_code(
        &self,
        net: &NetworkId,
        program: &ProgramId,
        owner: &UserId,
        config: CodeConfig,
    ) -> Result<CreateOutcome, StoreError> {
        if self.get_program(net, program).await?.is_none() {
            return Ok(CreateOutcome::ProgramNotFound);
        }
        self.insert_code(net, program, owner, config, None, None)
            .await?
            // Only a named code can be taken; a generated one is drawn again.
            .ok_or_else(|| StoreError::Corrupt("generated code taken".into()))
    }

    /// A new code with the given text (the demo seed's); None when that code exists.
    pub async fn create_named_code(
        &self,
        net: &NetworkId,
        program: &ProgramId,
        owner: &UserId,
        config: CodeConfig,
        code: &ReferralCode,
    ) -> Result<Option<CreateOutcome>, StoreError> {
        if self.get_program(net, program).await?.is_none() {
            return Ok(Some(CreateOutcome::ProgramNotFound));
        }
        self.insert_code(net, program, owner, config, Some(code), None)
            .await
    }

    /// A new code in a program known to exist: the `named` one, or a drawn one when None;
    /// None when the named code is taken, exactly anywhere or in the network in any letter
    /// case. Programs are never deleted, so the caller's one read settles that the program
    /// exists; a check in the transaction would put the program's item in every creation.
    pub(crate) async fn insert_code(
        &self,
        net: &NetworkId,
        program: &ProgramId,
        owner: &UserId,
        config: CodeConfig,
        named: Option<&ReferralCode>,
        expires_ms: Option<u64>,
    ) -> Result<Option<CreateOutcome>, StoreError> {
        self.retrying(|_| async move {
            let now = clock::now();
            let mut code = Code::new(net, program, owner, config, &now)
                .map_err(|_| StoreError::Corrupt("entropy".into()))?;
            if let Some(named) = named {
                code.code = named.in_network(net);
            }
            code.expires_ms = expires_ms;
            let mut tx = vec![self.profile_counts(net, owner, "codes", 1, Seen::Unknown, &now)?];
            tx.extend(self.new_code_items(&code, named.is_some())?);
            match self.transact(tx).await {
                Ok(()) => Ok(Attempt::Done(Some(CreateOutcome::Created(Box::new(code))))),
                Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => {
                    Ok(Attempt::Done(Some(CreateOutcome::OwnerBanned)))
                }
                // A generated code that collided is drawn again; a named one stays taken.
                Err(TxError::Cancelled(r))
                    if named.is_some()
                        && (TxError::condition_failed(&r, 1)
                            || TxError::condition_failed(&r, 3)) =>
                {
                    Ok(Attempt::Done(None))
                }
                Err(e) => e.retry(),
            }
        })
        .await
    }

    /// Changes a code's config, activity or expiry through `edit`; its stats stay. The cap's
    /// shares are split anew over what each shard has taken, so they still sum to the cap; the
    /// code item and all shards change in one transaction, each shard guarded by the total it
    /// was read with. None when the network has no such code.
    pub(crate) async fn update_code(
        &self,
        net: &NetworkId,
        code: &ReferralCode,
        edit: impl Fn(&mut CodeItem),
    ) -> Result<Option<Code>, StoreError> {
        let edit = &edit;
        self.retrying(|_| async move {
            let mut wanted = vec![keys::code(code)];
            wanted.extend(shard_keys(code));
            let mut got = self.batch_get(&wanted).await?;
            let Some(item) = got.remove(&keys::code(code)) else {
                return Ok(Attempt::Done(None));
            };
            let mut main: CodeItem = items::from_item(item)?;
            if main.network_id != net.as_str() {
                return Ok(Attempt::Done(None));
            }
            let shards = (0..CODE_SHARDS)
                .map(|k| {
                    got.remove(&keys::code_shard(code, k))
                        .map(items::from_item::<ShardItem>)
                        .transpose()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let taken: Vec<u64> = shards
                .iter()
                .map(|s| s.as_ref().map_or(0, |s| s.total_referrals))
                .collect();
            edit(&mut main);
            let (active, max) = (main.active, main.max_referrals);
            let caps = (max > 0).then(|| resplit_cap(max, &taken));
            let version = main.cfg_version;
            main.cfg_version += 1;
            let mut e = Expr::new();
            let cond = format!(
                "(attribute_not_exists({v}) AND {zero} = {ver}) OR {v} = {ver}",
                v = e.n("cfg_version"),
                zero = e.v(n(0)),
                ver = e.v(n(version))
            );
            let mut item = self.code_item(&main.clone().into_code(CodeTotals::default())?)?;
            item.insert("cfg_version".into(), n(main.cfg_version));
            let mut tx = vec![self.tx_put(item, Some(&cond), &e, false)?];
            for (k, was) in taken.iter().enumerate() {
                let mut e = Expr::new();
                let cap = e.n("cap");
                let mut update = format!(
                    "SET {} = {}",
                    e.n("active"),
                    e.v(AttributeValue::Bool(active))
                );
                let exp = e.n("expires_ms");
                if let Some(ms) = main.expires_ms {
                    update.push_str(&format!(", {exp} = {}", e.v(n(ms))));
                }
                if let Some(c) = &caps {
                    update.push_str(&format!(", {cap} = {}", e.v(n(c[k]))));
                }
                let mut gone = Vec::new();
                if caps.is_none() {
                    gone.push(cap);
                }
                if main.expires_ms.is_none() {
                    gone.push(exp);
                }
                if !gone.is_empty() {
                    update.push_str(&format!(" REMOVE {}", gone.join(", ")));
                }
                let total = e.n("total_referrals");
                let cond = format!(
                    "attribute_not_exists({total}) OR {total} = {}",
                    e.v(n(*was))
                );
                tx.push(self.tx_update(&keys::code_shard(code, k), &update, Some(&cond), &e)?);
            }
            match self.transact(tx).await {
                Ok(()) => {
                    let totals = shards
                        .iter()
                        .flatten()
                        .fold(CodeTotals::default(), |mut t, s| {
                            t += s.totals();
                            t
                        });
                    Ok(Attempt::Done(Some(main.into_code(totals)?)))
                }
                // A connection moved a shard meanwhile: read again and split anew.
                Err(e) => e.retry(),
            }
        })
        .await
    }
}
