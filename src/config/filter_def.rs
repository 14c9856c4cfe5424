//! The native definition of one filter: what `[filters.NAME]` holds in fail2zig.toml, what the
//! fail2ban reader (`crate::fail2ban`) produces from filter.d, and what the filter engine
//! (`crate::filter`) compiles.
//!
//! Regexes stay in fail2ban (Python `re`) syntax with fail2ban's tags (`<HOST>`, `<F-USER>`, ...);
//! `%(x)s` interpolation is already expanded. `<name>` tags naming an entry of `options` (fail2ban's
//! `[Init]`) are substituted by the filter engine with the jail's filter options
//! (`filter = "name[key=value]"`) taking precedence.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One filter, as written in `[filters.NAME]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterDef {
    /// fail2ban's `prefregex`: matched first; its `<F-CONTENT>` is what failregexes see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefregex: Option<String>,
    /// fail2ban's `failregex`, one regex per entry, in order.
    #[serde(default)]
    pub failregex: Vec<String>,
    /// fail2ban's `ignoreregex`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignoreregex: Vec<String>,
    /// fail2ban's `datepattern` (a strptime-style pattern, `{^LN-BEG}`, `EPOCH`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datepattern: Option<String>,
    /// fail2ban's `maxlines`: lines kept in the multi-line buffer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxlines: Option<u32>,
    /// fail2ban's `journalmatch`, one match group per entry (`FIELD=value + FIELD=value`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub journalmatch: Vec<String>,
    /// Defaults for `<name>` tags (fail2ban's `[Init]`), overridden by the jail's filter options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}
