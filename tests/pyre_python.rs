//! Differential tests of `filter::pyre` against the real Python `re` (tools/pyre-oracle.py):
//! the cases of testdata/pyre, generated texts for each of their patterns, and every resolved
//! regex of every stock fail2ban filter (tools/pyre-dump-stock-regexes.py, run through the
//! installed fail2ban) on every line of fail2ban's sample logs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fail2zig::filter::pyre::{GateSet, Options, Regex};
use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const F2B_LOGS: &str = "/usr/lib/python3/dist-packages/fail2ban/tests/files/logs";

/// The interpreter fail2ban runs with (it has the fail2ban package).
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// Run a tool with `input` on stdin; its stdout.
fn run_tool(args: &[&str], input: &str) -> String {
    let mut child = Command::new(python())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} {args:?}: {e}", python()));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("tool output");
    writer.join().expect("writer").expect("write stdin");
    assert!(out.status.success(), "{args:?} failed: {:?}", out.status);
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn oracle() -> String {
    format!("{ROOT}/tools/pyre-oracle.py")
}

fn options(flags: &str) -> Options {
    Options {
        ignore_case: flags.contains('i'),
        multiline: flags.contains('m'),
        dotall: flags.contains('s'),
    }
}

fn spans(r: &Regex, hay: &str, pos: usize, endpos: usize) -> Value {
    match r.search_range(hay, pos, endpos) {
        None => Value::Null,
        Some(c) => Value::Array(
            (0..c.len())
                .map(|i| c.get(i).map_or(Value::Null, |(s, e)| json!([s, e])))
                .collect(),
        ),
    }
}

/// Compiled patterns by (pattern, flags), so a pattern searched many times compiles once.
type Compiled = std::collections::HashMap<(String, String), Result<Regex, String>>;

/// Our answer in the oracle's shape.
fn ours(case: &Value, compiled: &mut Compiled) -> Value {
    let hay = case["hay"].as_str().unwrap_or_default();
    let pos = case["pos"].as_u64().unwrap_or(0) as usize;
    let endpos = case["endpos"].as_u64().map_or(hay.len(), |e| e as usize);
    let flags = case["flags"].as_str().unwrap_or_default();
    let re = case["re"].as_str().unwrap_or_default();
    let r = compiled
        .entry((re.to_string(), flags.to_string()))
        .or_insert_with(|| Regex::new(re, &options(flags)).map_err(|e| e.to_string()));
    match r {
        Err(e) => json!({ "error": e }),
        Ok(r) => json!({ "groups": spans(r, hay, pos, endpos) }),
    }
}

fn known_divergences() -> Vec<String> {
    let text = std::fs::read_to_string(format!("{ROOT}/testdata/pyre/divergences.txt"))
        .expect("divergences.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t').map(|(p, _)| p.to_string()))
        .collect()
}

fn case_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(format!("{ROOT}/testdata/pyre"))
        .expect("testdata/pyre")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    v.sort();
    v
}

fn cases() -> Vec<Value> {
    let mut out = vec![];
    for path in case_files() {
        let text = std::fs::read_to_string(&path).expect("read cases");
        for line in text.lines() {
            if !line.trim().is_empty() && !line.starts_with('#') {
                let mut case: Value = serde_json::from_str(line).expect("JSON case");
                if let Some(o) = case.as_object_mut() {
                    o.remove("expect");
                }
                out.push(case);
            }
        }
    }
    out
}

