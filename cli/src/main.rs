//! refnet-admin: table setup, networks and API keys, against DynamoDB Local or AWS.

use std::process::ExitCode;

use shared::domain::{NetworkId, ProgramId, ProgramPatch};
use shared::{auth, clock, AppState, Config};

const USAGE: &str = "usage: refnet-admin <command>
  create-table                      create the table (TABLE_NAME) unless it exists
  create-network <network_id>       create a network if new, issue an API key and print it once
  seed-demo                         table, network 'demo', program 'default' and an API key
                                    (REFNET_DEMO_API_KEY when set, else a new one, printed)
  deso-jwt <seed hex> [ttl secs]    the DeSo public key of a 32-byte secret seed, and a JWT signed
                                    with it as DeSo's SDK signs them (no exp when ttl is 0)";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("refnet-admin: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn state() -> Result<AppState, String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let client = aws_sdk_dynamodb::Client::from_conf(shared::sdk_config().await);
    Ok(AppState::new(config, client))
}

fn err(e: impl std::error::Error) -> String {
    shared::http::error_chain(&e)
}

async fn run(args: &[String]) -> Result<(), String> {
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["create-table"] => {
            let s = state().await?;
            let created = s.store.ensure_table().await.map_err(err)?;
            println!(
                "table {}: {}",
                s.config.table_name,
                if created { "created" } else { "exists" }
            );
            Ok(())
        }
        ["create-network", net] => {
            let s = state().await?;
            let net = NetworkId::try_from(*net).map_err(err)?;
            let key = auth::generate_key().map_err(|e| e.to_string())?;
            s.store
                .register_key(&net, &auth::hash_key(&key))
                .await
                .map_err(err)?;
            println!("network {net}: API key (shown once, store it now):\n{key}");
            Ok(())
        }
        ["seed-demo"] => {
            let s = state().await?;
            s.store.ensure_table().await.map_err(err)?;
            let net = NetworkId::try_from("demo").map_err(err)?;
            let prog = ProgramId::try_from("default").map_err(err)?;
            let key = match std::env::var("REFNET_DEMO_API_KEY") {
                Ok(k) if !k.trim().is_empty() => k.trim().to_owned(),
                _ => auth::generate_key().map_err(|e| e.to_string())?,
            };
            if !s
                .store
                .register_key(&net, &auth::hash_key(&key))
                .await
                .map_err(err)?
            {
                return Err("REFNET_DEMO_API_KEY is already a key of another network".into());
            }
            if s.store
                .get_program(&net, &prog)
                .await
                .map_err(err)?
                .is_none()
            {
                s.store
                    .upsert_program(&net, &prog, &ProgramPatch::default(), &clock::now().rfc3339)
                    .await
                    .map_err(err)?;
            }
            println!("demo network 'demo', program 'default'");
            println!("demo API key: {key}");
            Ok(())
        }
        ["deso-jwt", seed, rest @ ..] => {
            let bytes = decode_hex(seed).ok_or("the seed must be 64 hex characters")?;
            let sk = k256::ecdsa::SigningKey::from_slice(&bytes)
                .map_err(|_| "the seed is not a valid secp256k1 secret")?;
            let ttl: u64 = match rest {
                [] => 1800,
                [t] => t
                    .parse()
                    .map_err(|_| "ttl must be a whole number of seconds")?,
                _ => return Err(USAGE.into()),
            };
            let now = shared::auth::deso::now_secs();
            let claims = if ttl == 0 {
                serde_json::json!({"iat": now})
            } else {
                serde_json::json!({"iat": now, "exp": now + ttl})
            };
            let jwt = shared::auth::deso::sign::jwt(
                &sk,
                &serde_json::json!({"alg": "ES256", "typ": "JWT"}),
                &claims,
            );
            println!(
                "{}",
                serde_json::json!({"PublicKeyBase58Check": shared::auth::deso::sign::public_key(&sk), "JWT": jwt})
            );
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}
