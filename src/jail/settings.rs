//! Typed jail settings: what one jail counts and how long it bans. The daemon maps the native
//! configuration onto [`JailSettings`]; this file only validates and evaluates.
//!
//! # Compatibility
//! fail2ban evaluates `bantime.formula` and `bantime.factor` as Python expressions. fail2zig has
//! no Python evaluator: `bantime.factor` accepts plain arithmetic (numbers, `+ - * /`,
//! parentheses — e.g. `2.0 / 2.885385`), and `bantime.formula` accepts the two formulas fail2ban
//! ships in `jail.conf` (whitespace is ignored when comparing). Any other formula is refused when
//! the settings are built, with [`JailError::UnsupportedFormula`]. `bantime.multipliers` is
//! identical to fail2ban (space-separated integers, the last one reused beyond the end).

use super::JailError;

/// fail2ban's default `bantime.formula`.
pub const STOCK_FORMULA: &str = "ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor";
/// The exponential formula `jail.conf` offers as the "more aggressive example".
pub const EXP_FORMULA: &str =
    "ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)";

/// Default bound on tracked failure ids per jail (see `FailWindow` for the eviction policy).
/// Sized so that a flood of 1,000,000 unique addresses stays well below 64 MiB peak RSS
/// (measured by `tools/bench-memory.sh`).
pub const DEFAULT_MAX_TRACKED: usize = 100_000;

/// Everything one jail needs to count failures and decide bans.
#[derive(Debug, Clone, PartialEq)]
pub struct JailSettings {
    /// `maxretry`: weighted failures within `findtime` that trigger a ban (fail2ban code
    /// default 3).
    pub maxretry: u32,
    /// `findtime` in seconds (default 600).
    pub findtime: f64,
    /// `bantime` in seconds (default 600); exactly `-1` is permanent, other negative values make
    /// every ban expire at once (fail2ban logs `Ignore <ip>, expired bantime`).
    pub bantime: f64,
    /// `maxmatches`: matched lines kept per failure id and ban (default 5; 0 keeps none).
    pub maxmatches: usize,
    /// `dbmaxmatches`: matched lines kept per ban in the state file (default 10).
    pub dbmaxmatches: usize,
    /// `bantime.increment` and its companions; `None` when increment is off.
    pub increment: Option<Increment>,
    /// `ignoreip` entries, unparsed (address, CIDR, `addr/netmask`, IPv6 with or without
    /// brackets, or a DNS name resolved when the jail is built).
    pub ignoreip: Vec<String>,
    /// `ignoreself` (default true): ignore this host's own addresses.
    pub ignoreself: bool,
    /// Bound on failure ids tracked at once (not a fail2ban option); see `FailWindow`.
    pub max_tracked: usize,
    /// Bound on the bytes of matched lines the failure window keeps (not a fail2ban option).
    pub max_match_bytes: usize,
}

impl Default for JailSettings {
    /// fail2ban's *code* defaults (what the server uses when no command sets a value).
    fn default() -> Self {
        JailSettings {
            maxretry: 3,
            findtime: 600.0,
            bantime: 600.0,
            maxmatches: 5,
            dbmaxmatches: 10,
            increment: None,
            ignoreip: Vec::new(),
            ignoreself: true,
            max_tracked: DEFAULT_MAX_TRACKED,
            max_match_bytes: super::window::DEFAULT_MATCH_BUDGET,
        }
    }
}

impl JailSettings {
    /// Checks values fail2ban would refuse or that make no sense here.
    pub fn validate(&self) -> Result<(), JailError> {
        let bad = |key: &'static str, value: String, why: &'static str| {
            Err(JailError::InvalidSetting { key, value, why })
        };
        if !self.findtime.is_finite() {
            return bad("findtime", self.findtime.to_string(), "must be finite");
        }
        if !self.bantime.is_finite() {
            return bad("bantime", self.bantime.to_string(), "must be finite");
        }
        if self.max_tracked == 0 {
            return bad("max_tracked", "0".into(), "must be at least 1");
        }
        if let Some(inc) = &self.increment {
            for (key, v) in [
                ("bantime.maxtime", inc.maxtime),
                ("bantime.rndtime", inc.rndtime),
            ] {
                if v.is_some_and(|v| !v.is_finite()) {
                    return bad(key, format!("{v:?}"), "must be finite");
                }
            }
        }
        Ok(())
    }
}

/// How a ban time grows with the number of previous bans.
#[derive(Debug, Clone, PartialEq)]
pub enum Growth {
    /// `bantime.formula` (one of the two shipped by fail2ban).
    Formula(Formula),
    /// `bantime.multipliers`: `T * factor * m[min(count, len - 1)]`.
    Multipliers(Vec<u64>),
}

/// The `bantime.formula` values fail2zig evaluates natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formula {
    /// `ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor`.
    Stock,
    /// `ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)`.
    Exponential,
}

/// `bantime.increment = true` and its companion options.
#[derive(Debug, Clone, PartialEq)]
pub struct Increment {
    pub growth: Growth,
    /// `bantime.factor`, evaluated (default 1).
    pub factor: f64,
    /// `bantime.maxtime` in seconds.
    pub maxtime: Option<f64>,
    /// `bantime.rndtime` in seconds.
    pub rndtime: Option<f64>,
    /// `bantime.overalljails`: count previous bans in every jail.
    pub overalljails: bool,
}

impl Default for Increment {
    fn default() -> Self {
        Increment {
            growth: Growth::Formula(Formula::Stock),
            factor: 1.0,
            maxtime: None,
            rndtime: None,
            overalljails: false,
        }
    }
}

