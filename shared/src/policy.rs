//! What each function may do to the table, declared once: the template's IAM policies are
//! generated from it (`dynamodb:LeadingKeys` on these prefixes), and the tests record every
//! partition each function touches and refuse a call outside its declaration.

use crate::store::keys::{IndexPrefix, Prefix};

/// A function's access: the partitions it reads (GetItem, BatchGetItem, Query, and the
/// ConditionCheck of a transaction), the ones it writes (PutItem, UpdateItem, DeleteItem), and
/// the GSI1 partitions it queries.
#[derive(Clone, Copy, Debug)]
pub struct Access {
    /// The actions it calls at all.
    pub actions: &'static [Action],
    pub reads: &'static [Prefix],
    pub writes: &'static [Prefix],
    pub index: &'static [IndexPrefix],
    /// Partitions it may delete from and nothing else: a webhook's secret, which only the
    /// functions that create or sign may read.
    pub deletes: &'static [Prefix],
}

/// What a DynamoDB call does to one partition, as IAM names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    GetItem,
    BatchGetItem,
    Query,
    ConditionCheckItem,
    PutItem,
    UpdateItem,
    DeleteItem,
}

impl Action {
    pub const READS: [Action; 4] = [
        Action::GetItem,
        Action::BatchGetItem,
        Action::Query,
        Action::ConditionCheckItem,
    ];
    pub const WRITES: [Action; 3] = [Action::PutItem, Action::UpdateItem, Action::DeleteItem];

    pub fn iam(self) -> &'static str {
        match self {
            Action::GetItem => "dynamodb:GetItem",
            Action::BatchGetItem => "dynamodb:BatchGetItem",
            Action::Query => "dynamodb:Query",
            Action::ConditionCheckItem => "dynamodb:ConditionCheckItem",
            Action::PutItem => "dynamodb:PutItem",
            Action::UpdateItem => "dynamodb:UpdateItem",
            Action::DeleteItem => "dynamodb:DeleteItem",
        }
    }

    pub fn writes(self) -> bool {
        Action::WRITES.contains(&self)
    }
}

/// Where a call lands: a table partition of some kind, or a GSI1 partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Table(Prefix),
    Index(IndexPrefix),
}

impl Access {
    /// Whether this access allows `action` on `part`.
    pub fn allows(&self, action: Action, part: Part) -> bool {
        if !self.actions.contains(&action) {
            return false;
        }
        match part {
            Part::Index(p) => action == Action::Query && self.index.contains(&p),
            Part::Table(p) if action == Action::DeleteItem && self.deletes.contains(&p) => true,
            Part::Table(p) if action.writes() => self.writes.contains(&p),
            Part::Table(p) => self.reads.contains(&p) || self.writes.contains(&p),
        }
    }
}

use Action::*;
use Prefix::*;

/// Every action: the functions that read, check and write as their work needs.
const EVERY: &[Action] = &[
    GetItem,
    BatchGetItem,
    Query,
    ConditionCheckItem,
    PutItem,
    UpdateItem,
    DeleteItem,
];

/// A link, and the move it may become: Add Connection and Change Referrer.
const LINK: Access = Access {
    actions: &[
        BatchGetItem,
        Query,
        ConditionCheckItem,
        PutItem,
        UpdateItem,
        DeleteItem,
    ],
    reads: &[Key, Net, User, Mem, Cnt, Fence, Down, JobPend],
    writes: &[User, Mem, Down, Fence, Job, JobPend],
    index: &[],
    deletes: &[],
};

/// A removal: a leaf alone, or a move of its subtree; it links nobody, so it leaves no
/// pending row.
const REMOVE: Access = Access {
    writes: &[User, Mem, Down, Fence, Job],
    ..LINK
};

const fn a(
    actions: &'static [Action],
    reads: &'static [Prefix],
    writes: &'static [Prefix],
    index: &'static [IndexPrefix],
) -> Access {
    Access {
        actions,
        reads,
        writes,
        index,
        deletes: &[],
    }
}

