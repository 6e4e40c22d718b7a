//! Every route, declared once. The Cargo.toml router of `cargo lambda watch`, the SAM
//! template, the function crates and the sample events are held to this list by its test.

/// One HTTP route and the function serving it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
    /// Callable without credentials, or with a user's own: a short retry budget, and a cap
    /// on its Lambda concurrency.
    pub public: bool,
}

const fn r(method: &'static str, path: &'static str, function: &'static str) -> Route {
    Route {
        method,
        path,
        function,
        public: false,
    }
}

const fn public(method: &'static str, path: &'static str, function: &'static str) -> Route {
    Route {
        method,
        path,
        function,
        public: true,
    }
}

pub const ROUTES: [Route; 24] = [
    r("GET", "/networks/{network_id}/connections", "list-programs"),
    r(
        "PUT",
        "/networks/{network_id}/connections/{program_id}",
        "upsert-program",
    ),
    r(
        "POST",
        "/networks/{network_id}/connections/{program_id}",
        "add-connection",
    ),
    r(
        "GET",
        "/networks/{network_id}/connections/{program_id}/users/{user}",
        "get-user-connections",
    ),
    r(
        "GET",
        "/networks/{network_id}/connections/{program_id}/users/{user}/codes",
        "get-connection-codes",
    ),
    r(
        "PUT",
        "/networks/{network_id}/connections/{program_id}/users/{user}/referrer",
        "change-referrer",
    ),
    r(
        "DELETE",
        "/networks/{network_id}/connections/{program_id}/users/{user}/referrer",
        "remove-referrer",
    ),
    r("GET", "/networks/{network_id}/jobs/{job_id}", "get-job"),
    r("POST", "/networks/{network_id}/user_status", "user-status"),
    public(
        "POST",
        "/api/v0/get-referral-info-for-user",
        "get-referral-info-for-user",
    ),
    public(
        "POST",
        "/api/v0/get-referral-info-for-referral-hash",
        "get-referral-info-for-referral-hash",
    ),
    public("POST", "/api/v0/jumio-begin", "jumio-begin"),
    public(
        "GET",
        "/api/v0/admin/get-usd-cents-to-deso-reserve-exchange-rate",
        "get-usd-cents-to-deso-reserve-exchange-rate",
    ),
    r(
        "POST",
        "/api/v0/admin/create-referral-hash",
        "admin-create-referral-hash",
    ),
    r(
        "POST",
        "/api/v0/admin/update-referral-hash",
        "admin-update-referral-hash",
    ),
    r(
        "POST",
        "/api/v0/admin/get-all-referral-info-for-user",
        "admin-get-all-referral-info-for-user",
    ),
    r(
        "POST",
        "/api/v0/admin/download-referral-csv",
        "admin-download-referral-csv",
    ),
    r(
        "POST",
        "/api/v0/admin/upload-referral-csv",
        "admin-upload-referral-csv",
    ),
    r(
        "POST",
        "/api/v0/admin/update-jumio-country-sign-up-bonus",
        "admin-update-jumio-country-sign-up-bonus",
    ),
    r(
        "POST",
        "/api/v0/admin/get-all-country-level-sign-up-bonuses",
        "admin-get-all-country-level-sign-up-bonuses",
    ),
    r(
        "POST",
        "/api/v0/admin/update-jumio-usd-cents",
        "admin-update-jumio-usd-cents",
    ),
    r(
        "POST",
        "/api/v0/admin/update-jumio-kickback-usd-cents",
        "admin-update-jumio-kickback-usd-cents",
    ),
    r(
        "POST",
        "/api/v0/admin/set-usd-cents-to-deso-reserve-exchange-rate",
        "admin-set-usd-cents-to-deso-reserve-exchange-rate",
    ),
    r(
        "POST",
        "/api/v0/admin/jumio-callback",
        "admin-jumio-callback",
    ),
];

/// Functions fed by the table's stream: (function, PK prefix of the items it is fed).
pub const STREAM_FUNCTIONS: [(&str, &str); 2] =
    [("aggregate-counts", "DOWN#"), ("move-worker", "JOB#")];

/// The route that serves `method path` (a concrete path), with its parameters.
pub fn route_of(method: &str, path: &str) -> Option<(&'static Route, Vec<(&'static str, String)>)> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    ROUTES.iter().find_map(|r| {
        let tpl: Vec<&str> = r.path.split('/').collect();
        if r.method != method || tpl.len() != segs.len() {
            return None;
        }
        let mut params = Vec::new();
        for (t, s) in tpl.iter().zip(&segs) {
            match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                Some(name) if !s.is_empty() => params.push((name, s.to_string())),
                Some(_) => return None,
                None if t != s => return None,
                None => {}
            }
        }
        Some((r, params))
    })
}
