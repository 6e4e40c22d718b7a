//! conflict-proxy: DynamoDB's transaction conflicts in front of DynamoDB Local.
//!
//!   conflict-proxy <listen port> <upstream URL> [hold ms, default 20]
//!
//! Listens on 127.0.0.1 only. Point AWS_ENDPOINT_URL_DYNAMODB at it.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (port, upstream) = match args.as_slice() {
        [p, u, ..] => (p.parse::<u16>()?, u.clone()),
        _ => return Err("usage: conflict-proxy <listen port> <upstream URL> [hold ms]".into()),
    };
    let hold = args.get(2).map(|h| h.parse()).transpose()?.unwrap_or(20);
    let h = conflict_proxy::start(([127, 0, 0, 1], port).into(), &upstream, hold).await?;
    eprintln!(
        "conflict-proxy on {} in front of {upstream}, holding {hold} ms",
        h.endpoint()
    );
    std::future::pending::<()>().await;
    Ok(())
}
