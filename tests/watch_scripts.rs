//! Log following against real temporary files: each `testdata/watch/*.txt` script writes,
//! rotates (rename + create, copytruncate, truncate, delete), restarts the watcher from saved
//! positions and polls; after each `poll` the `> ` lines are exactly the lines that must come out
//! (none lost, none twice).

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use fail2zig::persist::{self, PositionRecord};
use fail2zig::watch::{
    Encoding, FileChange, FilePosition, LogWatcher, ReadFrom, StartSeek, WatchOptions,
};

struct Run {
    dir: tempfile::TempDir,
    watcher: Option<LogWatcher>,
    glob: String,
    /// Extra globs followed in `tail` mode (`option tailglob`).
    tail_globs: Vec<String>,
    opts: WatchOptions,
    seek: Option<f64>,
}

fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b's' => out.push(b' '),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    out.push(u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap());
                    i += 2;
                }
                c => panic!("bad escape \\{}", c as char),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

impl Run {
    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn append(&self, name: &str, bytes: &[u8]) {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.p(name))
            .unwrap();
        f.write_all(bytes).unwrap();
    }

    fn start(&mut self, positions: Vec<FilePosition>) {
        let glob = self.p(&self.glob).to_string_lossy().into_owned();
        let mut w = if self.tail_globs.is_empty() {
            LogWatcher::new(&[glob], positions, self.opts.clone()).unwrap()
        } else {
            let mut modes = vec![(glob, self.opts.read_from)];
            for g in &self.tail_globs {
                modes.push((self.p(g).to_string_lossy().into_owned(), ReadFrom::Tail));
            }
            LogWatcher::with_modes(&modes, positions, self.opts.clone()).unwrap()
        };
        if let Some(not_before) = self.seek {
            w.set_start_seek(StartSeek {
                not_before,
                time_of: Box::new(|line: &str| {
                    line.strip_prefix("T=")?.split(' ').next()?.parse().ok()
                }),
            });
        }
        self.watcher = Some(w);
    }

    fn state_path(&self) -> PathBuf {
        persist::state_path(self.dir.path())
    }

    fn command(&mut self, words: &[&str], rest: &str) -> Vec<String> {
        match words[0] {
            "option" => match (words[1], words[2]) {
                ("tail", v) => {
                    self.opts.read_from = if v == "true" {
                        ReadFrom::Tail
                    } else {
                        ReadFrom::Head
                    }
                }
                ("inotify", v) => self.opts.inotify = v == "true",
                ("budget", v) => self.opts.read_budget = v.parse().unwrap(),
                ("max_line", v) => self.opts.max_line_bytes = v.parse().unwrap(),
                ("encoding", v) => self.opts.encoding = Encoding::parse(v).unwrap(),
                ("seek", v) => self.seek = Some(v.parse().unwrap()),
                ("glob", v) => self.glob = v.to_string(),
                ("tailglob", v) => self.tail_globs.push(v.to_string()),
                ("drain_ms", v) => {
                    self.opts.drain_grace = std::time::Duration::from_millis(v.parse().unwrap())
                }
                ("rescan_ms", v) => {
                    self.opts.rescan_interval = std::time::Duration::from_millis(v.parse().unwrap())
                }
                (k, _) => panic!("unknown option {k}"),
            },
            "append" => {
                let mut bytes = unescape(rest.split_once(' ').map_or("", |r| r.1));
                bytes.push(b'\n');
                self.append(words[1], &bytes);
            }
            "write" => self.append(
                words[1],
                &unescape(rest.split_once(' ').map_or("", |r| r.1)),
            ),
            "rename" => fs::rename(self.p(words[1]), self.p(words[2])).unwrap(),
            "copy" => {
                fs::copy(self.p(words[1]), self.p(words[2])).unwrap();
            }
            "truncate" => {
                OpenOptions::new()
                    .write(true)
                    .open(self.p(words[1]))
                    .unwrap()
                    .set_len(0)
                    .unwrap();
            }
            "delete" => fs::remove_file(self.p(words[1])).unwrap(),
            "mkdir" => fs::create_dir(self.p(words[1])).unwrap(),
            "start" => self.start(Vec::new()),
            "stop" => {
                // save positions through the state file, as the daemon does at stop
                let w = self.watcher.take().unwrap();
                let positions = w
                    .positions()
                    .into_iter()
                    .map(|p| PositionRecord::from_position("test", p))
                    .collect();
                persist::save(
                    &self.state_path(),
                    &persist::State {
                        bans: Vec::new(),
                        positions,
                        cursors: Vec::new(),
                    },
                )
                .unwrap();
            }
            "restart" => {
                let loaded = persist::load(&self.state_path()).unwrap();
                assert!(loaded.problems.is_empty());
                let positions = loaded.state.positions_for("test");
                self.start(positions);
            }
            "poll" => return self.poll(),
            "pending" => return vec![format!("{}", self.watcher.as_ref().unwrap().has_pending())],
            "files" => {
                let base = self.dir.path();
                return self
                    .watcher
                    .as_ref()
                    .unwrap()
                    .files()
                    .iter()
                    .map(|f| f.strip_prefix(base).unwrap().display().to_string())
                    .collect();
            }
            "position" => {
                let w = self.watcher.as_ref().unwrap();
                return w
                    .positions()
                    .iter()
                    .map(|p| {
                        format!(
                            "{} {}",
                            p.path.file_name().unwrap().to_string_lossy(),
                            p.offset
                        )
                    })
                    .collect();
            }
            "changes" => {
                let w = self.watcher.as_mut().unwrap();
                let base = self.dir.path();
                let rel = |p: &Path| p.strip_prefix(base).unwrap().display().to_string();
                return w
                    .take_changes()
                    .iter()
                    .map(|c| match c {
                        FileChange::Added(p) => {
                            format!("added {} pos={} hash={}", rel(&p.path), p.offset, p.hash)
                        }
                        FileChange::Removed(p) => format!("removed {}", rel(p)),
                        FileChange::Rotated(p) => format!("rotated {}", rel(p)),
                    })
                    .collect();
            }
            "errors" => {
                let w = self.watcher.as_mut().unwrap();
                let base = format!("{}/", self.dir.path().display());
                return w
                    .take_errors()
                    .iter()
                    .map(|e| e.to_string().replace(&base, ""))
                    .collect();
            }
            other => panic!("unknown command {other}"),
        }
        Vec::new()
    }

    fn poll(&mut self) -> Vec<String> {
        let w = self.watcher.as_mut().unwrap();
        let lines = w.poll().unwrap();
        lines
            .iter()
            .map(|l| {
                let name = l.path.file_name().unwrap().to_string_lossy().into_owned();
                let mut flags = String::new();
                if !l.in_operation {
                    flags.push_str(" [catchup]");
                }
                if l.truncated {
                    flags.push_str(" [cut]");
                }
                format!("{name}: {}{flags}", l.text.escape_debug())
            })
            .collect()
    }
}