impl Increment {
    /// Builds the increment settings from fail2ban's option strings (`bantime.formula`,
    /// `bantime.factor`, `bantime.multipliers`); `maxtime`, `rndtime` and `overalljails` are set
    /// on the result. Multipliers, when given and non-empty, replace the formula, as in fail2ban.
    pub fn from_options(
        formula: Option<&str>,
        factor: Option<&str>,
        multipliers: Option<&str>,
    ) -> Result<Increment, JailError> {
        let factor = match factor.map(str::trim).filter(|f| !f.is_empty()) {
            Some(text) => eval_arithmetic(text).map_err(|why| JailError::InvalidSetting {
                key: "bantime.factor",
                value: text.to_string(),
                why,
            })?,
            None => 1.0,
        };
        let mults = multipliers.map(str::trim).filter(|m| !m.is_empty());
        let growth = match mults {
            Some(text) => Growth::Multipliers(parse_multipliers(text)?),
            None => Growth::Formula(match formula.map(str::trim).filter(|f| !f.is_empty()) {
                None => Formula::Stock,
                Some(f) => parse_formula(f)?,
            }),
        };
        Ok(Increment {
            growth,
            factor,
            ..Increment::default()
        })
    }

    /// The ban time for an address banned `count` times before, from jail bantime `time`,
    /// without the random part (fail2ban's `evformula` minus `rndtime`).
    pub fn ban_time(&self, time: f64, count: u32) -> f64 {
        let t = match &self.growth {
            Growth::Multipliers(m) => {
                let i = (count as usize).min(m.len() - 1);
                time * self.factor * m[i] as f64
            }
            Growth::Formula(Formula::Stock) => {
                let shift = count.min(20);
                time.max(time * (1u64 << shift) as f64 * self.factor)
            }
            Growth::Formula(Formula::Exponential) => {
                let f = self.factor;
                time.max(time * ((count as f64 + 1.0) * f).exp() / f.exp())
            }
        };
        match self.maxtime {
            Some(max) => t.min(max),
            None => t,
        }
    }
}

fn parse_formula(text: &str) -> Result<Formula, JailError> {
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let given = squeeze(text);
    if given == squeeze(STOCK_FORMULA) {
        Ok(Formula::Stock)
    } else if given == squeeze(EXP_FORMULA) {
        Ok(Formula::Exponential)
    } else {
        Err(JailError::UnsupportedFormula(text.to_string()))
    }
}

fn parse_multipliers(text: &str) -> Result<Vec<u64>, JailError> {
    text.split_whitespace()
        .map(|w| {
            w.parse::<u64>().map_err(|_| JailError::InvalidSetting {
                key: "bantime.multipliers",
                value: text.to_string(),
                why: "expected space-separated non-negative integers",
            })
        })
        .collect()
}

/// Evaluates `+ - * /`, unary minus, parentheses and decimal numbers.
pub(crate) fn eval_arithmetic(text: &str) -> Result<f64, &'static str> {
    let mut p = Arith {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.sum()?;
    p.skip_ws();
    if p.i != p.s.len() {
        return Err("unexpected text in arithmetic expression");
    }
    if !v.is_finite() {
        return Err("expression is not a finite number");
    }
    Ok(v)
}

struct Arith<'a> {
    s: &'a [u8],
    i: usize,
}

impl Arith<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }
    fn sum(&mut self) -> Result<f64, &'static str> {
        let mut v = self.product()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            let r = self.product()?;
            v = if op == b'+' { v + r } else { v - r };
        }
        Ok(v)
    }
    fn product(&mut self) -> Result<f64, &'static str> {
        let mut v = self.unary()?;
        while let Some(op @ (b'*' | b'/')) = self.peek() {
            self.i += 1;
            let r = self.unary()?;
            v = if op == b'*' { v * r } else { v / r };
        }
        Ok(v)
    }
    fn unary(&mut self) -> Result<f64, &'static str> {
        match self.peek() {
            Some(b'-') => {
                self.i += 1;
                Ok(-self.unary()?)
            }
            Some(b'+') => {
                self.i += 1;
                self.unary()
            }
            Some(b'(') => {
                self.i += 1;
                let v = self.sum()?;
                if self.peek() != Some(b')') {
                    return Err("missing closing parenthesis");
                }
                self.i += 1;
                Ok(v)
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_digit() || *c == b'.')
                {
                    self.i += 1;
                }
                let num = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| "bad number")?;
                num.parse::<f64>().map_err(|_| "bad number")
            }
            _ => Err("expected a number"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        assert_eq!(eval_arithmetic("1").unwrap(), 1.0);
        assert_eq!(eval_arithmetic(" 2 * (3 + 1) / 4 - -1").unwrap(), 3.0);
        assert!((eval_arithmetic("2.0 / 2.885385").unwrap() - 0.693_146).abs() < 1e-5);
        assert!(eval_arithmetic("math.e").is_err());
        assert!(eval_arithmetic("1/0").is_err());
        assert!(eval_arithmetic("(1").is_err());
    }

    #[test]
    fn formulas() {
        let stock = Increment::from_options(Some(STOCK_FORMULA), None, None).unwrap();
        assert_eq!(stock.growth, Growth::Formula(Formula::Stock));
        let spaced = "ban.Time*(1 << (ban.Count if ban.Count < 20 else 20))*banFactor";
        assert!(Increment::from_options(Some(spaced), None, None).is_ok());
        let err = Increment::from_options(Some("ban.Time * 3"), None, None).unwrap_err();
        assert!(err.to_string().contains("ban.Time * 3"));
        let m = Increment::from_options(Some("nonsense"), None, Some("1 2 4")).unwrap();
        assert_eq!(m.growth, Growth::Multipliers(vec![1, 2, 4]));
        assert!(Increment::from_options(None, None, Some("1 x")).is_err());
    }
}
