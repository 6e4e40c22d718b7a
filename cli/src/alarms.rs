//! The template's alarms, their topic, the stream consumers' failure queue and a dashboard.
//! What each alarm means and what to do when it fires: README "Alarms".

use std::fmt::Write;

use shared::routes::{all_functions, STREAM_FUNCTIONS};
use shared::telemetry::METRICS_NAMESPACE;

use crate::template::logical_id;

struct Alarm<'a> {
    id: String,
    description: String,
    namespace: &'a str,
    metric: &'a str,
    /// (name, value) pairs; values are YAML (a `!Ref`, or a quoted string).
    dimensions: Vec<(&'a str, String)>,
    statistic: &'a str,
    period: u32,
    threshold: &'a str,
    /// `GreaterThanOrEqualToThreshold` or `GreaterThanThreshold`.
    comparison: &'a str,
}

fn alarm(out: &mut String, a: &Alarm) {
    let _ = writeln!(
        out,
        "  {}:\n    Type: AWS::CloudWatch::Alarm\n    Properties:",
        a.id
    );
    let _ = writeln!(out, "      AlarmDescription: \"{}\"", a.description);
    let _ = writeln!(
        out,
        "      Namespace: {}\n      MetricName: {}",
        a.namespace, a.metric
    );
    if a.dimensions.is_empty() {
        let _ = writeln!(out, "      Dimensions: []");
    } else {
        let _ = writeln!(out, "      Dimensions:");
        for (name, value) in &a.dimensions {
            let _ = writeln!(out, "        - Name: {name}\n          Value: {value}");
        }
    }
    let _ = writeln!(
        out,
        "      Statistic: {}\n      Period: {}\n      EvaluationPeriods: 1\n      Threshold: {}\n      ComparisonOperator: {}\n      TreatMissingData: notBreaching\n      AlarmActions:\n        - !If [MakeAlarmTopic, !Ref AlarmTopic, !Ref AlarmTopicArn]\n",
        a.statistic, a.period, a.threshold, a.comparison
    );
}

const QUEUE: &str = "  AlarmTopic:
    Type: AWS::SNS::Topic
    Condition: MakeAlarmTopic
    Properties:
      DisplayName: Refnet alarms

  StreamFailuresQueue:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
      SqsManagedSseEnabled: true

";

pub fn render(out: &mut String) {
    out.push_str(QUEUE);
    for f in all_functions() {
        let id = logical_id(f);
        for (metric, threshold, what) in [
            ("Errors", "!Ref ErrorsThreshold", "failed invocations"),
            (
                "Throttles",
                "!Ref ThrottlesThreshold",
                "throttled invocations",
            ),
        ] {
            alarm(
                out,
                &Alarm {
                    id: format!("{id}{metric}Alarm"),
                    description: format!("{f}: {what}"),
                    namespace: "AWS/Lambda",
                    metric,
                    dimensions: vec![("FunctionName", format!("!Ref {id}"))],
                    statistic: "Sum",
                    period: 300,
                    threshold,
                    comparison: "GreaterThanOrEqualToThreshold",
                },
            );
        }
    }
    for (f, _) in STREAM_FUNCTIONS {
        let id = logical_id(f);
        alarm(
            out,
            &Alarm {
                id: format!("{id}IteratorAgeAlarm"),
                description: format!("{f}: falling behind the table's stream"),
                namespace: "AWS/Lambda",
                metric: "IteratorAge",
                dimensions: vec![("FunctionName", format!("!Ref {id}"))],
                statistic: "Maximum",
                period: 300,
                threshold: "!Ref IteratorAgeThresholdMs",
                comparison: "GreaterThanOrEqualToThreshold",
            },
        );
    }
    let own = |id: &str, description: &str, metric: &'static str| Alarm {
        id: id.to_owned(),
        description: description.to_owned(),
        namespace: METRICS_NAMESPACE,
        metric,
        dimensions: Vec::new(),
        statistic: "Maximum",
        period: 900,
        threshold: "0",
        comparison: "GreaterThanThreshold",
    };
    for a in [
        Alarm {
            id: "StreamFailuresAlarm".into(),
            description: "stream records given up by a consumer: see the failure queue".into(),
            namespace: "AWS/SQS",
            metric: "ApproximateNumberOfMessagesVisible",
            dimensions: vec![(
                "QueueName",
                "!GetAtt StreamFailuresQueue.QueueName".to_owned(),
            )],
            statistic: "Maximum",
            period: 300,
            threshold: "0",
            comparison: "GreaterThanThreshold",
        },
        Alarm {
            id: "ApiServerErrorsAlarm".into(),
            description: "the HTTP API answered 5xx".into(),
            namespace: "AWS/ApiGateway",
            metric: "5xx",
            dimensions: vec![
                ("ApiId", "!Ref Api".to_owned()),
                ("Stage", "\"$default\"".to_owned()),
            ],
            statistic: "Sum",
            period: 300,
            threshold: "!Ref ServerErrorsThreshold",
            comparison: "GreaterThanOrEqualToThreshold",
        },
        own(
            "RepairFixesAlarm",
            "the repair found derived counts that had drifted, and fixed them",
            "RepairFixes",
        ),
        own(
            "StalledJobsAlarm",
            "a move job has not advanced for JobStalledAfterSecs",
            "StalledJobs",
        ),
    ] {
        alarm(out, &a);
    }
    dashboard(out);
}

