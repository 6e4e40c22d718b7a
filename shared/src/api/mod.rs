//! One module per endpoint: parse the request, call domain and store, build the response.

pub mod add_connection;
pub mod aggregate_counts;
pub mod approve_reward;
pub mod change_referrer;
mod code_fields;
pub mod console;
pub mod create_code;
pub mod create_payout;
pub mod derive_rewards;
pub mod deso;
pub mod get_connection_codes;
pub mod get_event;
pub mod get_job;
pub mod get_leaderboard;
pub mod get_payout;
pub mod get_user_connections;
pub mod get_user_rewards;
pub mod list_payout_lines;
pub mod list_program_rewards;
pub mod list_programs;
pub mod list_rules;
pub mod merge_boards;
pub mod move_worker;
pub mod payout_worker;
mod payouts_json;
pub mod post_event;
pub mod put_rule;
pub mod remove_referrer;
pub mod repair;
pub mod reverse_event;
mod reward_status;
mod rewards_json;
mod stream_record;
pub mod update_code;
pub mod upsert_program;
pub mod user_status;
pub mod void_reward;
pub mod webhook_fanout;
pub mod webhook_sender;
pub mod webhooks;

mod answers;
mod errors;

pub(crate) use answers::*;
pub(crate) use errors::*;

use crate::domain::{NetworkId, ProgramId, UserId};
use crate::http::ApiError;

/// An endpoint module's entry: its `HANDLER` (for its Lambda binary and the tests) and
/// `handle`, which runs the module's `run` within the route's retry budget (`retry_budget`, or
/// `public_retry_budget` for routes anyone may call) and answers errors in the route family's
/// format (`serve` for the Connections API, `serve_deso` for DeSo's). Writes under a
/// network pass the `Idempotency-Key` layer (`http::idempotency`).
macro_rules! endpoint {
    ($serve:ident, $budget:ident) => {
        crate::lambda::handler!(Http);

        pub async fn handle(
            state: &crate::AppState,
            req: lambda_http::Request,
        ) -> Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error> {
            crate::http::$serve(state.config.$budget, req, |req| {
                crate::http::idempotency::guard(
                    &state.store,
                    state.config.idempotency_lease,
                    req,
                    |req| run(state, req),
                )
            })
            .await
        }
    };
}
pub(crate) use endpoint;

