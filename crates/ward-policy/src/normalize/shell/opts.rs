//! Command-line option splitting for the programs the analyzer knows.
//!
//! Each program says which short letters and long names take a value; everything else is a
//! flag or a positional argument. `--` ends options. Short clusters (`-fsSLo out`) are split,
//! a value-taking letter consumes the rest of the cluster or the next argument.

use super::walk::Arg;

/// One option occurrence: its name as written (`-d`, `--data`) and its value, if it takes one.
#[derive(Debug, Clone)]
pub(crate) struct Opt {
    pub name: String,
    pub value: Option<Arg>,
}

/// Options and positional arguments of one invocation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Parsed {
    pub opts: Vec<Opt>,
    pub pos: Vec<Arg>,
}

impl Parsed {
    /// Any of `names` (`-f`, `--force`) present.
    pub fn has(&self, names: &[&str]) -> bool {
        self.opts.iter().any(|o| names.contains(&o.name.as_str()))
    }

    /// Values of every occurrence of any of `names`.
    pub fn values(&self, names: &[&str]) -> Vec<&Arg> {
        self.opts
            .iter()
            .filter(|o| names.contains(&o.name.as_str()))
            .filter_map(|o| o.value.as_ref())
            .collect()
    }

    /// The positional texts.
    pub fn pos_texts(&self) -> Vec<&str> {
        self.pos.iter().map(|a| a.text.as_str()).collect()
    }
}

/// Split `args`. `short_val`: letters that take a value; `long_val`: long names (with `--`) that
/// take a value. With `stop_at_first_pos`, everything after the first positional is positional
/// (for wrappers like `sudo cmd -x` and `xargs cmd -x`).
pub(crate) fn parse(
    args: &[Arg],
    short_val: &str,
    long_val: &[&str],
    stop_at_first_pos: bool,
) -> Parsed {
    let mut out = Parsed::default();
    let mut i = 0;
    let mut only_pos = false;
    while i < args.len() {
        let a = &args[i];
        let t = a.text.as_str();
        i += 1;
        if only_pos || t == "-" || !t.starts_with('-') || t.len() < 2 {
            out.pos.push(a.clone());
            if stop_at_first_pos {
                only_pos = true;
            }
            continue;
        }
        if t == "--" {
            only_pos = true;
            continue;
        }
        if let Some(long) = t.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(a.derive(v))),
                None => (t.to_string(), None),
            };
            let value = match inline {
                Some(v) => Some(v),
                None if long_val.contains(&name.as_str()) && i < args.len() => {
                    i += 1;
                    Some(args[i - 1].clone())
                }
                None => None,
            };
            out.opts.push(Opt { name, value });
            continue;
        }
        // Short cluster.
        let body = t.get(1..).unwrap_or("");
        for (idx, c) in body.char_indices() {
            if short_val.contains(c) {
                let rest = body.get(idx + c.len_utf8()..).unwrap_or("");
                let value = if !rest.is_empty() {
                    Some(a.derive(rest))
                } else if i < args.len() {
                    i += 1;
                    Some(args[i - 1].clone())
                } else {
                    None
                };
                out.opts.push(Opt {
                    name: format!("-{c}"),
                    value,
                });
                break;
            }
            out.opts.push(Opt {
                name: format!("-{c}"),
                value: None,
            });
        }
    }
    out
}
