//! A function's entry point: tracing, the state built once, then the Lambda runtime. The
//! runtime is instantiated here, once for every function, over a handler that is a plain
//! function pointer: a function's crate is one line and compiles in a moment.

use std::future::Future;
use std::pin::Pin;

use lambda_http::aws_lambda_events::event::dynamodb::Event;
use lambda_http::aws_lambda_events::event::streams::{
    DynamoDbBatchItemFailure, DynamoDbEventResponse,
};
use lambda_http::{service_fn, Body, LambdaEvent, Request, Response};

pub use lambda_http::Error;

use crate::AppState;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An HTTP endpoint's handler.
pub type HttpHandler =
    for<'a> fn(&'a AppState, Request) -> BoxFuture<'a, Result<Response<Body>, Error>>;

/// A stream consumer's handler: a batch of the table's stream records, answered with the
/// records it could not apply (the event source mapping's `ReportBatchItemFailures`).
pub type StreamHandler = for<'a> fn(
    &'a AppState,
    LambdaEvent<Event>,
) -> BoxFuture<'a, Result<DynamoDbEventResponse, Error>>;

/// A scheduled function's handler: EventBridge's event, answered with a summary.
pub type ScheduledHandler = for<'a> fn(
    &'a AppState,
    LambdaEvent<serde_json::Value>,
) -> BoxFuture<'a, Result<serde_json::Value, Error>>;

#[derive(Clone, Copy)]
pub enum Handler {
    Http(HttpHandler),
    Stream(StreamHandler),
    Scheduled(ScheduledHandler),
}

/// A stream consumer's answer: the sequence numbers of the records it could not apply. The
/// event source mapping retries from the first of them; nothing fails when none is given.
pub fn batch_failures(sequence_numbers: impl IntoIterator<Item = String>) -> DynamoDbEventResponse {
    let mut out = DynamoDbEventResponse::default();
    for seq in sequence_numbers {
        let mut f = DynamoDbBatchItemFailure::default();
        f.item_identifier = Some(seq);
        out.batch_item_failures.push(f);
    }
    out
}

/// Runs `handler` as a Lambda function until the runtime stops it.
pub async fn serve(handler: Handler) -> Result<(), Error> {
    crate::telemetry::init();
    let state = AppState::load().await?;
    match handler {
        Handler::Http(h) => lambda_http::run(service_fn(move |req| h(state, req))).await,
        Handler::Stream(h) => {
            lambda_http::lambda_runtime::run(service_fn(move |ev| h(state, ev))).await
        }
        Handler::Scheduled(h) => {
            lambda_http::lambda_runtime::run(service_fn(move |ev| h(state, ev))).await
        }
    }
}

/// A function's `main`: a multi-threaded runtime, then `serve`.
pub fn main(handler: Handler) -> Result<(), Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(handler))
}
