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

/// A function's `HANDLER`, over its module's `handle`, in one of three kinds: `Http`, `Stream`
/// or `Scheduled`.
///
/// The future is boxed in a named function of this crate, not in a closure: a closure's code,
/// and with it the whole handler's, would be built again in the function's own binary, at
/// opt-level 3, in every one of them (about 6 s of CPU each). A `pub` non-generic function is
/// built here once and only linked there.
macro_rules! handler {
    (Http) => {
        $crate::lambda::handler!(
            Http,
            lambda_http::Request,
            Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error>
        );
    };
    (Stream) => {
        $crate::lambda::handler!(
            Stream,
            lambda_http::LambdaEvent<lambda_http::aws_lambda_events::event::dynamodb::Event>,
            Result<
                lambda_http::aws_lambda_events::event::streams::DynamoDbEventResponse,
                lambda_http::Error,
            >
        );
    };
    (Scheduled) => {
        $crate::lambda::handler!(
            Scheduled,
            lambda_http::LambdaEvent<serde_json::Value>,
            Result<serde_json::Value, lambda_http::Error>
        );
    };
    ($kind:ident, $input:ty, $output:ty) => {
        /// This function's handler, as its Lambda binary and the tests run it.
        pub const HANDLER: $crate::lambda::Handler = $crate::lambda::Handler::$kind(boxed);

        /// `handle`'s future, boxed in this crate (see `lambda::handler!`).
        #[inline(never)]
        pub fn boxed(
            state: &$crate::AppState,
            input: $input,
        ) -> $crate::lambda::BoxFuture<'_, $output> {
            Box::pin(handle(state, input))
        }
    };
}
pub(crate) use handler;

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