#[test]
fn watch_scripts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/watch");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "watch scripts missing");
    let mut failures = String::new();
    for file in &files {
        for inotify in [false, true] {
            let fname = format!(
                "{} (inotify {inotify})",
                file.file_name().unwrap().to_string_lossy()
            );
            let mut run = Run {
                dir: tempfile::tempdir().unwrap(),
                watcher: None,
                glob: "*.log".into(),
                tail_globs: Vec::new(),
                opts: WatchOptions {
                    inotify,
                    ..WatchOptions::default()
                },
                seek: None,
            };
            let text = fs::read_to_string(file).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let mut i = 0;
            while i < lines.len() {
                let line = lines[i];
                i += 1;
                if line.starts_with('#') || line.trim().is_empty() {
                    continue;
                }
                let words: Vec<&str> = line.split_whitespace().collect();
                let rest = line.split_once(' ').map_or("", |r| r.1);
                let got = run.command(&words, rest);
                let mut want = Vec::new();
                while i < lines.len() && lines[i].starts_with('>') {
                    want.push(lines[i][1..].trim_start().to_string());
                    i += 1;
                }
                if got != want {
                    let _ = writeln!(
                        failures,
                        "{fname}:{i}: `{line}`\n  want {want:#?}\n  got  {got:#?}"
                    );
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}
