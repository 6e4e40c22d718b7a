//!   local-gateway <port> [bin dir, default target/debug] [processes per function, default 1]
//!
//! Listens on 127.0.0.1 only. The functions inherit its environment (TABLE_NAME, AWS_*) and
//! its stderr, where they log.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args
        .first()
        .ok_or("usage: local-gateway <port> [bin dir] [processes per function]")?
        .parse()?;
    let bin_dir = args.get(1).map_or("target/debug", String::as_str).into();
    let instances = args.get(2).map(|n| n.parse()).transpose()?.unwrap_or(1);
    let addr = local_gateway::start(([127, 0, 0, 1], port).into(), bin_dir, instances).await?;
    eprintln!("local-gateway: listening on http://{addr}");
    std::future::pending::<()>().await;
    Ok(())
}