/// One dashboard: errors of every function, the stream consumers' lag, the failure queue, the
/// API's 5xx, and the repair's metrics.
fn dashboard(out: &mut String) {
    let lambda = |metric: &str, stat: &str, functions: &mut dyn Iterator<Item = &str>| {
        functions
            .map(|f| {
                format!(
                    "[\"AWS/Lambda\", \"{metric}\", \"FunctionName\", \"${{{}}}\", {{\"stat\": \"{stat}\"}}]",
                    logical_id(f)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let widget = |title: &str, metrics: String| {
        format!(
            "{{\"type\": \"metric\", \"width\": 12, \"height\": 6, \"properties\": {{\"title\": \"{title}\", \"region\": \"${{AWS::Region}}\", \"period\": 300, \"metrics\": [{metrics}]}}}}"
        )
    };
    let widgets = [
        widget(
            "Function errors",
            lambda("Errors", "Sum", &mut all_functions()),
        ),
        widget(
            "Stream consumers: iterator age (ms)",
            lambda(
                "IteratorAge",
                "Maximum",
                &mut STREAM_FUNCTIONS.iter().map(|(f, _)| *f),
            ),
        ),
        widget(
            "Given-up stream batches, HTTP 5xx",
            "[\"AWS/SQS\", \"ApproximateNumberOfMessagesVisible\", \"QueueName\", \"${StreamFailuresQueue.QueueName}\"], [\"AWS/ApiGateway\", \"5xx\", \"ApiId\", \"${Api}\", \"Stage\", \"$default\", {\"stat\": \"Sum\"}]".to_owned(),
        ),
        widget(
            "Repair and move jobs",
            format!("[\"{METRICS_NAMESPACE}\", \"RepairFixes\", {{\"stat\": \"Sum\"}}], [\"{METRICS_NAMESPACE}\", \"RepairRaced\", {{\"stat\": \"Sum\"}}], [\"{METRICS_NAMESPACE}\", \"StalledJobs\", {{\"stat\": \"Maximum\"}}]"),
        ),
    ];
    let _ = writeln!(
        out,
        "  Dashboard:\n    Type: AWS::CloudWatch::Dashboard\n    Properties:\n      DashboardName: !Sub \"${{AWS::StackName}}-refnet\"\n      DashboardBody: !Sub '{{\"widgets\": [{}]}}'\n",
        widgets.join(", ")
    );
}