/// The access of `function`; None for a name no function has. Each is what the function's
/// code can do, no more: the tests refuse any call outside it. A write that takes an
/// `Idempotency-Key` also checks the API key in its claim and writes its record.
pub fn access(function: &str) -> Option<Access> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static WITH_KEYS: OnceLock<HashMap<&'static str, Access>> = OnceLock::new();
    let with_keys = WITH_KEYS.get_or_init(|| {
        crate::routes::all_functions()
            .filter(|f| crate::routes::takes_idempotency_key(f))
            .filter_map(|f| Some((f, with_idempotency(declared(f)?))))
            .collect()
    });
    with_keys
        .get(function)
        .copied()
        .or_else(|| declared(function))
}

fn union<T: Copy + Ord>(a: &[T], b: &[T]) -> &'static [T] {
    let mut v: Vec<T> = a.iter().chain(b).copied().collect();
    v.sort();
    v.dedup();
    v.leak()
}

/// Built once per function, for the process's life.
fn with_idempotency(base: Access) -> Access {
    Access {
        actions: union(base.actions, &[ConditionCheckItem, PutItem, UpdateItem]),
        reads: union(base.reads, &[Key]),
        writes: union(base.writes, &[Idem]),
        ..base
    }
}

fn declared(function: &str) -> Option<Access> {
    use IndexPrefix::UserCodes;
    Some(match function {
        "list-programs" => a(&[GetItem, Query], &[Key, Net], &[], &[]),
        "upsert-program" => a(&[GetItem, UpdateItem], &[Key], &[Net], &[]),
        "add-connection" | "change-referrer" => LINK,
        "remove-referrer" => REMOVE,
        "get-user-connections" => a(
            &[BatchGetItem, Query],
            &[Key, Net, Mem, Cnt, Down],
            &[],
            &[],
        ),
        "get-connection-codes" => a(
            &[BatchGetItem, Query, PutItem, UpdateItem],
            &[Key, Net, Code, CodeShard],
            &[User, Code, DefCode, NetCodes],
            &[UserCodes],
        ),
        "create-code" => a(
            &[BatchGetItem, PutItem, UpdateItem],
            &[Key, Net],
            &[User, Code, CodeName, CodeShard, NetCodes],
            &[],
        ),
        "update-code" => a(
            &[GetItem, BatchGetItem, PutItem, UpdateItem],
            &[Key, Code, CodeName, CodeShard],
            &[Code, CodeShard],
            &[],
        ),
        "get-job" => a(&[GetItem], &[Key, Job], &[], &[]),
        // Static files only.
        "console" => a(&[], &[], &[], &[]),
        // A user, its ban or revocation, and a link through a user or a code, which may move.
        "user-status" => a(
            EVERY,
            &[
                Key, Net, User, Mem, Cnt, Fence, Down, JobPend, Code, CodeName, CodeShard,
            ],
            &[
                User, Mem, Down, Fence, Job, JobPend, Code, CodeShard, CodeRef,
            ],
            &[UserCodes],
        ),
        "get-referral-info-for-user" => a(&[BatchGetItem, Query], &[CodeShard], &[], &[UserCodes]),
        "admin-get-all-referral-info-for-user" => a(
            &[BatchGetItem, Query],
            &[Code, CodeShard, CodeRef],
            &[],
            &[UserCodes],
        ),
        "get-referral-info-for-referral-hash" => {
            a(&[BatchGetItem], &[Code, CodeShard, Deso], &[], &[])
        }
        "jumio-begin" => a(
            &[BatchGetItem, ConditionCheckItem, PutItem, UpdateItem],
            &[Net, User, Mem, Code, Jumio, Credit],
            &[CodeShard, Jumio],
            &[],
        ),
        "get-usd-cents-to-deso-reserve-exchange-rate" => a(&[GetItem], &[Deso], &[], &[]),
        "admin-get-all-country-level-sign-up-bonuses" => a(&[Query], &[Deso], &[], &[]),
        "admin-update-jumio-country-sign-up-bonus" => a(&[PutItem], &[], &[Deso], &[]),
        "admin-update-jumio-usd-cents"
        | "admin-update-jumio-kickback-usd-cents"
        | "admin-set-usd-cents-to-deso-reserve-exchange-rate" => {
            a(&[UpdateItem], &[], &[Deso], &[])
        }
        "admin-create-referral-hash" => a(
            &[GetItem, PutItem, UpdateItem],
            &[Net],
            &[User, Code, NetCodes],
            &[],
        ),
        "admin-update-referral-hash" => a(
            &[BatchGetItem, PutItem, UpdateItem],
            &[],
            &[Code, CodeShard],
            &[],
        ),
        "admin-upload-referral-csv" => a(
            &[GetItem, BatchGetItem, PutItem, UpdateItem],
            &[Net],
            &[User, Code, CodeShard, NetCodes],
            &[],
        ),
        "admin-download-referral-csv" => a(
            &[BatchGetItem, Query],
            &[NetCodes, Code, CodeShard],
            &[],
            &[],
        ),
        "admin-jumio-callback" => a(
            &[BatchGetItem, ConditionCheckItem, PutItem, UpdateItem],
            &[Net, Fence, Code, Deso, Jumio],
            &[User, Mem, Down, JobPend, CodeShard, CodeRef, Credit, Ledger],
            &[],
        ),
        "aggregate-counts" => a(&[PutItem, UpdateItem, DeleteItem], &[], &[Agg, Cnt], &[]),
        // The members' shards in, their programs' boards out.
        "merge-boards" => a(
            &[GetItem, BatchGetItem, PutItem],
            &[Cnt, RScore, Board],
            &[Board],
            &[],
        ),
        "get-leaderboard" => a(&[BatchGetItem], &[Key, Net, Board], &[], &[]),
        "put-rule" => a(&[BatchGetItem, PutItem, UpdateItem], &[Key], &[Net], &[]),
        "list-rules" => a(&[BatchGetItem, Query], &[Key, Net], &[], &[]),
        "post-event" => a(&[BatchGetItem, PutItem], &[Key, User], &[Evt], &[]),
        "get-event" => a(&[BatchGetItem], &[Key, Evt, Rwd], &[], &[]),
        "get-user-rewards" => a(&[BatchGetItem, Query], &[Key, Bal, URwd], &[], &[]),
        "reverse-event" => a(&[BatchGetItem, GetItem, UpdateItem], &[Key], &[Evt], &[]),
        "list-program-rewards" => a(&[BatchGetItem, Query], &[Key, Net, PRwd], &[], &[]),
        "approve-reward" | "void-reward" => {
            a(&[BatchGetItem, UpdateItem], &[Key], &[Rwd, URwd, PRwd], &[])
        }
        "create-payout" => a(&[BatchGetItem, Query, PutItem], &[Key, Net], &[Pay], &[]),
        "get-payout" => a(&[BatchGetItem], &[Key, Pay], &[], &[]),
        "list-payout-lines" => a(&[BatchGetItem, Query], &[Key, Pay, PayLine], &[], &[]),
        // The unpaid index in; rewards paid, lines summed, the checkpoint and the lock out.
        "payout-worker" => a(
            &[
                GetItem,
                BatchGetItem,
                Query,
                PutItem,
                UpdateItem,
                DeleteItem,
            ],
            &[],
            &[Pay, PayLine, Rwd, URwd, PRwd],
            &[IndexPrefix::Unpaid],
        ),
        // Rules, programs, memberships and profiles in; signup events, rewards, their copies,
        // the counts per referee, the balances and the leaderboard scores out.
        "derive-rewards" => a(
            &[GetItem, BatchGetItem, Query, PutItem, UpdateItem],
            &[Net, Mem, User],
            &[Evt, Rwd, URwd, PRwd, RCnt, Bal, RScore],
            &[],
        ),
        // Reads the changed memberships (GSI2) and the running jobs (GSI1), checks edges, fixes
        // marks and counts as the aggregator would, and wakes a stalled job.
        "repair" => a(
            EVERY,
            &[Down, Agg, Cnt, Repair],
            &[Agg, Cnt, Repair, Job, URwd, Bal, RScore],
            &[IndexPrefix::Changes, IndexPrefix::RunningJobs],
        ),
        "move-worker" => a(EVERY, &[JobPend], &[Job, JobF, Mem, Down, Fence, User], &[]),
        // Webhooks: only create and rotate write a secret, only the sender reads one.
        "create-webhook" => a(&[GetItem, PutItem, UpdateItem], &[Key], &[Net, WhSec], &[]),
        "list-webhooks" => a(&[GetItem, Query], &[Key, Net], &[], &[]),
        "get-webhook" => a(&[BatchGetItem], &[Key, Net], &[], &[]),
        "test-webhook" => a(&[BatchGetItem, PutItem], &[Key, Net], &[WhMsg], &[]),
        "retry-webhook-delivery" => a(&[BatchGetItem, UpdateItem], &[Key, Net], &[WhMsg], &[]),
        "update-webhook" => a(&[GetItem, UpdateItem], &[Key], &[Net], &[]),
        "delete-webhook" => Access {
            deletes: &[WhSec],
            ..a(&[GetItem, DeleteItem, UpdateItem], &[Key], &[Net], &[])
        },
        "rotate-webhook-secret" => a(&[BatchGetItem, UpdateItem], &[Key, Net], &[WhSec], &[]),
        "list-webhook-deliveries" => a(&[BatchGetItem, Query], &[Key, Net, WhMsg], &[], &[]),
        "replay-webhook" => a(
            &[BatchGetItem, Query, UpdateItem],
            &[Key, Net],
            &[WhMsg],
            &[],
        ),
        // Changes in; a code's shards read when one fills; messages out.
        "webhook-fanout" => a(
            &[BatchGetItem, Query, PutItem],
            &[Net, Code, CodeShard],
            &[WhMsg],
            &[],
        ),
        // The due index in; claims and outcomes out; the webhook and its secret read to sign,
        // and the webhook marked failing or disabled.
        "webhook-sender" => a(
            &[BatchGetItem, Query, UpdateItem],
            &[WhSec],
            &[WhMsg, Net],
            &[IndexPrefix::Due],
        ),
        _ => return None,
    })
}

