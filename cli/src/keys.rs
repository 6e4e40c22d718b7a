//! The table, networks and their API keys.

use std::io::Read;

use shared::config::endpoint_is_local;
use shared::domain::{NetworkId, ProgramId, ProgramPatch};
use shared::store::api_keys::KeyChange;
use shared::{auth, clock};

use crate::{err, state, USAGE};

/// Shortest demo key accepted: a guessable key would open the demo network to anyone.
const MIN_DEMO_KEY_LEN: usize = 16;

/// A key from the command line, or from stdin for `-` (keeps it out of shell history).
fn key_arg(arg: &str) -> Result<String, String> {
    let key = if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| e.to_string())?;
        s
    } else {
        arg.to_owned()
    };
    let key = key.trim().to_owned();
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    Ok(key)
}

pub async fn run(args: &[&str]) -> Result<(), String> {
    match args {
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
        ["revoke-key", net, key] => {
            let s = state().await?;
            let net = NetworkId::try_from(*net).map_err(err)?;
            let hash = auth::hash_key(&key_arg(key)?);
            match s.store.revoke_key(&net, &hash).await.map_err(err)? {
                KeyChange::Done => {
                    println!("network {net}: key revoked");
                    Ok(())
                }
                _ => Err(format!("network {net} has no such key")),
            }
        }
        ["rotate-key", net, key] => {
            let s = state().await?;
            let net = NetworkId::try_from(*net).map_err(err)?;
            let old = auth::hash_key(&key_arg(key)?);
            let new = auth::generate_key().map_err(|e| e.to_string())?;
            match s
                .store
                .rotate_key(&net, &old, &auth::hash_key(&new))
                .await
                .map_err(err)?
            {
                KeyChange::Done => {
                    println!("network {net}: old key revoked; new key (shown once):\n{new}");
                    Ok(())
                }
                KeyChange::NotFound => Err(format!("network {net} has no such key")),
                KeyChange::Taken => Err("the new key collided; run the command again".into()),
            }
        }
        ["seed-demo"] => seed_demo().await,
        _ => Err(USAGE.into()),
    }
}

async fn seed_demo() -> Result<(), String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok();
    if !endpoint_is_local(endpoint.as_deref()) {
        return Err(
            "seed-demo only runs against a local DynamoDB: set AWS_ENDPOINT_URL_DYNAMODB to \
             http://127.0.0.1:<port>; on AWS, use create-network"
                .into(),
        );
    }
    let key = match std::env::var("REFNET_DEMO_API_KEY") {
        Ok(k) if !k.trim().is_empty() => {
            let k = k.trim().to_owned();
            if k.len() < MIN_DEMO_KEY_LEN {
                return Err(format!(
                    "REFNET_DEMO_API_KEY must be at least {MIN_DEMO_KEY_LEN} characters"
                ));
            }
            k
        }
        _ => auth::generate_key().map_err(|e| e.to_string())?,
    };
    let s = state().await?;
    s.store.ensure_table().await.map_err(err)?;
    let net = NetworkId::try_from("demo").map_err(err)?;
    let prog = ProgramId::try_from("default").map_err(err)?;
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
