//! A program's rules, in the network's partition beside its programs: the rewards consumer
//! reads every rule of a network in one Query.

use super::super::api_keys::{check_key, AuthFailure, KeyProbe};
use super::super::{items, keys, n, Attempt, Expr, Item, Store, StoreError, TxError};
use crate::domain::reward::{Rule, RulePatch, MAX_RULES_PER_PROGRAM};
use crate::domain::{DomainError, NetworkId, ProgramId};

pub enum PutRule {
    Auth(AuthFailure),
    ProgramNotFound,
    Invalid(DomainError),
    /// The program has `MAX_RULES_PER_PROGRAM` rules already.
    Limit,
    Done {
        rule: Rule,
        created: bool,
    },
}

/// A rule item's version: an update applies to the version it read.
const V: &str = "v";

fn rule_of(item: Item) -> Result<(Rule, u64), StoreError> {
    let v = items::num(&item, V);
    Ok((items::from_item(item)?, v))
}

impl Store {
    /// Creates or updates a rule from `patch`, against the rule as it stands: a create also
    /// counts the rule on its program, which refuses a 51st.
    pub async fn put_rule(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        rule_id: &ProgramId,
        probe: &KeyProbe,
        patch: &RulePatch,
        now: &str,
    ) -> Result<PutRule, StoreError> {
        let (k_program, k_rule) = (keys::program(net, prog), keys::rule(net, prog, rule_id));
        self.retrying(|_| {
            let (k_program, k_rule) = (&k_program, &k_rule);
            async move {
                let mut got = self
                    .batch_get(&[probe.key.clone(), k_program.clone(), k_rule.clone()])
                    .await?;
                if let Err(f) = check_key(got.get(&probe.key), net) {
                    return Ok(Attempt::Done(PutRule::Auth(f)));
                }
                let Some(program) = got.remove(k_program).map(items::program).transpose()? else {
                    return Ok(Attempt::Done(PutRule::ProgramNotFound));
                };
                let existing = got.remove(k_rule).map(rule_of).transpose()?;
                let rule = match patch.apply(
                    (prog, rule_id),
                    existing.as_ref().map(|(r, _)| r),
                    program.max_levels,
                    now,
                ) {
                    Ok(r) => r,
                    Err(e) => return Ok(Attempt::Done(PutRule::Invalid(e))),
                };
                let seen = existing.as_ref().map(|(_, v)| *v);
                let mut item = items::with_key(items::to_item(&rule)?, k_rule);
                item.insert(V.into(), n(seen.map_or(1, |v| v + 1)));
                let mut e = Expr::new();
                let cond = match seen {
                    None => format!("attribute_not_exists({})", e.n(keys::PK)),
                    Some(v) => format!("{} = {}", e.n(V), e.v(n(v))),
                };
                let mut tx = vec![self.tx_put(item, Some(&cond), &e, false)?];
                if seen.is_none() {
                    let mut e = Expr::new();
                    let count = e.n("rules");
                    let update = format!("ADD {count} {}", e.v(n(1)));
                    let cond = format!(
                        "attribute_exists({}) AND (attribute_not_exists({count}) OR {count} < {})",
                        e.n(keys::PK),
                        e.v(n(MAX_RULES_PER_PROGRAM))
                    );
                    tx.push(self.tx_update(k_program, &update, Some(&cond), &e)?);
                }
                match self.transact(tx).await {
                    Ok(()) => Ok(Attempt::Done(PutRule::Done {
                        rule,
                        created: seen.is_none(),
                    })),
                    Err(TxError::Cancelled(r)) if TxError::condition_failed(&r, 1) => {
                        Ok(Attempt::Done(PutRule::Limit))
                    }
                    // Another writer changed the rule since the read: apply to what it left.
                    Err(e) => e.retry(),
                }
            }
        })
        .await
    }

    /// A program's rules, by rule id.
    pub async fn program_rules(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
    ) -> Result<Vec<Rule>, StoreError> {
        let pk = keys::programs_partition(net);
        self.query_partition(false, &pk, Some(&keys::rules_prefix(prog)))
            .await?
            .into_iter()
            .map(|i| rule_of(i).map(|(r, _)| r))
            .collect()
    }

    /// Every rule of a network, in one Query (at most 50 a program).
    pub async fn network_rules(&self, net: &NetworkId) -> Result<Vec<Rule>, StoreError> {
        let pk = keys::programs_partition(net);
        self.query_partition(false, &pk, Some(keys::RULE_PREFIX))
            .await?
            .into_iter()
            .map(|i| rule_of(i).map(|(r, _)| r))
            .collect()
    }
}
