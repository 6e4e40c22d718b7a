//! The table, networks and their API keys.

use std::io::Read;

use shared::auth;
use shared::domain::NetworkId;
use shared::store::api_keys::KeyChange;

use crate::{err, state, USAGE};

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
        ["seed-demo"] => crate::demo::seed().await,
        _ => Err(USAGE.into()),
    }
}
