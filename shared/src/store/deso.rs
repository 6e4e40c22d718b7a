//! The DeSo-compatible side of the store: settings, country bonuses, codes by hash,
//! jumio-begin and exactly-once crediting.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::items::{self, UserStatus};
use super::links::{code_accepts, judge, LinkRequest, LinkSnapshot, Refusal, Verdict};
use super::users::Seen;
use super::{keys, n, s, Attempt, Expr, Item, Key, Store, StoreError, TxError, MAX_TX_ITEMS};
use crate::clock;
use crate::domain::deso::{cents_to_nanos, Alpha3, CodeAmounts, CountryBonus};
use crate::domain::referral_csv::CsvRow;
use crate::domain::{Code, NetworkId, ProgramId, ReferralCode, UserId};

/// Network-wide DeSo settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesoSettings {
    #[serde(default)]
    pub jumio_usd_cents: u64,
    #[serde(default)]
    pub kickback_usd_cents: u64,
    #[serde(default)]
    pub usd_cents_per_deso: Option<u64>,
}

impl DesoSettings {
    pub fn default_bonus(&self) -> CountryBonus {
        CountryBonus::default_with(self.jumio_usd_cents, self.kickback_usd_cents)
    }
}

pub enum BeginOutcome {
    Started,
    /// The user began with a code already: the first one wins.
    Ignored,
    UnknownCode,
    AlreadyCredited,
}

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

pub enum CreateOutcome {
    Created(Box<Code>),
    OwnerBanned,
    ProgramNotFound,
}

/// The code a user began with, and what a link through it read at that moment: the
/// callback starts from this copy, and every fact it relies on is a condition of its write.
#[derive(Debug, Serialize, Deserialize)]
struct JumioItem {
    code: String,
    owner: String,
    program: String,
    began_at: String,
}

/// One entry of what a user or a referrer is owed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub beneficiary: String,
    pub referee: String,
    pub role: String,
    pub usd_cents: u64,
    pub deso_nanos: u64,
    #[serde(default)]
    pub code: Option<String>,
    pub counted: bool,
}

/// Config fields of a code that an admin sets.
#[derive(Clone, Copy, Debug)]
pub struct CodeConfig {
    pub referrer_amount_usd_cents: u32,
    pub referee_amount_usd_cents: u32,
    pub max_referrals: u64,
    pub requires_jumio: bool,
}

impl Store {
    pub async fn deso_settings(&self, net: &NetworkId) -> Result<DesoSettings, StoreError> {
        self.get(&keys::deso_settings(net))
            .await?
            .map(items::from_item)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Sets one number of the network's DeSo settings.
    pub async fn set_deso_setting(
        &self,
        net: &NetworkId,
        attr: &str,
        value: u64,
    ) -> Result<(), StoreError> {
        let mut e = Expr::new();
        let update = format!("SET {} = {}", e.n(attr), e.v(n(value)));
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(super::key_item(&keys::deso_settings(net))))
            .update_expression(update)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await
            .map_err(super::classify)?;
        Ok(())
    }

    pub async fn put_country_bonus(
        &self,
        net: &NetworkId,
        country: &Alpha3,
        bonus: &CountryBonus,
    ) -> Result<(), StoreError> {
        let item = items::with_key(
            items::to_item(bonus)?,
            &keys::deso_country(net, country.as_str()),
        );
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(super::classify)?;
        Ok(())
    }

    /// A code and the sign-up bonus of a country, in one BatchGetItem.
    pub async fn code_with_bonus(
        &self,
        net: &NetworkId,
        code: &ReferralCode,
        country: Option<&Alpha3>,
    ) -> Result<(Option<Code>, CountryBonus), StoreError> {
        let k_code = keys::code(code);
        let k_settings = keys::deso_settings(net);
        let k_country = country.map(|c| keys::deso_country(net, c.as_str()));
        let mut wanted = vec![k_code.clone(), k_settings.clone()];
        wanted.extend(k_country.clone());
        let mut got = self.batch_get(&wanted).await?;
        let code = got
            .remove(&k_code)
            .map(items::code)
            .transpose()?
            .filter(|c| &c.network == net);
        let (bonus, _) = self.bonus_of(&mut got, &k_settings, k_country.as_ref())?;
        Ok((code, bonus))
    }

