//! template.yaml, generated from the route declaration (`shared::routes`) and the access each
//! function needs. `refnet-admin template > template.yaml` writes it; a test keeps the
//! committed file equal to what this generates.

use std::fmt::Write;

use shared::routes::{Route, ROUTES, SCHEDULED_FUNCTIONS, STREAM_FUNCTIONS};

use crate::policies::policies;

/// `add-connection` -> `AddConnectionFunction`.
pub fn logical_id(function: &str) -> String {
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

/// A function and every route it serves: one event per route (`Api`, `Api2`, ...).
fn route_function(out: &mut String, routes: &[&Route]) {
    let Some(r) = routes.first() else {
        return;
    };
    common(out, r.function, &format!("{} {}", r.method, r.path));
    if r.public {
        let _ = writeln!(
            out,
            "      ReservedConcurrentExecutions: !Ref PublicReservedConcurrency"
        );
    }
    let _ = writeln!(out, "      Events:");
    for (i, r) in routes.iter().enumerate() {
        let name = if i == 0 {
            "Api".to_owned()
        } else {
            format!("Api{}", i + 1)
        };
        let _ = writeln!(out, "        {name}:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref Api\n            Method: {}\n            Path: {}", r.method, r.path);
    }
    policies(out, r.function);
    out.push('\n');
    log_group(out, r.function);
}

/// A stream consumer: its mapping bounded (retries, record age, bisecting, partial batch
/// failures, the failure queue), and a role of its own, so that SAM adds no managed policy
/// (its DynamoDB execution role reads every stream of the account).
fn stream_function(out: &mut String, function: &str, prefixes: &[shared::store::keys::Prefix]) {
    let (what, batch, timeout) = match function {
        "aggregate-counts" => ("Counts downline edges from the table's stream", 100, 60),
        "payout-worker" => ("Carries out payouts, fed by the table's stream", 10, 900),
        "derive-rewards" => (
            "Derives signup events, rewards and balances from the table's stream",
            100,
            60,
        ),
        "webhook-fanout" => (
            "Makes webhook messages from the table's committed changes",
            100,
            60,
        ),
        _ => ("Carries out move jobs, fed by the table's stream", 10, 900),
    };
    let id = logical_id(function);
    let m = shared::routes::STREAM_MAPPING;
    let prefix = prefixes
        .iter()
        .map(|p| format!("{{\"prefix\": \"{p}\"}}"))
        .collect::<Vec<_>>()
        .join(", ");
    common(out, function, what);
    let _ = writeln!(out, "      Timeout: {timeout}");
    let _ = writeln!(out, "      Role: !GetAtt {id}Role.Arn");
    let _ = writeln!(out, "      Events:\n        Stream:\n          Type: DynamoDB\n          Properties:\n            Stream: !GetAtt Table.StreamArn\n            StartingPosition: TRIM_HORIZON\n            BatchSize: {batch}\n            MaximumBatchingWindowInSeconds: 1\n            MaximumRetryAttempts: {}\n            MaximumRecordAgeInSeconds: {}\n            BisectBatchOnFunctionError: {}\n            FunctionResponseTypes:\n              - ReportBatchItemFailures\n            DestinationConfig:\n              OnFailure:\n                Type: SQS\n                Destination: !GetAtt StreamFailuresQueue.Arn\n            FilterCriteria:\n              Filters:\n                - Pattern: '{{\"dynamodb\": {{\"Keys\": {{\"PK\": {{\"S\": [{prefix}]}}}}}}}}'", m.max_retries, m.max_record_age_secs, m.bisect);
    out.push('\n');
    let _ = writeln!(out, "  {id}Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n          - Effect: Allow\n            Principal:\n              Service: lambda.amazonaws.com\n            Action: sts:AssumeRole");
    let mut access = String::new();
    policies(&mut access, function);
    // The function's statements, then its logs, its stream and its failure queue.
    let statements: String = access.lines().skip(3).map(|l| format!("  {l}\n")).collect();
    let _ = writeln!(out, "      Policies:\n        - PolicyName: access\n          PolicyDocument:\n            Version: \"2012-10-17\"\n            Statement:");
    out.push_str(&statements);
    let _ = writeln!(out, "              - Effect: Allow\n                Action:\n                  - logs:CreateLogStream\n                  - logs:PutLogEvents\n                Resource: !GetAtt {id}Logs.Arn\n              - Effect: Allow\n                Action:\n                  - dynamodb:DescribeStream\n                  - dynamodb:GetRecords\n                  - dynamodb:GetShardIterator\n                Resource: !GetAtt Table.StreamArn\n              - Effect: Allow\n                Action:\n                  - dynamodb:ListStreams\n                Resource: !Sub \"${{Table.Arn}}/stream/*\"\n              - Effect: Allow\n                Action:\n                  - sqs:SendMessage\n                Resource: !GetAtt StreamFailuresQueue.Arn");
    out.push('\n');
    log_group(out, function);
}

/// A function EventBridge runs on the template's schedule.
fn scheduled_function(out: &mut String, function: &str, parameter: &str) {
    let (what, timeout) = match function {
        // It sweeps for 55 s (WEBHOOK_SWEEP_SECS), then waits up to 15 s for its last attempts.
        "webhook-sender" => ("Sends due webhook messages, signed, and schedules retries", 90),
        _ => (
            "Holds the derived counts against the edges that changed, and reports stalled move jobs",
            900,
        ),
    };
    common(out, function, what);
    let _ = writeln!(out, "      Timeout: {timeout}");
    let _ = writeln!(out, "      Events:\n        Schedule:\n          Type: Schedule\n          Properties:\n            Schedule: !Ref {parameter}");
    policies(out, function);
    out.push('\n');
    log_group(out, function);
}

const HEAD: &str = r#"# Generated by `refnet-admin template` from shared/src/routes/: change that, not this.
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
  RepairSchedule:
    Type: String
    Default: rate(15 minutes)
    Description: How often the repair holds the counts against the edges that changed.
  WebhookSenderSchedule:
    Type: String
    Default: rate(1 minute)
    Description: How often a webhook sender starts; each sweeps for due messages for 55 s.
  RepairSettleSecs:
    Type: Number
    Default: 300
    MinValue: 60
    Description: How old a change must be before the repair checks it (the aggregator goes first).
  JobStalledAfterSecs:
    Type: Number
    Default: 900
    MinValue: 60
    Description: A running move job that has not advanced for this long counts as stalled.
  AlarmTopicArn:
    Type: String
    Default: ""
    Description: SNS topic the alarms notify; empty makes one.
  ErrorsThreshold:
    Type: Number
    Default: 1
    MinValue: 1
    Description: Function errors in 5 minutes that raise a function's alarm.
  ThrottlesThreshold:
    Type: Number
    Default: 1
    MinValue: 1
    Description: Throttled invocations in 5 minutes that raise a function's alarm.
  IteratorAgeThresholdMs:
    Type: Number
    Default: 60000
    MinValue: 1000
    Description: Age of the newest record a stream consumer has read before its alarm rises.
  ServerErrorsThreshold:
    Type: Number
    Default: 5
    MinValue: 1
    Description: 5xx answers of the HTTP API in 5 minutes that raise its alarm.

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
        REPAIR_SETTLE_SECS: !Ref RepairSettleSecs
        JOB_STALLED_AFTER_SECS: !Ref JobStalledAfterSecs
        RUST_LOG: !Ref LogLevel

Conditions:
  MakeAlarmTopic: !Equals [!Ref AlarmTopicArn, ""]

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
        - AttributeName: GSI2PK
          AttributeType: S
        - AttributeName: GSI2SK
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
        - IndexName: GSI2
          KeySchema:
            - AttributeName: GSI2PK
              KeyType: HASH
            - AttributeName: GSI2SK
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
        let mine: Vec<&Route> = ROUTES.iter().filter(|o| o.function == r.function).collect();
        route_function(&mut out, &mine);
    }
    for (function, prefix) in STREAM_FUNCTIONS {
        stream_function(&mut out, function, prefix);
    }
    for (function, parameter) in SCHEDULED_FUNCTIONS {
        scheduled_function(&mut out, function, parameter);
    }
    crate::alarms::render(&mut out);
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
    fn logical_ids_are_pascal_case() {
        assert_eq!(logical_id("add-connection"), "AddConnectionFunction");
    }
}