/// Compare ours with Python on `requests`; returns the number compared, how many Python
/// matched, and the listed divergences that showed.
fn differential(requests: &[Value]) -> (usize, usize, std::collections::BTreeSet<String>) {
    let input: String = requests.iter().map(|r| format!("{r}\n")).collect();
    let answers = run_tool(&[&oracle()], &input);
    let answers: Vec<Value> = answers
        .lines()
        .map(|l| serde_json::from_str(l).expect("oracle JSON"))
        .collect();
    assert_eq!(
        answers.len(),
        requests.len(),
        "oracle answered every request"
    );
    let known = known_divergences();
    let mut failures = vec![];
    let mut shown = std::collections::BTreeSet::new();
    let mut gates = std::collections::HashMap::new();
    let mut compiled = Compiled::new();
    for (req, py) in requests.iter().zip(&answers) {
        let got = ours(req, &mut compiled);
        let agree = match (py.get("error"), got.get("error")) {
            (Some(_), Some(_)) => true,
            (None, None) => py["groups"] == got["groups"],
            _ => false,
        };
        let listed = known.iter().any(|k| req["re"] == k.as_str());
        if !agree && !listed {
            failures.push(format!("{req}: python {py}, ours {got}"));
        }
        if !agree && listed {
            shown.insert(req["re"].as_str().unwrap_or_default().to_string());
        }
        let whole = req.get("pos").is_none() && req.get("endpos").is_none();
        // `is_match` agrees with `search`.
        let key = (
            req["re"].as_str().unwrap_or_default().to_string(),
            req["flags"].as_str().unwrap_or_default().to_string(),
        );
        if let (true, Some(Ok(r))) = (whole, compiled.get(&key)) {
            let hay = req["hay"].as_str().unwrap_or_default();
            if r.is_match(hay) != py["groups"].is_array() {
                failures.push(format!("{req}: is_match disagrees with python {py}"));
            }
        }
        // The gates (alone and as a GateSet) never reject a text Python matches.
        if whole && py["groups"].is_array() {
            let key = (req["re"].to_string(), req["flags"].to_string());
            let gate = gates.entry(key).or_insert_with(|| {
                let flags = req["flags"].as_str().unwrap_or_default();
                let r = Regex::new(req["re"].as_str().unwrap_or_default(), &options(flags)).ok()?;
                GateSet::new(&[&r]).ok()
            });
            let hay = req["hay"].as_str().unwrap_or_default();
            if gate.as_ref().is_some_and(|g| g.candidates(hay) != [0]) {
                failures.push(format!("{req}: gate rejects a text Python matches"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ from Python:\n{}",
        failures.len(),
        requests.len(),
        failures.join("\n")
    );
    let matched = answers.iter().filter(|a| a["groups"].is_array()).count();
    (requests.len(), matched, shown)
}

#[test]
fn cases_agree_with_live_python() {
    let (n, _, _) = differential(&cases());
    assert!(n > 100);
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Texts built from the pattern's own characters plus a few hard ones.
fn generated_texts(pattern: &str, rng: &mut Rng, count: usize) -> Vec<String> {
    let mut alphabet: Vec<char> = pattern
        .chars()
        .filter(|c| !"\\()[]{}*+?|^$".contains(*c))
        .collect();
    alphabet.extend([
        'a', 'b', 'x', '1', ' ', ':', '\n', '<', '>', '"', 'é', '\u{1c}', '_', '-',
    ]);
    (0..count)
        .map(|_| {
            let len = rng.below(12);
            (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect()
        })
        .collect()
}

#[test]
fn generated_texts_agree_with_live_python() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut requests = vec![];
    let mut seen = std::collections::BTreeSet::new();
    for case in cases() {
        let key = (case["re"].to_string(), case["flags"].to_string());
        if !seen.insert(key) {
            continue;
        }
        let pattern = case["re"].as_str().unwrap_or_default();
        for hay in generated_texts(pattern, &mut rng, 40) {
            let mut req = json!({ "re": case["re"], "flags": case["flags"], "hay": hay });
            let len = hay.len();
            if rng.below(4) == 0 && len > 0 {
                let pos = rng.below(len + 1);
                let endpos = pos + rng.below(len + 1 - pos);
                if hay.is_char_boundary(pos) && hay.is_char_boundary(endpos) {
                    req["pos"] = json!(pos);
                    req["endpos"] = json!(endpos);
                }
            }
            requests.push(req);
        }
    }
    let (n, _, shown) = differential(&requests);
    println!("{n} generated searches agree with Python");
    for k in known_divergences() {
        assert!(
            shown.contains(&k),
            "listed divergence {k:?} no longer shows: remove it"
        );
    }
}

/// Every line of fail2ban's sample logs, as fail2ban searches it (with its final `\n`).
fn corpus_lines() -> Vec<String> {
    let mut files = vec![];
    let mut dirs = vec![PathBuf::from(F2B_LOGS)];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut lines = std::collections::BTreeSet::new();
    for f in files {
        let bytes = std::fs::read(&f).expect("read log");
        let text = String::from_utf8_lossy(&bytes);
        for l in text.lines() {
            let l = l.trim_end_matches('\r');
            if !l.trim().is_empty() && !l.starts_with('#') {
                lines.insert(format!("{l}\n"));
            }
        }
    }
    lines.into_iter().collect()
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}

/// The stock regexes (pattern, flags, "filter/mode/logtype"), as fail2ban resolves them.
fn stock_regexes() -> Vec<(String, String, String)> {
    let dump = run_tool(&[&format!("{ROOT}/tools/pyre-dump-stock-regexes.py")], "");
    dump.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("dump JSON");
            if let Some(why) = v.get("unreadable") {
                panic!("fail2ban cannot read {}: {why}", v["filter"]);
            }
            let flags = if v["multiline"] == true { "m" } else { "" };
            (
                v["regex"].as_str().expect("regex").to_string(),
                flags.to_string(),
                format!("{}/{}/{}", v["filter"], v["mode"], v["logtype"]),
            )
        })
        .collect()
}

/// Texts that attack the rewritten forms of sshd's failregexes: user names holding
/// ` from `, several ` from `, `: ` at the end, publickey, empty users, partial literals,
/// non-ASCII.
fn sshd_texts() -> Vec<String> {
    let methods = ["password", "publickey", "none"];
    let invalid = ["", "invalid user "];
    let users = [
        "root",
        "",
        "x from 10.9.8.7",
        "a b c",
        "a:b",
        "from",
        " from ",
        "é ü",
        "x fro",
        "invalid user y",
    ];
    let hosts = ["192.0.2.50", "2001:db8::1", "host.example"];
    let ports = ["", " port 22", " port 22 on eth0"];
    let ssh = ["", " ssh2"];
    let tails = [
        "",
        ": RSA SHA256:abc",
        ": ",
        " from 198.51.100.1",
        " [preauth]",
        " fro",
        " é",
    ];
    let mut out = vec![];
    for m in methods {
        for i in invalid {
            for u in users {
                for h in hosts {
                    for (k, p) in ports.iter().enumerate() {
                        for s in ssh {
                            for t in tails {
                                let nl = if (k + t.len()) % 2 == 0 { "\n" } else { "" };
                                out.push(format!("Failed {m} for {i}{u} from {h}{p}{s}{t}{nl}"));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// Random texts from the pattern's own literal runs and fragments that matter to the rewrites.
fn fragment_texts(pattern: &str, rng: &mut Rng, count: usize) -> Vec<String> {
    let mut frags: Vec<String> = pattern
        .split(|c: char| "\\()[]{}*+?|^$.".contains(c))
        .filter(|f| !f.is_empty() && !f.starts_with("?P<"))
        .map(str::to_string)
        .collect();
    frags.extend(
        [
            " from ",
            "from",
            " fro",
            "m ",
            "ip=",
            "RemoteAddress=",
            "err",
            "- ",
            "evasive",
            "error",
            "info",
            "10.9.8.7",
            "2001:db8::1",
            " port 22",
            ": ",
            ":",
            " ",
            "é",
            "x",
            "=",
            "\"",
            ",",
            "\n",
        ]
        .map(str::to_string),
    );
    let head: String = pattern
        .trim_start_matches('^')
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == ' ')
        .collect();
    (0..count)
        .map(|_| {
            let mut t = if rng.below(2) == 0 {
                head.clone()
            } else {
                String::new()
            };
            for _ in 0..3 + rng.below(10) {
                t.push_str(&frags[rng.below(frags.len())]);
            }
            t
        })
        .collect()
}

#[test]
fn rewritten_stock_regexes_agree_on_adversarial_texts() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut requests = vec![];
    let mut seen = std::collections::BTreeSet::new();
    let sshd = sshd_texts();
    let mut rewritten = 0;
    for (re, flags, _) in stock_regexes() {
        if !seen.insert((re.clone(), flags.clone())) {
            continue;
        }
        let r = Regex::new(&re, &options(&flags)).unwrap_or_else(|e| panic!("{e}"));
        let t = r.translation();
        if t.marks.is_empty() && t.group_map.len() == r.group_count() && !re.contains("(?(") {
            continue;
        }
        rewritten += 1;
        let mut texts = fragment_texts(&re, &mut rng, 300);
        if re.starts_with("^Failed") {
            texts.extend(sshd.iter().cloned());
        }
        for hay in texts {
            requests.push(json!({ "re": re, "flags": flags, "hay": hay }));
        }
    }
    assert!(rewritten >= 10, "only {rewritten} rewritten stock regexes");
    let (n, matched, _) = differential(&requests);
    println!(
        "{rewritten} rewritten stock regexes: {n} adversarial searches ({matched} matches) agree \
         with Python"
    );
    assert!(
        matched > 1000,
        "only {matched} of the adversarial texts match"
    );
}

#[test]
fn every_stock_regex_compiles_and_agrees_on_the_corpus() {
    let dump = run_tool(&[&format!("{ROOT}/tools/pyre-dump-stock-regexes.py")], "");
    let mut regexes: Vec<(String, String)> = vec![];
    let mut filters: Vec<String> = vec![];
    for line in dump.lines() {
        let v: Value = serde_json::from_str(line).expect("dump JSON");
        if let Some(why) = v.get("unreadable") {
            panic!("fail2ban cannot read {}: {why}", v["filter"]);
        }
        let flags = if v["multiline"] == true { "m" } else { "" };
        regexes.push((
            v["regex"].as_str().expect("regex").to_string(),
            flags.into(),
        ));
        filters.push(format!("{}/{}/{}", v["filter"], v["mode"], v["logtype"]));
    }
    assert_eq!(filters.len(), regexes.len());
    assert!(regexes.len() > 300, "only {} stock regexes", regexes.len());
    let compiled: Vec<Regex> = regexes
        .iter()
        .map(|(r, f)| {
            Regex::new(r, &options(f))
                .and_then(|re| re.compile_all().map(|()| re))
                .unwrap_or_else(|e| panic!("{}", chain(&e)))
        })
        .collect();
    let lines = corpus_lines();
    let input = json!({ "regexes": regexes, "lines": lines }).to_string();
    let out = run_tool(&[&oracle(), "--bulk"], &input);
    let mut python = std::collections::BTreeMap::new();
    for l in out.lines() {
        let v: Value = serde_json::from_str(l).expect("bulk JSON");
        assert!(
            v[1] != "error",
            "python cannot compile {}: {}",
            regexes[v[0].as_u64().unwrap_or(0) as usize].0,
            v[2]
        );
        python.insert(
            (
                v[0].as_u64().unwrap_or(0) as usize,
                v[1].as_u64().unwrap_or(0) as usize,
            ),
            v[2].clone(),
        );
    }
    // One GateSet per filter (as the filter engine builds them) must never miss a match.
    let mut failures = vec![];
    let names: std::collections::BTreeSet<&String> = filters.iter().collect();
    for name in names {
        let members: Vec<usize> = (0..compiled.len())
            .filter(|i| &filters[*i] == name)
            .collect();
        let refs: Vec<&Regex> = members.iter().map(|i| &compiled[*i]).collect();
        let gates = GateSet::new(&refs).unwrap_or_else(|e| panic!("{name}: {e}"));
        gates
            .compile_all()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (li, line) in lines.iter().enumerate() {
            let cands = gates.candidates(line);
            for (k, ri) in members.iter().enumerate() {
                if python.contains_key(&(*ri, li)) && !cands.contains(&k) {
                    failures.push(format!("gate set misses {:?} on {line:?}", regexes[*ri].0));
                }
            }
        }
    }
    let mut matches = 0;
    for (ri, re) in compiled.iter().enumerate() {
        for (li, line) in lines.iter().enumerate() {
            let got = spans(re, line, 0, line.len());
            let want = python.get(&(ri, li)).cloned().unwrap_or(Value::Null);
            if !got.is_null() {
                matches += 1;
            }
            if got != want {
                failures.push(format!(
                    "{:?} on {line:?}: python {want}, ours {got}",
                    re.as_str()
                ));
            }
        }
    }
    println!(
        "{} stock regexes of {} filters x {} corpus lines: {} matches, {} differences",
        compiled.len(),
        filters
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        lines.len(),
        matches,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{}",
        failures[..failures.len().min(20)].join("\n")
    );
}