/// What one DynamoDB request (its `X-Amz-Target` operation and JSON body) does to which
/// partitions; Err names what cannot be placed (an unknown operation or key).
pub fn touches(operation: &str, body: &serde_json::Value) -> Result<Vec<(Action, Part)>, String> {
    let pk = |key: &serde_json::Value| -> Result<Part, String> {
        let v = key["PK"]["S"].as_str().ok_or("a key without PK")?;
        Prefix::of(v)
            .map(Part::Table)
            .ok_or_else(|| format!("a key of no known kind: {v}"))
    };
    let mut out = Vec::new();
    match operation {
        "DescribeEndpoints" => {}
        "GetItem" => out.push((Action::GetItem, pk(&body["Key"])?)),
        "PutItem" => out.push((Action::PutItem, pk(&body["Item"])?)),
        "UpdateItem" => out.push((Action::UpdateItem, pk(&body["Key"])?)),
        "DeleteItem" => out.push((Action::DeleteItem, pk(&body["Key"])?)),
        "BatchGetItem" => {
            let tables = body["RequestItems"].as_object().ok_or("no RequestItems")?;
            for t in tables.values() {
                for k in t["Keys"].as_array().ok_or("no Keys")? {
                    out.push((Action::BatchGetItem, pk(k)?));
                }
            }
        }
        "TransactWriteItems" => {
            for item in body["TransactItems"].as_array().ok_or("no TransactItems")? {
                let (action, key) = if let Some(p) = item.get("Put") {
                    (Action::PutItem, &p["Item"])
                } else if let Some(u) = item.get("Update") {
                    (Action::UpdateItem, &u["Key"])
                } else if let Some(d) = item.get("Delete") {
                    (Action::DeleteItem, &d["Key"])
                } else if let Some(c) = item.get("ConditionCheck") {
                    (Action::ConditionCheckItem, &c["Key"])
                } else {
                    return Err("an unknown transaction item".into());
                };
                out.push((action, pk(key)?));
            }
        }
        "Query" => {
            let cond = body["KeyConditionExpression"]
                .as_str()
                .ok_or("no key condition")?;
            let names = &body["ExpressionAttributeNames"];
            let values = &body["ExpressionAttributeValues"];
            let index = body["IndexName"].as_str();
            let wanted = match index {
                None => "PK",
                Some("GSI2") => "GSI2PK",
                Some(_) => "GSI1PK",
            };
            let index = index.is_some();
            let value = cond
                .split(" AND ")
                .filter_map(|c| c.split_once(" = "))
                .find(|(n, _)| names[n.trim()].as_str() == Some(wanted))
                .and_then(|(_, v)| values[v.trim()]["S"].as_str())
                .ok_or_else(|| format!("a query without {wanted}: {cond}"))?;
            let part = if index {
                IndexPrefix::of(value).map(Part::Index)
            } else {
                Prefix::of(value).map(Part::Table)
            };
            out.push((
                Action::Query,
                part.ok_or_else(|| format!("a query of no known kind: {value}"))?,
            ));
        }
        other => return Err(format!("an operation no function calls: {other}")),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_declares_its_access() {
        let functions = crate::routes::all_functions();
        for f in functions {
            assert!(access(f).is_some(), "{f}");
        }
        assert!(access("no-such-function").is_none());
    }

    #[test]
    fn reads_come_with_writes_and_the_index_with_queries_only() {
        let acc = a(
            &[GetItem, ConditionCheckItem, PutItem, Query],
            &[Key],
            &[Mem],
            &[IndexPrefix::UserCodes],
        );
        assert!(acc.allows(Action::GetItem, Part::Table(Key)));
        assert!(acc.allows(Action::ConditionCheckItem, Part::Table(Mem)));
        assert!(acc.allows(Action::PutItem, Part::Table(Mem)));
        assert!(!acc.allows(Action::PutItem, Part::Table(Key)));
        assert!(!acc.allows(Action::GetItem, Part::Table(Down)));
        assert!(acc.allows(Action::Query, Part::Index(IndexPrefix::UserCodes)));
        assert!(!acc.allows(Action::Query, Part::Index(IndexPrefix::RunningJobs)));
        assert!(!acc.allows(Action::GetItem, Part::Index(IndexPrefix::UserCodes)));
        assert!(
            !acc.allows(Action::DeleteItem, Part::Table(Mem)),
            "an action not declared"
        );
    }

    #[test]
    fn requests_are_placed_by_their_keys() {
        use serde_json::json;
        let k = |pk: &str| json!({"PK": {"S": pk}, "SK": {"S": "x"}});
        let tx = json!({"TransactItems": [
            {"Put": {"Item": k("MEM#n#p#u")}},
            {"Update": {"Key": k("USER#n#u")}},
            {"ConditionCheck": {"Key": k("FENCE#n#p#r#3")}},
            {"Delete": {"Key": k("DOWN#n#p#a#1")}}
        ]});
        assert_eq!(
            touches("TransactWriteItems", &tx).unwrap(),
            [
                (Action::PutItem, Part::Table(Mem)),
                (Action::UpdateItem, Part::Table(User)),
                (Action::ConditionCheckItem, Part::Table(Fence)),
                (Action::DeleteItem, Part::Table(Down)),
            ]
        );
        let batch = json!({"RequestItems": {"t": {"Keys": [k("KEY#h"), k("NET#n")]}}});
        assert_eq!(
            touches("BatchGetItem", &batch).unwrap(),
            [
                (Action::BatchGetItem, Part::Table(Key)),
                (Action::BatchGetItem, Part::Table(Net))
            ]
        );
        let q = json!({"KeyConditionExpression": "#PK = :v0 AND begins_with(#SK, :v1)",
            "ExpressionAttributeNames": {"#PK": "PK", "#SK": "SK"},
            "ExpressionAttributeValues": {":v0": {"S": "DOWN#n#p#a#0"}, ":v1": {"S": "01#"}}});
        assert_eq!(
            touches("Query", &q).unwrap(),
            [(Action::Query, Part::Table(Down))]
        );
        let gsi = json!({"IndexName": "GSI1", "KeyConditionExpression": "#GSI1PK = :v0",
            "ExpressionAttributeNames": {"#GSI1PK": "GSI1PK"},
            "ExpressionAttributeValues": {":v0": {"S": "UCODES#n#u"}}});
        assert_eq!(
            touches("Query", &gsi).unwrap(),
            [(Action::Query, Part::Index(IndexPrefix::UserCodes))]
        );
        assert!(touches("Scan", &json!({})).is_err());
        assert!(touches("GetItem", &json!({"Key": k("WHAT#x")})).is_err());
        assert!(touches("DescribeEndpoints", &json!({})).unwrap().is_empty());
    }
}
