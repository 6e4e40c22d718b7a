//! A function's entry point: tracing, the state built once, then the Lambda runtime. The
//! runtime is instantiated here, once for every function, over a handler that is a plain
//! function pointer: a function's crate is one line and compiles in a moment.

use std::future::Future;
use std::pin::Pin;

use lambda_http::aws_lambda_events::event::dynamodb::Event;
use lambda_http::{service_fn, Body, LambdaEvent, Request, Response};

pub use lambda_http::Error;

use crate::AppState;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An HTTP endpoint's handler.
pub type HttpHandler =
    for<'a> fn(&'a AppState, Request) -> BoxFuture<'a, Result<Response<Body>, Error>>;

/// A stream consumer's handler: a batch of the table's stream records.
pub type StreamHandler =
    for<'a> fn(&'a AppState, LambdaEvent<Event>) -> BoxFuture<'a, Result<(), Error>>;

#[derive(Clone, Copy)]
pub enum Handler {
    Http(HttpHandler),
    Stream(StreamHandler),
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
    }
}

/// A function's `main`: a multi-threaded runtime, then `serve`.
pub fn main(handler: Handler) -> Result<(), Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(handler))
}