/// The handler of each function, by name: the tests and local tools run them through it.
pub fn handler_of(function: &str) -> Option<crate::lambda::Handler> {
    Some(match function {
        "add-connection" => add_connection::HANDLER,
        "approve-reward" => approve_reward::HANDLER,
        "create-payout" => create_payout::HANDLER,
        "get-payout" => get_payout::HANDLER,
        "list-payout-lines" => list_payout_lines::HANDLER,
        "list-program-rewards" => list_program_rewards::HANDLER,
        "payout-worker" => payout_worker::HANDLER,
        "reverse-event" => reverse_event::HANDLER,
        "void-reward" => void_reward::HANDLER,
        "admin-create-referral-hash" => deso::admin_create_referral_hash::HANDLER,
        "admin-download-referral-csv" => deso::admin_download_referral_csv::HANDLER,
        "admin-get-all-country-level-sign-up-bonuses" => {
            deso::admin_get_all_country_level_sign_up_bonuses::HANDLER
        }
        "admin-get-all-referral-info-for-user" => {
            deso::admin_get_all_referral_info_for_user::HANDLER
        }
        "admin-jumio-callback" => deso::admin_jumio_callback::HANDLER,
        "admin-set-usd-cents-to-deso-reserve-exchange-rate" => {
            deso::admin_set_usd_cents_to_deso_reserve_exchange_rate::HANDLER
        }
        "admin-update-jumio-country-sign-up-bonus" => {
            deso::admin_update_jumio_country_sign_up_bonus::HANDLER
        }
        "admin-update-jumio-kickback-usd-cents" => {
            deso::admin_update_jumio_kickback_usd_cents::HANDLER
        }
        "admin-update-jumio-usd-cents" => deso::admin_update_jumio_usd_cents::HANDLER,
        "admin-update-referral-hash" => deso::admin_update_referral_hash::HANDLER,
        "admin-upload-referral-csv" => deso::admin_upload_referral_csv::HANDLER,
        "aggregate-counts" => aggregate_counts::HANDLER,
        "merge-boards" => merge_boards::HANDLER,
        "derive-rewards" => derive_rewards::HANDLER,
        "get-event" => get_event::HANDLER,
        "get-user-rewards" => get_user_rewards::HANDLER,
        "list-rules" => list_rules::HANDLER,
        "post-event" => post_event::HANDLER,
        "put-rule" => put_rule::HANDLER,
        "change-referrer" => change_referrer::HANDLER,
        "console" => console::HANDLER,
        "create-code" => create_code::HANDLER,
        "update-code" => update_code::HANDLER,
        "get-connection-codes" => get_connection_codes::HANDLER,
        "get-job" => get_job::HANDLER,
        "get-leaderboard" => get_leaderboard::HANDLER,
        "get-referral-info-for-referral-hash" => deso::get_referral_info_for_referral_hash::HANDLER,
        "get-referral-info-for-user" => deso::get_referral_info_for_user::HANDLER,
        "get-usd-cents-to-deso-reserve-exchange-rate" => {
            deso::get_usd_cents_to_deso_reserve_exchange_rate::HANDLER
        }
        "get-user-connections" => get_user_connections::HANDLER,
        "jumio-begin" => deso::jumio_begin::HANDLER,
        "list-programs" => list_programs::HANDLER,
        "move-worker" => move_worker::HANDLER,
        "remove-referrer" => remove_referrer::HANDLER,
        "repair" => repair::HANDLER,
        "upsert-program" => upsert_program::HANDLER,
        "user-status" => user_status::HANDLER,
        "webhook-fanout" => webhook_fanout::HANDLER,
        "webhook-sender" => webhook_sender::HANDLER,
        "create-webhook" => webhooks::create_webhook::HANDLER,
        "list-webhooks" => webhooks::list_webhooks::HANDLER,
        "get-webhook" => webhooks::get_webhook::HANDLER,
        "update-webhook" => webhooks::update_webhook::HANDLER,
        "delete-webhook" => webhooks::delete_webhook::HANDLER,
        "rotate-webhook-secret" => webhooks::rotate_webhook_secret::HANDLER,
        "test-webhook" => webhooks::test_webhook::HANDLER,
        "list-webhook-deliveries" => webhooks::list_webhook_deliveries::HANDLER,
        "retry-webhook-delivery" => webhooks::retry_webhook_delivery::HANDLER,
        "replay-webhook" => webhooks::replay_webhook::HANDLER,
        _ => return None,
    })
}

/// Path's network id.
pub(crate) fn network(req: &lambda_http::Request, template: &str) -> Result<NetworkId, ApiError> {
    let raw = crate::http::path_param(req, template, "network_id")?;
    Ok(NetworkId::try_from(raw.as_str())?)
}

pub(crate) fn program_id(
    req: &lambda_http::Request,
    template: &str,
) -> Result<ProgramId, ApiError> {
    let raw = crate::http::path_param(req, template, "program_id")?;
    Ok(ProgramId::try_from(raw.as_str())?)
}

/// A user id from a body field, with the field named in the error.
pub(crate) fn user_field(
    state: &crate::AppState,
    field: &str,
    raw: &str,
) -> Result<UserId, ApiError> {
    UserId::parse(raw, state.config.deso_key_network)
        .map_err(|e| ApiError::bad_request("invalid_user", format!("{field}: {e}")))
}

/// The `{user}` path parameter.
pub(crate) fn path_user(
    state: &crate::AppState,
    req: &lambda_http::Request,
    template: &str,
) -> Result<UserId, ApiError> {
    let raw = crate::http::path_param(req, template, "user")?;
    Ok(UserId::parse(&raw, state.config.deso_key_network)?)
}
