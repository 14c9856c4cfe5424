//! State file tests: `testdata/persist/NAME.state` is loaded and rendered; the rendering must
//! equal `NAME.expect` (records kept, problems reported, or the error). A `.state` without
//! `.expect` (random bytes) must load without panicking. Plus save/load round trips.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use fail2zig::persist::{self, BanRecord, PositionRecord, State};

fn render(path: &Path) -> String {
    let mut out = String::new();
    let loaded = match persist::load(path) {
        Ok(l) => l,
        Err(e) => {
            let msg = e.to_string().replace(&path.display().to_string(), "STATE");
            return format!("error {msg}\n");
        }
    };
    for b in &loaded.state.bans {
        let _ = writeln!(
            out,
            "ban {} {} {} {} count={} failures={} matches={}",
            b.jail,
            b.id,
            b.time_of_ban,
            b.bantime,
            b.ban_count,
            b.failures,
            b.matches.len()
        );
    }
    for p in &loaded.state.positions {
        let _ = writeln!(
            out,
            "position {} {} inode={} offset={} hash={}",
            p.jail,
            p.path.display(),
            p.inode,
            p.offset,
            p.hash
        );
    }
    for p in &loaded.problems {
        let _ = writeln!(out, "problem {p}");
    }
    out
}

#[test]
fn state_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/persist");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "state"))
        .collect();
    files.sort();
    assert!(files.len() >= 8);
    let mut failures = String::new();
    for f in &files {
        let got = render(f);
        let expect = f.with_extension("expect");
        if !expect.exists() {
            assert!(
                !got.starts_with("ban") && !got.starts_with("position"),
                "{}: {got}",
                f.display()
            );
            continue;
        }
        let want: String = fs::read_to_string(&expect)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        if got != want {
            let _ = writeln!(failures, "{}:\n--- want\n{want}--- got\n{got}", f.display());
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

fn sample() -> State {
    State {
        bans: vec![BanRecord {
            jail: "sshd".into(),
            id: "192.0.2.1".into(),
            time_of_ban: 1000,
            bantime: 600.0,
            ban_count: 1,
            failures: 3,
            matches: vec!["a \"quoted\" line\twith tab".into(), "ünïcödé".into()],
        }],
        positions: vec![PositionRecord {
            jail: "sshd".into(),
            path: "/var/log/auth.log".into(),
            inode: 5,
            dev: 6,
            offset: 7,
            hash: String::new(),
        }],
        cursors: vec![persist::CursorRecord {
            jail: "sshd-journal".into(),
            cursor: "s=0123;i=5;t=1700000000000000".into(),
        }],
    }
}

#[test]
fn save_is_atomic_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = persist::state_path(dir.path());
    assert_eq!(
        persist::load(&path).unwrap(),
        persist::Loaded::default(),
        "missing file = empty state"
    );
    persist::save(&path, &sample()).unwrap();
    let loaded = persist::load(&path).unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.state, sample());
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [persist::FILE_NAME], "no temp file left behind");
    // a second save replaces the first completely
    persist::save(&path, &State::default()).unwrap();
    assert_eq!(persist::load(&path).unwrap().state, State::default());
}

#[test]
fn every_prefix_of_a_file_loads() {
    // cut the file at every byte: never a panic, never a record that was not written, and
    // every complete line before the cut survives
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    persist::save(&full, &sample()).unwrap();
    let bytes = fs::read(&full).unwrap();
    let cut = dir.path().join("cut");
    for n in 0..bytes.len() {
        fs::write(&cut, &bytes[..n]).unwrap();
        let loaded = persist::load(&cut).unwrap();
        let lines_complete = bytes[..n].iter().filter(|&&b| b == b'\n').count();
        assert_eq!(
            loaded.state.bans.len(),
            usize::from(lines_complete >= 2),
            "cut at {n}"
        );
        assert_eq!(
            loaded.state.positions.len(),
            usize::from(lines_complete >= 3),
            "cut at {n}"
        );
        assert_eq!(
            loaded.problems.is_empty(),
            n == 0,
            "cut at {n}: {:?}",
            loaded.problems
        );
    }
}
