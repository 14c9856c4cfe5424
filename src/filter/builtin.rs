//! builtin: fail2zig's own filters, embedded in the binary for hosts without fail2ban.
//!
//! Owns the filter files under `src/filter/builtin/` (native TOML, regexes written for fail2zig
//! from the log formats of each daemon, not copied from fail2ban) and turns them into
//! [`FilterDef`]s. `common.toml` holds shared `<tag>` options (the syslog prefix per `logtype`),
//! merged under each filter's own `[options]`. Callers: the daemon's embedded default jail,
//! `fail2zig regex` when no fail2ban configuration exists, and the corpus runner, which checks
//! each built-in filter against the fail2ban sample log of the same name.
//!
//! # Compatibility
//! Same option names as the fail2ban filters they stand in for (`mode`, `logtype`), same regex
//! tags and the same `F-MLFID`/`F-NOFAIL` conventions, so they behave identically on the
//! samples; the regex texts themselves are ours.

use crate::config::FilterDef;

/// (name, TOML text) of every built-in filter.
const FILTERS: &[(&str, &str)] = &[
    ("apache-auth", include_str!("builtin/apache-auth.toml")),
    ("courier-auth", include_str!("builtin/courier-auth.toml")),
    ("dovecot", include_str!("builtin/dovecot.toml")),
    ("mysqld-auth", include_str!("builtin/mysqld-auth.toml")),
    ("named-refused", include_str!("builtin/named-refused.toml")),
    (
        "nginx-botsearch",
        include_str!("builtin/nginx-botsearch.toml"),
    ),
    (
        "nginx-http-auth",
        include_str!("builtin/nginx-http-auth.toml"),
    ),
    (
        "nginx-limit-req",
        include_str!("builtin/nginx-limit-req.toml"),
    ),
    ("postfix", include_str!("builtin/postfix.toml")),
    ("proftpd", include_str!("builtin/proftpd.toml")),
    ("recidive", include_str!("builtin/recidive.toml")),
    ("sshd", include_str!("builtin/sshd.toml")),
    ("vsftpd", include_str!("builtin/vsftpd.toml")),
];

const COMMON: &str = include_str!("builtin/common.toml");

/// The names of the built-in filters.
pub fn names() -> Vec<&'static str> {
    FILTERS.iter().map(|(n, _)| *n).collect()
}

/// A built-in filter by name, with the shared options merged in; None if there is no such
/// filter. A file that does not parse is a build defect, reported by [`check_all`] (tested).
pub fn builtin_filter(name: &str) -> Option<FilterDef> {
    let (_, text) = FILTERS.iter().find(|(n, _)| *n == name)?;
    parse(name, text).ok()
}

fn parse(name: &str, text: &str) -> Result<FilterDef, super::FilterError> {
    let bad = |source| super::FilterError::Builtin {
        name: name.to_string(),
        source: Box::new(source),
    };
    let common: FilterDef = toml::from_str(COMMON).map_err(bad)?;
    let mut def: FilterDef = toml::from_str(text).map_err(bad)?;
    for (k, v) in common.options {
        def.options.entry(k).or_insert(v);
    }
    Ok(def)
}

/// Parses every built-in filter, returning the first error.
pub fn check_all() -> Result<(), super::FilterError> {
    for (n, t) in FILTERS {
        parse(n, t)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Filter, FilterSettings};
    use std::collections::BTreeMap;

    #[test]
    fn every_builtin_parses_and_compiles() {
        check_all().unwrap();
        for n in names() {
            let def = builtin_filter(n).unwrap();
            Filter::new(&def, &BTreeMap::new(), &FilterSettings::default())
                .unwrap_or_else(|e| panic!("{n}: {e}"));
        }
    }
}
