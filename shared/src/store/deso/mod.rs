//! The DeSo-compatible side of the store: network settings and country bonuses here; credits
//! and CSV batches in their own modules.

pub mod begin;
pub mod credits;
pub mod csv;

use std::collections::{BTreeMap, HashMap};

use super::codes::{shard_keys, CodeItem, ShardItem};
use super::table::{item_key, key_item};
use super::{items, keys, n, Expr, Item, Key, Store, StoreError};
use crate::domain::deso::{Alpha3, CountryBonus, DesoSetting, DesoSettings};
use crate::domain::{Code, CodeTotals, NetworkId, ReferralCode};

fn setting_attr(s: DesoSetting) -> &'static str {
    match s {
        DesoSetting::JumioUsdCents => "jumio_usd_cents",
        DesoSetting::KickbackUsdCents => "kickback_usd_cents",
        DesoSetting::UsdCentsPerDeso => "usd_cents_per_deso",
    }
}

/// The settings, and the country's bonus (the default one when it has none), from a read.
pub fn bonus_of(
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

impl Store {
    pub(crate) async fn deso_settings(&self, net: &NetworkId) -> Result<DesoSettings, StoreError> {
        self.get(&keys::deso_settings(net))
            .await?
            .map(items::from_item)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Sets one number of the network's DeSo settings.
    pub(crate) async fn set_deso_setting(
        &self,
        net: &NetworkId,
        setting: DesoSetting,
        value: u64,
    ) -> Result<(), StoreError> {
        let mut e = Expr::new();
        let update = format!("SET {} = {}", e.n(setting_attr(setting)), e.v(n(value)));
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::deso_settings(net))))
            .update_expression(update)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await
            .map_err(super::classify)?;
        Ok(())
    }

    pub(crate) async fn put_country_bonus(
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

    /// A code with its totals and the sign-up bonus of a country, in one BatchGetItem.
    pub async fn code_with_bonus(
        &self,
        net: &NetworkId,
        code: &ReferralCode,
        country: Option<&Alpha3>,
    ) -> Result<(Option<Code>, CountryBonus), StoreError> {
        let k_code = keys::code(code);
        let k_settings = keys::deso_settings(net);
        let k_country = country.map(|c| keys::deso_country(net, c.as_str()));
        let shards = shard_keys(code);
        let mut wanted = vec![k_code.clone(), k_settings.clone()];
        wanted.extend(k_country.clone());
        wanted.extend(shards.iter().cloned());
        // Eventually consistent: a page view may trail a sign-up by under a second.
        let mut got = self.batch_get_with(&wanted, false).await?;
        let mut totals = CodeTotals::default();
        for k in &shards {
            if let Some(item) = got.remove(k) {
                totals += items::from_item::<ShardItem>(item)?.totals();
            }
        }
        let code = got
            .remove(&k_code)
            .map(items::from_item::<CodeItem>)
            .transpose()?
            .filter(|c| c.network_id == net.as_str())
            .map(|c| c.into_code(totals))
            .transpose()?;
        let (bonus, _) = bonus_of(&mut got, &k_settings, k_country.as_ref())?;
        Ok((code, bonus))
    }

    /// Every country's bonus and the settings: one Query of the DeSo partition.
    pub(crate) async fn all_bonuses(
        &self,
        net: &NetworkId,
    ) -> Result<(BTreeMap<String, CountryBonus>, DesoSettings), StoreError> {
        let mut out = BTreeMap::new();
        let mut settings = DesoSettings::default();
        for item in self
            .query_partition(false, &keys::deso_partition(net), None)
            .await?
        {
            let (_, sk) = item_key(&item)?;
            if let Some(c) = sk.strip_prefix(keys::COUNTRY_PREFIX) {
                out.insert(c.to_owned(), items::from_item(item)?);
            } else if sk == keys::deso_settings(net).1 {
                settings = items::from_item(item)?;
            }
        }
        Ok((out, settings))
    }
}