    /// The settings, and the country's bonus (the default one when it has none).
    fn bonus_of(
        &self,
        got: &mut HashMap<Key, Item>,
        k_settings: &Key,
        k_country: Option<&Key>,
    ) -> Result<(CountryBonus, DesoSettings), StoreError> {
        let settings: DesoSettings = got
            .remove(k_settings)
            .map(items::from_item)
            .transpose()?
            .unwrap_or_default();
        let bonus = match k_country.and_then(|k| got.remove(k)) {
            Some(item) => items::from_item(item)?,
            None => settings.default_bonus(),
        };
        Ok((bonus, settings))
    }

    /// Every country's bonus and the settings: one Query of the DeSo partition.
    pub async fn all_bonuses(
        &self,
        net: &NetworkId,
    ) -> Result<(BTreeMap<String, CountryBonus>, DesoSettings), StoreError> {
        let mut out = BTreeMap::new();
        let mut settings = DesoSettings::default();
        for item in self
            .query_partition(false, &keys::deso_partition(net), None)
            .await?
        {
            let (_, sk) = super::item_key(&item)?;
            if let Some(c) = sk.strip_prefix(keys::COUNTRY_PREFIX) {
                out.insert(c.to_owned(), items::from_item(item)?);
            } else if sk == keys::deso_settings(net).1 {
                settings = items::from_item(item)?;
            }
        }
        Ok((out, settings))
    }

