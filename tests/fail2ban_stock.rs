//! Differential test: every stock filter in /etc/fail2ban/filter.d, in every option set it
//! offers (modes, logging, logtype, publickey), resolves to exactly the filter command stream of
//! the installed fail2ban's own `FilterReader`.

mod fail2ban_common;

use std::path::Path;

use fail2ban_common::{canonical, reference};
use fail2zig::fail2ban::{OrderedMap, reader};

#[test]
fn stock_filters_match_fail2ban() {
    let base = Path::new("/etc/fail2ban");
    let refs = reference(base, &[]);
    assert!(refs.len() > 300, "only {} reference cases", refs.len());
    let mut failures = Vec::new();
    let mut resolved = 0;
    for r in &refs {
        let mut opts = OrderedMap::new();
        for (k, v) in &r.options {
            opts.insert(k.clone(), v.clone());
        }
        let ours = reader::resolve_filter(base, &r.name, &opts, &OrderedMap::new());
        let expect_error = r.result.get("error").is_some();
        match ours {
            Ok(f) if !expect_error => {
                let got = canonical(&f.def, f.usedns.as_deref());
                if got != r.result {
                    failures.push(format!(
                        "{} {:?}:\n  ours {got}\n  ref  {}",
                        r.name, r.options, r.result
                    ));
                } else {
                    resolved += 1;
                }
            }
            Ok(f) => failures.push(format!(
                "{} {:?}: reference failed ({}) but we resolved {:?}",
                r.name, r.options, r.result, f.def
            )),
            Err(e) if !expect_error => failures.push(format!("{} {:?}: {e}", r.name, r.options)),
            Err(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(resolved > 300, "only {resolved} resolved");
}
