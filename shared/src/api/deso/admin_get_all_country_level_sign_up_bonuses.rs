//! POST /api/v0/admin/get-all-country-level-sign-up-bonuses (any admin)
//!
//! Round trips: one Query of the network's DeSo partition. Every country of DeSo's list is
//! present, keyed by DeSo's name: with its own bonus, or the default.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{json, Map};

use super::{admin, ok, AdminCred, Role};
use crate::domain::countries;
use crate::http::{json_body, ApiError};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Read {
    #[serde(flatten)]
    cred: AdminCred,
}

crate::api::endpoint!(serve_deso, retry_budget);

async fn run(state: &AppState, req: Request) -> Result<Response<Body>, ApiError> {
    let body: Read = json_body(&req, true)?;
    admin(&state.config, &body.cred, Role::Admin)?;
    let (set, settings) = state
        .store
        .all_bonuses(&state.config.deso_network_id)
        .await?;
    let default = settings.default_bonus();
    let mut metadata = Map::new();
    for c in countries::all() {
        let bonus = set.get(&c.alpha3).copied().unwrap_or(default);
        metadata.insert(
            c.name.clone(),
            json!({
                "CountryLevelSignUpBonus": bonus,
                "CountryCodeDetails": {"Name": c.name, "CountryCode": c.code, "Alpha3": c.alpha3},
            }),
        );
    }
    Ok(ok(&json!({
        "SignUpBonusMetadata": metadata,
        "DefaultSignUpBonusMetadata": default,
    })))
}