    /// A new code owned by `owner` in `program`.
    pub async fn create_code(
        &self,
        net: &NetworkId,
        program: &ProgramId,
        owner: &UserId,
        config: CodeConfig,
    ) -> Result<CreateOutcome, StoreError> {
        self.retrying(|_| async move {
            let now = clock::now();
            let code = Code::new(
                net,
                program,
                owner,
                config.referrer_amount_usd_cents,
                config.referee_amount_usd_cents,
                config.max_referrals,
                config.requires_jumio,
                &now,
            )
            .map_err(|_| StoreError::Corrupt("entropy".into()))?;
            let mut e = Expr::new();
            let exists = format!("attribute_exists({})", e.n(keys::PK));
            let mut tx = vec![
                self.tx_check(&keys::program(net, program), &exists, &e)?,
                self.profile_counts(net, owner, "codes", 1, Seen::Unknown, &now)?,
            ];
            tx.extend(self.new_code_items(&code)?);
            match self.transact(tx).await {
                Ok(()) => Ok(Attempt::Done(CreateOutcome::Created(Box::new(code)))),
                Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => {
                    Ok(Attempt::Done(CreateOutcome::ProgramNotFound))
                }
                Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 1) => {
                    Ok(Attempt::Done(CreateOutcome::OwnerBanned))
                }
                Err(e) => e.retry(),
            }
        })
        .await
    }

    /// Sets a code's config and IsActive; its stats stay. None when the network has no such code.
    pub async fn update_code(
        &self,
        net: &NetworkId,
        code: &ReferralCode,
        config: CodeConfig,
        active: bool,
    ) -> Result<Option<Code>, StoreError> {
        let mut e = Expr::new();
        let update = config_update(&mut e, &config, active);
        let cond = format!("{} = {}", e.n("network_id"), e.v(s(net.as_str())));
        let resp = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(super::key_item(&keys::code(code))))
            .update_expression(update)
            .condition_expression(cond)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match resp {
            Ok(r) => r.attributes.map(items::code).transpose(),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(err) => Err(super::classify(err)),
        }
    }

    /// Every code of the network, oldest first.
    pub async fn network_codes(&self, net: &NetworkId) -> Result<Vec<Code>, StoreError> {
        let mut wanted = Vec::new();
        for item in self
            .query_partition(false, &keys::network_codes_partition(net), None)
            .await?
        {
            if let Some(AttributeValue::S(c)) = item.get("code") {
                let code = ReferralCode::try_from(c.as_str())
                    .map_err(|_| StoreError::Corrupt("code index".into()))?;
                wanted.push(keys::code(&code));
            }
        }
        let mut out = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(100) {
            let mut got = self.batch_get(chunk).await?;
            for k in chunk {
                if let Some(item) = got.remove(k) {
                    out.push(items::code(item)?);
                }
            }
        }
        Ok(out)
    }

    /// The users who joined through a code, in order.
    pub async fn referred_users(&self, code: &ReferralCode) -> Result<Vec<String>, StoreError> {
        Ok(self
            .query_partition(false, &keys::code_referrals_partition(code), None)
            .await?
            .into_iter()
            .filter_map(|item| match item.get("user") {
                Some(AttributeValue::S(u)) => Some(u.clone()),
                _ => None,
            })
            .collect())
    }

    /// What `user` is owed, entry by entry.
    pub async fn ledger(
        &self,
        net: &NetworkId,
        user: &UserId,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        self.query_partition(false, &keys::ledger_partition(net, user), None)
            .await?
            .into_iter()
            .map(items::from_item)
            .collect()
    }

    /// The user starts signing up with `code`. The first code named wins; attempts count
    /// each user once.
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
                .map(items::code)
                .transpose()?
                .filter(|c| &c.network == net)
            else {
                return Ok(Attempt::Done(BeginOutcome::UnknownCode));
            };
            if got.contains_key(&k_credit) {
                return Ok(Attempt::Done(BeginOutcome::AlreadyCredited));
            }
            if got.contains_key(&k_jumio) {
                return Ok(Attempt::Done(BeginOutcome::Ignored));
            }
            let req = LinkRequest {
                code: Some(code),
                ..LinkRequest::new(net, &found.program, user, &found.owner)
            };
            let snapshot = self.batch_get(&req.keys()).await?;
            let now = clock::now();
            let record = JumioItem {
                code: code.as_str().to_owned(),
                owner: found.owner.as_str().to_owned(),
                program: found.program.as_str().to_owned(),
                began_at: now.rfc3339.clone(),
            };
            let mut item = items::with_key(items::to_item(&record)?, &k_jumio);
            item.insert(
                "snapshot".into(),
                AttributeValue::L(snapshot.into_values().map(AttributeValue::M).collect()),
            );
            let mut e = Expr::new();
            let absent = format!("attribute_not_exists({})", e.n(keys::PK));
            let mut e2 = Expr::new();
            let exists = format!("attribute_exists({})", e2.n(keys::PK));
            let add = format!("ADD {} {}", e2.n("num_jumio_attempts"), e2.v(n(1)));
            let tx = vec![
                self.tx_put(item, Some(&absent), &e, false)?,
                self.tx_update(&k_code, &add, Some(&exists), &e2)?,
                self.tx_check(&k_credit, &absent, &e)?,
            ];
            match self.transact(tx).await {
                Ok(()) => Ok(Attempt::Done(BeginOutcome::Started)),
                Err(e) => e.retry(),
            }
        })
        .await
    }

    /// Credits the user's sign-up exactly once: the credit record, the ledger, the code's
    /// counters and the connection commit together or not at all.
    pub async fn jumio_credit(
        &self,
        net: &NetworkId,
        user: &UserId,
        country: Option<&Alpha3>,
    ) -> Result<CreditOutcome, StoreError> {
        self.retrying(|attempt| self.credit_attempt(net, user, country, attempt > 0))
            .await
    }

    async fn credit_attempt(
        &self,
        net: &NetworkId,
        user: &UserId,
        country: Option<&Alpha3>,
        fresh: bool,
    ) -> Result<Attempt<CreditOutcome>, StoreError> {
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
        let (bonus, settings) = self.bonus_of(&mut got, &k_settings, k_country.as_ref())?;
        let rate = settings.usd_cents_per_deso;
        let now = clock::now();
        let not_counted = bonus.amounts(None);

        let Some(mut jumio_item) = got.remove(&k_jumio) else {
            // Never began: the bonus, once, and nothing counts.
            let tx = self.credit_items(net, user, None, false, not_counted, rate, country, &now)?;
            return self.commit_credit(tx, false, not_counted).await;
        };
        let cached = jumio_item.remove("snapshot");
        let j: JumioItem = items::from_item(jumio_item)?;
        let code = ReferralCode::try_from(j.code.as_str())
            .map_err(|_| StoreError::Corrupt("jumio code".into()))?;
        let owner = items::user_id(&j.owner)?;
        let program = ProgramId::try_from(j.program.as_str())
            .map_err(|_| StoreError::Corrupt("jumio program".into()))?;
        let req = LinkRequest {
            code: Some(&code),
            ..LinkRequest::new(net, &program, user, &owner)
        };
        let mut link_got = match (fresh, cached) {
            (false, Some(AttributeValue::L(list))) => {
                let mut m = HashMap::new();
                for v in list {
                    if let AttributeValue::M(item) = v {
                        m.insert(super::item_key(&item)?, item);
                    }
                }
                m
            }
            _ => self.batch_get(&req.keys()).await?,
        };
        let guard = match judge(&req, LinkSnapshot::take(&req, &mut link_got)?)? {
            Verdict::Allowed(a) => {
                let c = a
                    .code()
                    .ok_or_else(|| StoreError::Corrupt("allowed link without its code".into()))?;
                let amounts = bonus.amounts(Some(CodeAmounts {
                    referee_usd_cents: c.referee_amount_usd_cents.into(),
                    referrer_usd_cents: c.referrer_amount_usd_cents.into(),
                }));
                let req = LinkRequest {
                    code_adds: vec![
                        ("num_jumio_successes", 1),
                        ("total_referee_deso_nanos", cents_to_nanos(amounts.0, rate)),
                        ("total_referrer_deso_nanos", cents_to_nanos(amounts.1, rate)),
                    ],
                    code_amounts: Some((c.referee_amount_usd_cents, c.referrer_amount_usd_cents)),
                    ..req
                };
                let mut tx = self.credit_items(
                    net,
                    user,
                    Some((&code, &owner)),
                    true,
                    amounts,
                    rate,
                    country,
                    &now,
                )?;
                match self.prepare_link(&req, &a, &now, tx.len()).await? {
                    Ok((link, _)) => {
                        tx.extend(link);
                        return self.commit_credit(tx, true, amounts).await;
                    }
                    // The user's own referees are too many to re-link: no connection, so no count.
                    Err(_) => None,
                }
            }
            // Already this referrer's, or another's, or a cycle, a ban, a foreign code: for good.
            Verdict::Replay(..) => None,
            Verdict::Refused(Refusal::CodeUnavailable) => {
                let mut e = Expr::new();
                let cond = format!("NOT {}", code_accepts(&mut e));
                Some(self.tx_check(&keys::code(&code), &cond, &e)?)
            }
            Verdict::Refused(Refusal::ProgramInactive) => {
                let mut e = Expr::new();
                let cond = format!("{} = {}", e.n("active"), e.v(AttributeValue::Bool(false)));
                Some(self.tx_check(&keys::program(net, &program), &cond, &e)?)
            }
            Verdict::Refused(Refusal::ProgramNotFound) => {
                let mut e = Expr::new();
                let cond = format!("attribute_not_exists({})", e.n(keys::PK));
                Some(self.tx_check(&keys::program(net, &program), &cond, &e)?)
            }
            Verdict::Refused(_) => None,
        };
        // Not counted: the referee gets the country's default; these facts must still hold.
        let mut tx = self.credit_items(
            net,
            user,
            Some((&code, &owner)),
            false,
            not_counted,
            rate,
            country,
            &now,
        )?;
        tx.extend(guard);
        self.commit_credit(tx, false, not_counted).await
    }

    async fn commit_credit(
        &self,
        tx: Vec<TransactWriteItem>,
        counted: bool,
        amounts: (u64, u64),
    ) -> Result<Attempt<CreditOutcome>, StoreError> {
        match self.transact(tx).await {
            Ok(()) => Ok(Attempt::Done(CreditOutcome {
                credited: true,
                counted,
                referee_usd_cents: amounts.0,
                referrer_usd_cents: amounts.1,
            })),
            // The credit record exists: a concurrent call credited this user.
            Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 0) => {
                Ok(Attempt::Done(CreditOutcome::nothing()))
            }
            Err(e) => e.retry(),
        }
    }

    /// The credit record (first, refused if it exists) and the ledger entries it owes.
    #[allow(clippy::too_many_arguments)]
    fn credit_items(
        &self,
        net: &NetworkId,
        user: &UserId,
        code: Option<(&ReferralCode, &UserId)>,
        counted: bool,
        (referee_cents, referrer_cents): (u64, u64),
        rate: Option<u64>,
        country: Option<&Alpha3>,
        now: &clock::Now,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let referee_nanos = cents_to_nanos(referee_cents, rate);
        let referrer_nanos = cents_to_nanos(referrer_cents, rate);
        let mut record: Item = HashMap::from([
            ("user".to_owned(), s(user.as_str())),
            ("counted".to_owned(), AttributeValue::Bool(counted)),
            ("referee_usd_cents".to_owned(), n(referee_cents)),
            ("referrer_usd_cents".to_owned(), n(referrer_cents)),
            ("referee_deso_nanos".to_owned(), n(referee_nanos)),
            ("referrer_deso_nanos".to_owned(), n(referrer_nanos)),
            ("credited_at".to_owned(), s(&now.rfc3339)),
        ]);
        if let Some((c, _)) = code {
            record.insert("code".into(), s(c.as_str()));
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
        // What the referee is owed, and what the referrer is owed when the referral counts.
        let mut owed = vec![(user, "referee", referee_cents, referee_nanos)];
        if let (true, Some((_, owner))) = (counted, code) {
            owed.push((owner, "referrer", referrer_cents, referrer_nanos));
        }
        for (beneficiary, role, cents, nanos) in owed {
            let entry = LedgerEntry {
                beneficiary: beneficiary.as_str().to_owned(),
                referee: user.as_str().to_owned(),
                role: role.to_owned(),
                usd_cents: cents,
                deso_nanos: nanos,
                code: code.map(|(c, _)| c.as_str().to_owned()),
                counted,
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

    /// Codes named by an upload, and whether each owner may own codes (not banned).
    pub async fn csv_context(
        &self,
        net: &NetworkId,
        hashes: &[ReferralCode],
        owners: &[UserId],
    ) -> Result<(HashMap<ReferralCode, Code>, HashMap<UserId, bool>), StoreError> {
        let mut codes = HashMap::new();
        let wanted: Vec<Key> = hashes.iter().map(keys::code).collect();
        for chunk in wanted.chunks(100) {
            for (_, item) in self.batch_get(chunk).await? {
                let c = items::code(item)?;
                if &c.network == net {
                    codes.insert(c.code.clone(), c);
                }
            }
        }
        let mut banned = HashMap::new();
        let wanted: Vec<Key> = owners.iter().map(|o| keys::profile(net, o)).collect();
        for chunk in wanted.chunks(100) {
            for (_, item) in self.batch_get(chunk).await? {
                let p: items::ProfileItem = items::from_item(item)?;
                banned.insert(items::user_id(&p.user)?, p.status == UserStatus::Banned);
            }
        }
        Ok((codes, banned))
    }

    /// Writes a validated upload in transactions of whole rows. Each transaction carries a
    /// token derived from `upload` (random, drawn once per request), its batch number and its
    /// content: a retried batch applies once, and a later upload of the same file applies again.
    pub async fn apply_csv(
        &self,
        net: &NetworkId,
        program: &ProgramId,
        rows: &[(CsvRow, UserId)],
        upload: &[u8; 16],
    ) -> Result<(usize, usize), StoreError> {
        let mut created = 0;
        let mut updated = 0;
        let mut start = 0;
        let mut batch_no = 0u32;
        while start < rows.len() {
            // Whole rows while they fit: a new code is 2 items, plus one profile per owner.
            let mut end = start;
            let mut size = 0;
            let mut owners = std::collections::HashSet::new();
            while end < rows.len() {
                let (row, owner) = &rows[end];
                let need = if row.hash.is_some() {
                    1
                } else {
                    2 + usize::from(!owners.contains(owner))
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
            let batch = &rows[start..end];
            let (c, u) = self
                .retrying(|_| self.csv_batch(net, program, batch, upload, batch_no))
                .await?;
            batch_no += 1;
            created += c;
            updated += u;
            start = end;
        }
        Ok((created, updated))
    }

    async fn csv_batch(
        &self,
        net: &NetworkId,
        program: &ProgramId,
        batch: &[(CsvRow, UserId)],
        upload: &[u8; 16],
        batch_no: u32,
    ) -> Result<Attempt<(usize, usize)>, StoreError> {
        let now = clock::now();
        let mut tx = Vec::new();
        let mut per_owner: BTreeMap<&UserId, u64> = BTreeMap::new();
        let mut token_src = String::new();
        let (mut created, mut updated) = (0, 0);
        for (i, (row, owner)) in batch.iter().enumerate() {
            let config = CodeConfig {
                referrer_amount_usd_cents: row.referrer_amount_usd_cents,
                referee_amount_usd_cents: row.referee_amount_usd_cents,
                max_referrals: row.max_referrals,
                requires_jumio: row.requires_jumio,
            };
            match &row.hash {
                Some(h) => {
                    let mut e = Expr::new();
                    let update = config_update(&mut e, &config, row.active);
                    let cond = format!(
                        "{} = {} AND {} = {}",
                        e.n("network_id"),
                        e.v(s(net.as_str())),
                        e.n("owner"),
                        e.v(s(owner.as_str()))
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
                    let mut code = Code::new(
                        net,
                        program,
                        owner,
                        config.referrer_amount_usd_cents,
                        config.referee_amount_usd_cents,
                        config.max_referrals,
                        config.requires_jumio,
                        &at,
                    )
                    .map_err(|_| StoreError::Corrupt("entropy".into()))?;
                    code.active = row.active;
                    token_src.push_str(&format!("c{}|", code.code));
                    tx.extend(self.new_code_items(&code)?);
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

/// SET of an admin's code fields; the stats stay.
fn config_update(e: &mut Expr, config: &CodeConfig, active: bool) -> String {
    format!(
        "SET {} = {}, {} = {}, {} = {}, {} = {}, {} = {}",
        e.n("referrer_amount_usd_cents"),
        e.v(n(config.referrer_amount_usd_cents)),
        e.n("referee_amount_usd_cents"),
        e.v(n(config.referee_amount_usd_cents)),
        e.n("max_referrals"),
        e.v(n(config.max_referrals)),
        e.n("requires_jumio"),
        e.v(AttributeValue::Bool(config.requires_jumio)),
        e.n("active"),
        e.v(AttributeValue::Bool(active)),
    )
}
