//! Finding a route: a function's path at compile time, and the route and parameters of a
//! concrete path, for the handlers, the tests and local-gateway.

use super::{Route, ROUTES};

/// The path template of `function`'s route, looked up at compile time: a handler names its
/// function, and its path comes from this table.
pub const fn path_of(function: &str) -> &'static str {
    let mut i = 0;
    while i < ROUTES.len() {
        if same(ROUTES[i].function, function) {
            return ROUTES[i].path;
        }
        i += 1;
    }
    panic!("no route declared for this function")
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The parameters of a concrete (still percent-encoded) `path` against `template`, or None
/// when it does not match. With `staged`, a stage prefix may come before the template, as API
/// Gateway's `rawPath` carries one for a named stage.
pub fn params<'t>(template: &'t str, path: &str, staged: bool) -> Option<Vec<(&'t str, String)>> {
    let segs: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    let tpl: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let offset = segs.len().checked_sub(tpl.len())?;
    if offset > 0 && !staged {
        return None;
    }
    let mut out = Vec::new();
    for (t, s) in tpl.iter().zip(&segs[offset..]) {
        match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            Some(name) if !s.is_empty() => out.push((name, s.to_string())),
            Some(_) => return None,
            None if t != s => return None,
            None => {}
        }
    }
    Some(out)
}

/// The route that serves `method path` (a concrete path), with its parameters.
pub fn route_of(method: &str, path: &str) -> Option<(&'static Route, Vec<(&'static str, String)>)> {
    ROUTES
        .iter()
        .filter(|r| r.method == method)
        .find_map(|r| Some((r, params(r.path, path, false)?)))
}
