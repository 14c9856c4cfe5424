//! The sample harness's test filters (`zzz-*` in fail2ban's test config) resolve with their
//! broken `common.conf` include looked up in the stock filter.d, to exactly what fail2ban gives
//! when that include points at the stock file.

mod fail2ban_common;

use std::collections::BTreeMap;
use std::path::Path;

use fail2ban_common::{canonical, reference};
use fail2zig::fail2ban::read_filter_with_fallback;

const TEST_CONFIG: &str = "/usr/lib/python3/dist-packages/fail2ban/tests/config";
const STOCK_FILTERS: &str = "/etc/fail2ban/filter.d";

#[test]
fn zzz_filters_resolve_against_stock_common() {
    let dir = Path::new(TEST_CONFIG).join("filter.d");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fail2ban test config")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("zzz-") && n.ends_with(".conf"))
        .map(|n| n.trim_end_matches(".conf").to_string())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    // The reference reads a copy whose include names the stock common.conf directly.
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(tmp.path().join("filter.d")).expect("mkdir");
    for n in &names {
        let text = std::fs::read_to_string(dir.join(format!("{n}.conf"))).expect("read");
        let fixed: Vec<String> = text
            .lines()
            .map(|l| {
                if l.starts_with("before") && l.contains("common.conf") {
                    format!("before = {STOCK_FILTERS}/common.conf")
                } else {
                    l.to_string()
                }
            })
            .collect();
        std::fs::write(
            tmp.path().join(format!("filter.d/{n}.conf")),
            fixed.join("\n") + "\n",
        )
        .expect("write");
    }
    let refs = reference(tmp.path(), &names);
    for (n, r) in names.iter().zip(&refs) {
        assert!(
            r.result.get("error").is_none(),
            "{n}: reference failed: {}",
            r.result
        );
        let ours = read_filter_with_fallback(
            Path::new(TEST_CONFIG),
            n,
            &BTreeMap::new(),
            Path::new(STOCK_FILTERS),
        )
        .unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(canonical(&ours, None), r.result, "{n}");
        assert!(!ours.failregex.is_empty(), "{n}");
    }
}
