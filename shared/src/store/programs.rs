//! Programs of a network.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::api_keys::{check_key, AuthFailure, KeyProbe};
use super::items::{self, ProgramItem};
use super::{keys, s, Expr, Store, StoreError};
use crate::domain::{NetworkId, Program, ProgramId, ProgramPatch};

pub struct ProgramsPage {
    pub programs: Vec<Program>,
    pub last_sk: Option<String>,
}

impl Store {
    /// Key and program in one round trip.
    pub(crate) async fn program_head(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        probe: &KeyProbe,
    ) -> Result<(Result<(), AuthFailure>, Option<Program>), StoreError> {
        let k_program = keys::program(net, prog);
        let mut got = self
            .batch_get(&[probe.key.clone(), k_program.clone()])
            .await?;
        Ok((
            check_key(got.get(&probe.key), net),
            got.remove(&k_program).map(items::program).transpose()?,
        ))
    }

    pub async fn get_program(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
    ) -> Result<Option<Program>, StoreError> {
        self.get(&keys::program(net, prog))
            .await?
            .map(items::program)
            .transpose()
    }

    /// Creates or updates in one UpdateItem; returns the program and whether it was created.
    pub async fn upsert_program(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        patch: &ProgramPatch,
        now: &str,
    ) -> Result<(Program, bool), StoreError> {
        // Patch over defaults: a present field's value, or the default where it is missing.
        let fresh = ProgramItem::from(&patch.apply(prog, None, now));
        let mut e = Expr::new();
        let mut sets = Vec::new();
        let mut field = |e: &mut Expr, name: &str, present: bool, value: AttributeValue| {
            let a = e.n(name);
            let v = e.v(value);
            sets.push(if present {
                format!("{a} = {v}")
            } else {
                format!("{a} = if_not_exists({a}, {v})")
            });
        };
        let num = |v: i64| AttributeValue::N(v.to_string());
        field(&mut e, "program_id", true, s(prog.as_str()));
        field(&mut e, "name", patch.name.is_some(), s(&fresh.name));
        field(
            &mut e,
            "max_levels",
            patch.max_levels.is_some(),
            num(fresh.max_levels.into()),
        );
        field(
            &mut e,
            "active",
            patch.active.is_some(),
            AttributeValue::Bool(fresh.active),
        );
        field(
            &mut e,
            "referrer_amount_usd_cents",
            patch.referrer_amount_usd_cents.is_some(),
            num(fresh.referrer_amount_usd_cents),
        );
        field(
            &mut e,
            "referee_amount_usd_cents",
            patch.referee_amount_usd_cents.is_some(),
            num(fresh.referee_amount_usd_cents),
        );
        field(
            &mut e,
            "max_referrals_per_code",
            patch.max_referrals_per_code.is_some(),
            num(fresh.max_referrals_per_code.into()),
        );
        field(&mut e, "created_at", false, s(now));
        let resp = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(super::table::key_item(&keys::program(net, prog))))
            .update_expression(format!("SET {}", sets.join(", ")))
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(super::classify)?;
        // The update is atomic, so old ⊕ patch is exactly what is stored now.
        let old = resp
            .attributes
            .filter(|a| !a.is_empty())
            .map(items::program)
            .transpose()?;
        let created = old.is_none();
        Ok((patch.apply(prog, old.as_ref(), now), created))
    }

    pub(crate) async fn list_programs(
        &self,
        net: &NetworkId,
        limit: i32,
        start_sk: Option<String>,
    ) -> Result<ProgramsPage, StoreError> {
        let pk = keys::programs_partition(net);
        let mut e = Expr::new();
        let kc = format!(
            "{} = {} AND begins_with({}, {})",
            e.n(keys::PK),
            e.v(s(&pk)),
            e.n(keys::SK),
            e.v(s(keys::PROGRAM_PREFIX))
        );
        let resp = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression(kc)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .limit(limit)
            .set_exclusive_start_key(start_sk.map(|sk| super::table::key_item(&(pk.clone(), sk))))
            .send()
            .await
            .map_err(super::classify)?;
        let programs = resp
            .items
            .unwrap_or_default()
            .into_iter()
            .map(items::program)
            .collect::<Result<_, _>>()?;
        let last_sk = match resp.last_evaluated_key {
            Some(k) => Some(super::table::item_key(&k)?.1),
            None => None,
        };
        Ok(ProgramsPage { programs, last_sk })
    }
}
