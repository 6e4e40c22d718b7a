//! template.yaml, generated from the route declaration (`shared::routes`) and the access each
//! function needs. `refnet-admin template > template.yaml` writes it; a test keeps the
//! committed file equal to what this generates.

use std::fmt::Write;

use shared::routes::{Route, ROUTES, STREAM_FUNCTIONS};

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
    "KEY#", "NET#", "USER#", "MEM#", "DOWN#", "FENCE#", "JOB#", "JOBPEND#", "JOBF#",
];
const LINK_VIA_CODE: &[&str] = &[
    "KEY#",
    "NET#",
    "USER#",
    "MEM#",
    "DOWN#",
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

/// `add-connection` -> `AddConnectionFunction`.
fn logical_id(function: &str) -> String {
    let mut out = String::new();
    for part in function.split('-') {
        let mut c = part.chars();
        if let Some(f) = c.next() {
            out.push(f.to_ascii_uppercase());
            out.extend(c);
        }
    }
    out.push_str("Function");
    out
}

fn policies(out: &mut String, function: &str) {
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

fn common(out: &mut String, function: &str, description: &str) {
    let id = logical_id(function);
    let _ = writeln!(out, "  {id}:");
    let _ = writeln!(out, "    Type: AWS::Serverless::Function");
    // One cargo build serves every function: the Makefile's build-% rule (lambda-build.sh).
    let _ = writeln!(out, "    Metadata:\n      BuildMethod: makefile");
    let _ = writeln!(
        out,
        "    Properties:\n      CodeUri: ./\n      Description: {description}"
    );
    let _ = writeln!(out, "      LoggingConfig:\n        LogGroup: !Ref {id}Logs");
}

fn log_group(out: &mut String, function: &str) {
    let id = logical_id(function);
    let _ = writeln!(out, "  {id}Logs:");
    let _ = writeln!(out, "    Type: AWS::Logs::LogGroup");
    let _ = writeln!(out, "    Properties:\n      LogGroupName: !Sub \"/aws/lambda/${{AWS::StackName}}-{function}\"\n      RetentionInDays: !Ref LogRetentionDays\n");
}

fn route_function(out: &mut String, r: &Route) {
    common(out, r.function, &format!("{} {}", r.method, r.path));
    if r.public {
        let _ = writeln!(
            out,
            "      ReservedConcurrentExecutions: !Ref PublicReservedConcurrency"
        );
    }
    let _ = writeln!(out, "      Events:\n        Api:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref Api\n            Method: {}\n            Path: {}", r.method, r.path);
    policies(out, r.function);
    out.push('\n');
    log_group(out, r.function);
}

fn stream_function(out: &mut String, function: &str, prefix: &str) {
    let (what, batch, timeout) = match function {
        "aggregate-counts" => ("Counts downline edges from the table's stream", 100, 60),
        _ => ("Carries out move jobs, fed by the table's stream", 10, 900),
    };
    common(out, function, what);
    let _ = writeln!(out, "      Timeout: {timeout}");
    let _ = writeln!(out, "      Events:\n        Stream:\n          Type: DynamoDB\n          Properties:\n            Stream: !GetAtt Table.StreamArn\n            StartingPosition: TRIM_HORIZON\n            BatchSize: {batch}\n            MaximumBatchingWindowInSeconds: 1\n            FilterCriteria:\n              Filters:\n                - Pattern: '{{\"dynamodb\": {{\"Keys\": {{\"PK\": {{\"S\": [{{\"prefix\": \"{prefix}\"}}]}}}}}}}}'");
    policies(out, function);
    out.push('\n');
    log_group(out, function);
}

const HEAD: &str = r#"# Generated by `refnet-admin template` from shared/src/routes.rs: change that, not this.
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: Refnet - referral programs (Connections API and DeSo-compatible Referral API) on Lambda and DynamoDB.

Parameters:
  DesoNetworkId:
    Type: String
    Default: demo
    AllowedPattern: "^[A-Za-z0-9_-]{1,64}$"
    Description: Network served by the DeSo-compatible routes.
  DesoProgramId:
    Type: String
    Default: default
    AllowedPattern: "^[A-Za-z0-9_-]{1,64}$"
    Description: Program that receives the codes the DeSo-compatible routes create.
  DesoKeyNetwork:
    Type: String
    Default: mainnet
    AllowedValues: [mainnet, testnet]
    Description: The DeSo network whose public keys are users; the other network's keys are refused.
  AdminPublicKeys:
    Type: String
    Default: ""
    Description: Comma-separated DeSo public keys allowed to call admin routes.
  SuperAdminPublicKeys:
    Type: String
    Default: ""
    Description: Comma-separated DeSo public keys allowed to call super-admin routes.
  AdminJwtMaxLifetimeSecs:
    Type: Number
    Default: 3600
    MinValue: 60
    MaxValue: 86400
    Description: Longest lifetime (exp - iat) of an admin JWT.
  RetryBudgetMs:
    Type: Number
    Default: 10000
    MinValue: 100
    MaxValue: 25000
    Description: How long one request may retry transaction conflicts and throttling (ms).
  PublicRetryBudgetMs:
    Type: Number
    Default: 2000
    MinValue: 100
    MaxValue: 10000
    Description: The same, for the routes anyone may call (ms).
  MoveWcuPerSec:
    Type: Number
    Default: 400
    MinValue: 1
    Description: Write capacity units per second a move job may use.
  ThrottleRateLimit:
    Type: Number
    Default: 1000
    MinValue: 1
    Description: Steady requests per second the HTTP API takes before it answers 429.
  ThrottleBurstLimit:
    Type: Number
    Default: 2000
    MinValue: 1
    Description: Burst of requests the HTTP API takes before it answers 429.
  PublicReservedConcurrency:
    Type: Number
    Default: 50
    MinValue: 1
    Description: Lambda concurrency reserved for, and capping, each public route's function.
  CorsAllowOrigins:
    Type: CommaDelimitedList
    Default: "*"
    Description: Origins allowed to call the API from a browser (DeSo's web clients).
  LogRetentionDays:
    Type: Number
    Default: 30
    AllowedValues: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653]
    Description: Days the functions' logs are kept (they hold emails in paths).
  LogLevel:
    Type: String
    Default: info
    AllowedValues: [error, warn, info, debug]
    Description: RUST_LOG level of the functions.

Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Architectures: [x86_64]
    MemorySize: 256
    Timeout: 29
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        DESO_NETWORK_ID: !Ref DesoNetworkId
        DESO_PROGRAM_ID: !Ref DesoProgramId
        DESO_KEY_NETWORK: !Ref DesoKeyNetwork
        ADMIN_PUBLIC_KEYS: !Ref AdminPublicKeys
        SUPER_ADMIN_PUBLIC_KEYS: !Ref SuperAdminPublicKeys
        ADMIN_JWT_MAX_LIFETIME_SECS: !Ref AdminJwtMaxLifetimeSecs
        RETRY_BUDGET_MS: !Ref RetryBudgetMs
        PUBLIC_RETRY_BUDGET_MS: !Ref PublicRetryBudgetMs
        MOVE_WCU_PER_SEC: !Ref MoveWcuPerSec
        RUST_LOG: !Ref LogLevel

Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Description: Refnet HTTP API
      DefaultRouteSettings:
        ThrottlingRateLimit: !Ref ThrottleRateLimit
        ThrottlingBurstLimit: !Ref ThrottleBurstLimit
      CorsConfiguration:
        AllowOrigins: !Ref CorsAllowOrigins
        AllowMethods: [GET, POST, PUT, DELETE, OPTIONS]
        AllowHeaders: [authorization, content-type]
        ExposeHeaders: [location, retry-after]
        MaxAge: 600

  Table:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: PK
          AttributeType: S
        - AttributeName: SK
          AttributeType: S
        - AttributeName: GSI1PK
          AttributeType: S
        - AttributeName: GSI1SK
          AttributeType: S
      KeySchema:
        - AttributeName: PK
          KeyType: HASH
        - AttributeName: SK
          KeyType: RANGE
      GlobalSecondaryIndexes:
        - IndexName: GSI1
          KeySchema:
            - AttributeName: GSI1PK
              KeyType: HASH
            - AttributeName: GSI1SK
              KeyType: RANGE
          Projection:
            ProjectionType: ALL
      StreamSpecification:
        StreamViewType: NEW_AND_OLD_IMAGES
      TimeToLiveSpecification:
        AttributeName: expires_at
        Enabled: true
      PointInTimeRecoverySpecification:
        PointInTimeRecoveryEnabled: true
      SSESpecification:
        SSEEnabled: true

"#;

const TAIL: &str = r#"Outputs:
  ApiUrl:
    Description: Base URL of the Refnet API
    Value: !Sub "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
  TableName:
    Description: The DynamoDB table
    Value: !Ref Table
"#;

/// The whole template.
pub fn render() -> String {
    let mut out = String::from(HEAD);
    let mut seen = std::collections::BTreeSet::new();
    for r in ROUTES.iter().filter(|r| seen.insert(r.function)) {
        route_function(&mut out, r);
    }
    for (function, prefix) in STREAM_FUNCTIONS {
        stream_function(&mut out, function, prefix);
    }
    out.push_str(TAIL);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// template.yaml is this generator's output: a route added to the declaration reaches it.
    #[test]
    fn the_committed_template_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
        let committed = std::fs::read_to_string(path).expect("template.yaml");
        assert!(
            committed == render(),
            "template.yaml is stale: run `cargo run -q -p refnet-admin -- template > template.yaml`"
        );
    }

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
        assert_eq!(logical_id("add-connection"), "AddConnectionFunction");
    }
}
