//! The IAM policy of each function in template.yaml: the DynamoDB actions it calls and the
//! partition-key prefixes it may touch, least privilege per function.

use std::fmt::Write;

/// What a function may do to the table: actions, the PK prefixes they touch (for
/// `dynamodb:LeadingKeys`), and whether it queries GSI1 (the codes of a user).
struct Access {
    actions: &'static [&'static str],
    prefixes: &'static [&'static str],
    index: bool,
}

const READ: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
];
const WRITE: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
];
/// Every item a link or a move touches.
const GRAPH: &[&str] = &[
    "KEY#", "NET#", "USER#", "MEM#", "DOWN#", "CNT#", "FENCE#", "JOB#", "JOBPEND#", "JOBF#",
];
const LINK_VIA_CODE: &[&str] = &[
    "KEY#",
    "NET#",
    "USER#",
    "MEM#",
    "DOWN#",
    "CNT#",
    "FENCE#",
    "JOB#",
    "JOBPEND#",
    "JOBF#",
    "CODE#",
    "CODESHARD#",
    "CODEREF#",
    "DEFCODE#",
    "NETCODES#",
];
const CREDIT: &[&str] = &[
    "NET#",
    "USER#",
    "MEM#",
    "DOWN#",
    "FENCE#",
    "JOBPEND#",
    "CODE#",
    "CODESHARD#",
    "CODEREF#",
    "DESO#",
    "JUMIO#",
    "CREDIT#",
    "LEDGER#",
];

fn access(function: &str) -> Access {
    let a = |actions, prefixes, index| Access {
        actions,
        prefixes,
        index,
    };
    match function {
        "list-programs" => a(READ, &["KEY#", "NET#"], false),
        "upsert-program" => a(WRITE, &["KEY#", "NET#"], false),
        "add-connection" | "change-referrer" | "remove-referrer" => a(WRITE, GRAPH, false),
        "get-user-connections" => a(READ, &["KEY#", "NET#", "MEM#", "CNT#", "DOWN#"], false),
        "get-connection-codes" => a(WRITE, LINK_VIA_CODE, true),
        "get-job" => a(READ, &["KEY#", "JOB#"], false),
        "user-status" => a(WRITE, LINK_VIA_CODE, true),
        "get-referral-info-for-user" | "admin-get-all-referral-info-for-user" => {
            a(READ, &["CODE#", "CODESHARD#", "CODEREF#"], true)
        }
        "get-referral-info-for-referral-hash" => a(READ, &["CODE#", "CODESHARD#", "DESO#"], false),
        "jumio-begin" => a(
            WRITE,
            &[
                "NET#",
                "USER#",
                "MEM#",
                "CODE#",
                "CODESHARD#",
                "JUMIO#",
                "CREDIT#",
            ],
            false,
        ),
        "get-usd-cents-to-deso-reserve-exchange-rate"
        | "admin-update-jumio-country-sign-up-bonus"
        | "admin-get-all-country-level-sign-up-bonuses"
        | "admin-update-jumio-usd-cents"
        | "admin-update-jumio-kickback-usd-cents"
        | "admin-set-usd-cents-to-deso-reserve-exchange-rate" => a(WRITE, &["DESO#"], false),
        "admin-create-referral-hash"
        | "admin-update-referral-hash"
        | "admin-upload-referral-csv" => a(
            WRITE,
            &["NET#", "USER#", "CODE#", "CODESHARD#", "NETCODES#"],
            false,
        ),
        "admin-download-referral-csv" => a(READ, &["NETCODES#", "CODE#", "CODESHARD#"], false),
        "admin-jumio-callback" => a(WRITE, CREDIT, false),
        "aggregate-counts" => a(WRITE, &["AGG#", "CNT#"], false),
        "move-worker" => a(
            WRITE,
            &[
                "JOB#", "JOBPEND#", "JOBF#", "MEM#", "DOWN#", "FENCE#", "USER#",
            ],
            false,
        ),
        other => panic!("no access declared for {other}"),
    }
}

pub fn policies(out: &mut String, function: &str) {
    let acc = access(function);
    let _ = writeln!(
        out,
        "      Policies:\n        - Version: \"2012-10-17\"\n          Statement:"
    );
    let _ = writeln!(out, "            - Effect: Allow\n              Action:");
    for a in acc.actions {
        let _ = writeln!(out, "                - {a}");
    }
    let _ = writeln!(out, "              Resource: !GetAtt Table.Arn");
    let _ = writeln!(out, "              Condition:\n                ForAllValues:StringLike:\n                  dynamodb:LeadingKeys:");
    for p in acc.prefixes {
        let _ = writeln!(out, "                    - \"{p}*\"");
    }
    if acc.index {
        let _ = writeln!(
            out,
            "            - Effect: Allow\n              Action:\n                - dynamodb:Query\n              Resource: !Sub \"${{Table.Arn}}/index/GSI1\""
        );
    }
    // The warm-up at init (shared::sdk::warm): a regional call on no table.
    let _ = writeln!(
        out,
        "            - Effect: Allow\n              Action:\n                - dynamodb:DescribeEndpoints\n              Resource: \"*\""
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::routes::{ROUTES, STREAM_FUNCTIONS};

    #[test]
    fn every_prefix_a_function_names_exists() {
        for r in ROUTES
            .iter()
            .map(|r| r.function)
            .chain(STREAM_FUNCTIONS.map(|(f, _)| f))
        {
            for p in access(r).prefixes {
                assert!(shared::store::keys::PREFIXES.contains(p), "{r}: {p}");
            }
        }
    }
}
