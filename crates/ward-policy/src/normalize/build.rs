//! Install-time hooks and build files: text that package managers and build tools run without
//! anyone reading it again. `package.json` lifecycle scripts, Makefile recipes and `$(shell …)`,
//! `setup.py`/`conftest.py` and other auto-run Python, Ruby `Gemfile`/`Rakefile`, `pyproject.toml`
//! script tables, `.npmrc`/`.yarnrc`/`.yarnrc.yml` (`script-shell`, `yarnPath`, plugins),
//! devcontainer lifecycle commands and run arguments, `.envrc`, husky hooks, pre-commit `entry`,
//! `.git/config` command keys, `justfile` recipes and Taskfile `cmds`.
//!
//! Each command found is analysed as shell ([`super::analyze_shell`]); code in other languages is
//! analysed through the interpreter it runs under (`python3 -c '…'`), so both parsers' guards apply.

use super::content::{
    MAX_CONTENT, MAX_SNIPPETS, key_values, parse_jsonc, quote, toml_value, unquote_yaml,
    yaml_scripts,
};
use crate::facts::{Facts, NormalizeEnv};
use serde_json::Value;

/// npm lifecycle scripts: run by `npm install`, `npm publish`, `npm pack`, … without being named.
const LIFECYCLE: &[&str] = &[
    "preinstall",
    "install",
    "postinstall",
    "preuninstall",
    "uninstall",
    "postuninstall",
    "prepare",
    "preprepare",
    "postprepare",
    "prepublish",
    "prepublishOnly",
    "prepack",
    "postpack",
    "publish",
    "postpublish",
    "preversion",
    "version",
    "postversion",
    "dependencies",
    "pnpm:devPreinstall",
];

/// Scripts an assistant runs all day (`npm test`): analysed when only a fragment is known.
const COMMON_SCRIPTS: &[&str] = &[
    "test",
    "pretest",
    "posttest",
    "build",
    "prebuild",
    "postbuild",
    "start",
    "prestart",
    "poststart",
    "dev",
    "lint",
    "format",
    "serve",
    "watch",
    "compile",
    "setup",
    "bootstrap",
];

/// The kind of build or hook file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    PackageJson,
    Makefile,
    Python,
    PythonPth,
    Ruby,
    PyProject,
    NpmRc,
    YarnRcYml,
    DevContainer,
    Shell,
    PreCommit,
    GitConfig,
    Justfile,
    Taskfile,
}

fn kind(path: &str) -> Option<Kind> {
    let base = path.rsplit('/').next().unwrap_or(path);
    let parent = path.rsplit('/').nth(1).unwrap_or("");
    Some(match base {
        "package.json" | "composer.json" | "deno.json" | "deno.jsonc" => Kind::PackageJson,
        "Makefile" | "makefile" | "GNUmakefile" => Kind::Makefile,
        b if b.ends_with(".mk") => Kind::Makefile,
        "setup.py" | "conftest.py" | "sitecustomize.py" | "usercustomize.py" | "noxfile.py" => {
            Kind::Python
        }
        b if b.ends_with(".pth") => Kind::PythonPth,
        "Gemfile" | "Rakefile" | "rakefile" => Kind::Ruby,
        b if b.ends_with(".gemspec") => Kind::Ruby,
        "pyproject.toml" => Kind::PyProject,
        ".npmrc" | ".yarnrc" => Kind::NpmRc,
        ".yarnrc.yml" | ".yarnrc.yaml" => Kind::YarnRcYml,
        "devcontainer.json" | ".devcontainer.json" => Kind::DevContainer,
        ".envrc" => Kind::Shell,
        b if parent == ".husky" && !b.starts_with('_') && !b.contains('.') => Kind::Shell,
        ".pre-commit-config.yaml" | ".pre-commit-config.yml" => Kind::PreCommit,
        "config" if parent == ".git" => Kind::GitConfig,
        "justfile" | "Justfile" | ".justfile" => Kind::Justfile,
        "Taskfile.yml" | "Taskfile.yaml" | "taskfile.yml" | "taskfile.yaml" => Kind::Taskfile,
        _ => return None,
    })
}

/// Facts of what `content`, written to `path`, makes run later. `None`: not a build/hook file.
pub(crate) fn scan(path: &str, content: &str, env: &NormalizeEnv) -> Option<Facts> {
    let kind = kind(path)?;
    let mut f = Facts::default();
    if content.len() > MAX_CONTENT {
        f.notes.push("content too large to scan".into());
        return Some(f);
    }
    let base = path.rsplit('/').next().unwrap_or(path).to_string();
    let mut commands: Vec<(String, String)> = Vec::new();
    match kind {
        Kind::PackageJson => {
            for (name, script) in package_scripts(content) {
                commands.push((format!("`{base}` script `{name}`"), script));
            }
        }
        Kind::Makefile => {
            for c in make_commands(content) {
                commands.push((format!("`{base}` recipe"), c));
            }
        }
        Kind::Python => {
            for c in interpreter("python3", content) {
                commands.push((format!("`{base}`"), c));
            }
        }
        Kind::PythonPth => {
            let code: Vec<&str> = content
                .lines()
                .filter(|l| l.starts_with("import ") || l.starts_with("import\t"))
                .collect();
            if !code.is_empty() {
                f.notes.push(format!(
                    "`{base}` runs Python code at every interpreter start"
                ));
                for c in interpreter("python3", &code.join("\n")) {
                    commands.push((format!("`{base}`"), c));
                }
            }
        }
        Kind::Ruby => {
            for c in interpreter("ruby", content) {
                commands.push((format!("`{base}`"), c));
            }
        }
        Kind::PyProject => {
            for (k, v) in key_values(content) {
                let table = k
                    .rsplit_once('.')
                    .map_or("", |(t, _)| t)
                    .to_ascii_lowercase();
                let entry_points = matches!(
                    table.as_str(),
                    "project.scripts" | "project.gui-scripts" | "tool.poetry.scripts"
                ) || table.starts_with("project.entry-points");
                let runs = ["scripts", "tasks", "hooks", "commands"]
                    .iter()
                    .any(|w| table.contains(w));
                if runs && !entry_points {
                    for c in value_commands(&toml_value(&v)) {
                        commands.push((format!("`{base}` `{k}`"), c));
                    }
                }
            }
        }
        Kind::NpmRc => npmrc(&base, content, env, &mut f, &mut commands),
        Kind::YarnRcYml => yarnrc_yml(&base, content, env, &mut f),
        Kind::DevContainer => devcontainer(&base, content, &mut commands),
        Kind::Shell => commands.push((format!("`{base}`"), content.to_string())),
        Kind::PreCommit => {
            for c in yaml_scripts(content, &["entry"]) {
                commands.push((format!("`{base}` hook entry"), c));
            }
        }
        Kind::GitConfig => git_config(content, &mut f, &mut commands),
        Kind::Justfile => {
            for line in content.lines() {
                if line.starts_with([' ', '\t']) && !line.trim().is_empty() {
                    let l = line.trim().trim_start_matches(['@', '-']);
                    commands.push((format!("`{base}` recipe"), l.to_string()));
                }
            }
        }
        Kind::Taskfile => {
            for c in yaml_scripts(content, &["cmds", "cmd"]) {
                commands.push((format!("`{base}` task"), c));
            }
        }
    }
    for (what, line) in commands.into_iter().take(MAX_SNIPPETS) {
        let mut sub = super::analyze_shell(&line, env);
        // Build files routinely install tools with `curl … | sh` from the developer hosts on
        // the allowlist; running that later is flagged when it is run. Code fetched from an
        // unknown host is what an install hook attack looks like.
        if sub.download_to_interpreter && !sub.external_host {
            sub.download_to_interpreter = false;
            sub.notes
                .push("downloads and runs code from an allowlisted host".into());
        }
        // A hook that installs persistence outside the repository (`~/.bashrc`, crontab), not
        // `git config core.hooksPath .githooks`.
        let persists = sub.writes_persistence
            && (sub.writes_outside_workspace
                || ["crontab", "systemctl", "launchctl"]
                    .iter()
                    .any(|p| sub.programs.contains(*p)));
        f.writes_persistence |= persists;
        super::absorb_later(&mut f, sub, &what);
    }
    Some(f)
}

/// Code fed to its interpreter on stdin through a quoted here-document (no escaping, so the
/// text is analysed as written), in pieces that fit the shell analyser's input cap. The
/// delimiter is one the code does not contain, so the code cannot end the here-document.
fn interpreter(program: &str, code: &str) -> Vec<String> {
    let mut n = 0u32;
    let delim = loop {
        let d = format!("WARD_CODE_{n}");
        if !code.contains(&d) {
            break d;
        }
        n += 1;
    };
    let budget = super::MAX_INPUT - 256;
    let mut out = Vec::new();
    let mut chunk = String::new();
    for line in code.lines() {
        if !chunk.is_empty() && chunk.len() + line.len() + 1 > budget {
            out.push(std::mem::take(&mut chunk));
        }
        let mut end = line.len().min(budget);
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        chunk.push_str(line.get(..end).unwrap_or(""));
        chunk.push('\n');
    }
    if !chunk.trim().is_empty() {
        out.push(chunk);
    }
    out.into_iter()
        .take(8)
        .map(|c| format!("{program} <<'{delim}'\n{c}{delim}\n"))
        .collect()
}

/// Shell lines of a configuration value: a string, an argv array, or a map of either.
fn value_commands(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => vec![s.clone()],
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_string) => vec![
            a.iter()
                .filter_map(Value::as_str)
                .map(quote)
                .collect::<Vec<_>>()
                .join(" "),
        ],
        Value::Object(o) => o.values().flat_map(value_commands).collect(),
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------- package.json

/// Scripts of a whole `package.json` (every entry of `scripts`), or, for a fragment (an edit or a
/// patch hunk), the `"name": "command"` lines whose name is a lifecycle or everyday script.
fn package_scripts(content: &str) -> Vec<(String, String)> {
    if let Some(Value::Object(o)) = parse_jsonc(content) {
        // npm/composer `scripts`, deno `tasks`; composer scripts may be lists of commands.
        return match o.get("scripts").or_else(|| o.get("tasks")) {
            Some(Value::Object(s)) => s
                .iter()
                .flat_map(|(k, v)| {
                    let lines: Vec<String> = match v {
                        Value::Array(a) => a
                            .iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect(),
                        _ => value_commands(v),
                    };
                    lines.into_iter().map(move |l| (k.clone(), l))
                })
                .collect(),
            _ => Vec::new(),
        };
    }
    let mut out = Vec::new();
    for line in content.lines() {
        let Some((k, v)) = json_pair(line) else {
            continue;
        };
        if LIFECYCLE.contains(&k.as_str())
            || COMMON_SCRIPTS.contains(&k.as_str())
            || (k.starts_with("pre-") || k.starts_with("post-")) && k.ends_with("-cmd")
        {
            out.push((k, v));
        }
    }
    out
}

/// `"key": "value"` on one line (JSON string escapes honoured).
fn json_pair(line: &str) -> Option<(String, String)> {
    let l = line.trim_start();
    let (key, rest) = json_string(l)?;
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let (value, _) = json_string(rest)?;
    Some((key, value))
}

/// A JSON string literal at the start of `s`, and the text after it.
fn json_string(s: &str) -> Option<(String, &str)> {
    if !s.starts_with('"') {
        return None;
    }
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => {
                let lit = s.get(..=i)?;
                let value: String = serde_json::from_str(lit).ok()?;
                return Some((value, s.get(i + 1..).unwrap_or("")));
            }
            _ => i += 1,
        }
    }
    None
}

// ---------------------------------------------------------------------- Makefile

/// Recipe lines (tab-indented, continuations joined, `@`/`-`/`+` prefixes dropped) and the bodies
/// of `$(shell …)`, with make variables rewritten as shell parameters.
fn make_commands(content: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in content.lines() {
        if let Some(mut c) = current.take() {
            c.push('\n');
            c.push_str(line.trim_start());
            if line.ends_with('\\') {
                current = Some(c);
            } else {
                out.push(c);
            }
            continue;
        }
        if let Some(recipe) = line.strip_prefix('\t') {
            let r = recipe
                .trim_start()
                .trim_start_matches(['@', '-', '+'])
                .to_string();
            if r.ends_with('\\') {
                current = Some(r);
            } else if !r.trim().is_empty() && !r.trim_start().starts_with('#') {
                out.push(r);
            }
        }
    }
    if let Some(c) = current {
        out.push(c);
    }
    let mut from = 0;
    while let Some(pos) = content.get(from..).and_then(|t| t.find("$(shell ")) {
        let start = from + pos + "$(shell ".len();
        let body = balanced(content.get(start..).unwrap_or(""));
        out.push(body.to_string());
        from = start;
    }
    let vars = make_variables(content);
    out.into_iter().map(|c| make_to_shell(&c, &vars)).collect()
}

/// Simple variable definitions of a makefile (`NAME := value`, `NAME ?= value`, `export NAME =
/// value`) whose value is plain text, for substitution into recipes.
fn make_variables(content: &str) -> std::collections::HashMap<String, String> {
    let mut vars = std::collections::HashMap::new();
    for line in content.lines() {
        if line.starts_with('\t') {
            continue;
        }
        let l = line
            .trim()
            .trim_start_matches("export ")
            .trim_start_matches("override ");
        let Some(eq) = l.find('=') else {
            continue;
        };
        let name = l[..eq].trim_end_matches([':', '?', '+', '!']).trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            continue;
        }
        let value = l[eq + 1..].trim();
        if !value.contains('$') && vars.len() < 256 {
            vars.insert(name.to_string(), value.to_string());
        }
    }
    vars
}

/// Text up to the parenthesis closing an already opened one.
fn balanced(s: &str) -> &str {
    let mut depth = 1usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return s.get(..i).unwrap_or(s);
                }
            }
            _ => {}
        }
    }
    s
}

/// `$$` → `$`; `$(VAR)`/`${VAR}` → its plain value when the makefile defines one, else a
/// placeholder word (a make variable is not a shell one: an unknown shell value would make
/// `rm -rf $(BUILD_DIR)` look like a deletion of a computed path); `$(shell x)` → `$(x)`;
/// other make functions and automatic variables (`$@`, `$<`) → placeholder words.
fn make_to_shell(s: &str, vars: &std::collections::HashMap<String, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => {
                out.push('$');
                i += 2;
            }
            Some(open @ ('(' | '{')) => {
                let close = if *open == '(' { ')' } else { '}' };
                let rest: String = chars[i + 2..].iter().collect();
                let inner = balanced_with(&rest, *open, close);
                let consumed = inner.chars().count() + 3;
                if let Some(cmd) = inner.strip_prefix("shell ") {
                    out.push_str("$(");
                    out.push_str(&make_to_shell(cmd, vars));
                    out.push(')');
                } else if inner.contains([' ', ',']) {
                    out.push_str("MAKE_FUNCTION");
                } else if let Some(v) = vars.get(inner.as_str()) {
                    out.push_str(v);
                } else {
                    let name: String = inner
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                        .collect();
                    out.push_str(&format!("MAKE_{name}"));
                }
                i += consumed;
            }
            Some(_) => {
                out.push_str("MAKE_AUTO");
                i += 2;
            }
            None => {
                out.push('$');
                i += 1;
            }
        }
    }
    out
}

fn balanced_with(s: &str, open: char, close: char) -> String {
    let mut depth = 1usize;
    let mut out = String::new();
    for c in s.chars() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return out;
            }
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------- package manager rc files

/// Standard shells a `script-shell` may name.
fn standard_shell(v: &str) -> bool {
    let base = v
        .trim()
        .trim_matches(['"', '\''])
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let base = base.trim_end_matches(".exe");
    matches!(
        base,
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "fish" | "pwsh" | "powershell" | "cmd"
    )
}

fn npmrc(
    base: &str,
    content: &str,
    env: &NormalizeEnv,
    f: &mut Facts,
    commands: &mut Vec<(String, String)>,
) {
    for line in content.lines() {
        let l = line.trim();
        if l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        let (k, v) = match l.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => match l.split_once(char::is_whitespace) {
                Some((k, v)) => (k.trim(), v.trim()),
                None => continue,
            },
        };
        let v = unquote_yaml(v);
        match k {
            "script-shell" | "shell" if !standard_shell(&v) => {
                runs_instead(f, base, k, &v);
                commands.push((format!("`{base}` `{k}`"), v));
            }
            "yarn-path" | "yarnPath" => yarn_path(base, &v, env, f),
            "onload-script" | "init-module" => runs_instead(f, base, k, &v),
            _ => {}
        }
    }
}

fn yarnrc_yml(base: &str, content: &str, env: &NormalizeEnv, f: &mut Facts) {
    for (k, v) in key_values(content) {
        let v = unquote_yaml(v.trim());
        let last = k.rsplit('.').next().unwrap_or(&k);
        match last {
            "yarnPath" => yarn_path(base, &v, env, f),
            "spec" | "path" if v.contains("://") => {
                if let Some(r) = super::hosts::parse_url(&v) {
                    let class = super::hosts::classify_host(&r.host, env);
                    f.hosts.insert(class.host.clone());
                    f.network = true;
                    if class.is_external() {
                        f.external_host = true;
                        f.download_to_interpreter = true;
                        f.notes.push(format!(
                            "`{base}` loads a yarn plugin from external host `{}` and runs it",
                            class.host
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}

/// `yarnPath`/`yarn-path`: the file yarn runs instead of itself. Releases vendored under
/// `.yarn/releases/` are ordinary; anything else replaces the package manager.
fn yarn_path(base: &str, v: &str, env: &NormalizeEnv, f: &mut Facts) {
    let v = v.trim().trim_matches(['"', '\'']);
    if v.is_empty() {
        return;
    }
    let class = super::paths::classify_path(v, env);
    let vendored = class.in_workspace && class.resolved.contains("/.yarn/releases/");
    if !vendored {
        runs_instead(f, base, "yarnPath", v);
    }
}

/// A package-manager setting makes it run `what` for every script or command.
fn runs_instead(f: &mut Facts, base: &str, key: &str, what: &str) {
    f.writes_persistence = true;
    f.notes.push(format!(
        "`{base}` setting `{key}` makes the package manager run `{}` on every use",
        what.chars().take(80).collect::<String>()
    ));
}

// ---------------------------------------------------------------------- devcontainer

fn devcontainer(base: &str, content: &str, commands: &mut Vec<(String, String)>) {
    let Some(Value::Object(o)) = parse_jsonc(content) else {
        return;
    };
    for key in [
        "initializeCommand",
        "onCreateCommand",
        "updateContentCommand",
        "postCreateCommand",
        "postStartCommand",
        "postAttachCommand",
    ] {
        if let Some(v) = o.get(key) {
            for c in value_commands(v) {
                commands.push((format!("`{base}` `{key}`"), devcontainer_vars(&c)));
            }
        }
    }
    // The container's run arguments and mounts, as the `docker run` they become.
    let mut argv: Vec<String> = Vec::new();
    if let Some(Value::Array(a)) = o.get("runArgs") {
        argv.extend(a.iter().filter_map(Value::as_str).map(quote));
    }
    if o.get("privileged")
        .is_some_and(|v| v.as_bool() == Some(true))
    {
        argv.push("--privileged".into());
    }
    if let Some(Value::Array(a)) = o.get("mounts") {
        for m in a {
            let spec = match m {
                Value::String(s) => s.clone(),
                Value::Object(mo) => mo
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
                    .collect::<Vec<_>>()
                    .join(","),
                _ => continue,
            };
            argv.push("--mount".into());
            argv.push(quote(&spec));
        }
    }
    if !argv.is_empty() {
        commands.push((
            format!("`{base}` container arguments"),
            format!("docker run {} devcontainer", argv.join(" ")),
        ));
    }
}

/// `${localWorkspaceFolder}`/`${containerWorkspaceFolder}` → `.`; `${localEnv:X}`/
/// `${containerEnv:X}` → `$X`.
fn devcontainer_vars(s: &str) -> String {
    let mut out = s
        .replace("${localWorkspaceFolder}", ".")
        .replace("${containerWorkspaceFolder}", ".")
        .replace("${localWorkspaceFolderBasename}", "workspace")
        .replace("${containerWorkspaceFolderBasename}", "workspace");
    for prefix in ["${localEnv:", "${containerEnv:"] {
        while let Some(at) = out.find(prefix) {
            let rest = &out[at + prefix.len()..];
            let Some(end) = rest.find('}') else { break };
            let name: String = rest[..end]
                .split(':')
                .next()
                .unwrap_or("")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out = format!("{}${{{name}}}{}", &out[..at], &rest[end + 1..]);
        }
    }
    out
}

// ---------------------------------------------------------------------- .git/config

fn git_config(content: &str, f: &mut Facts, commands: &mut Vec<(String, String)>) {
    for (k, v) in key_values(content) {
        let key = k.to_ascii_lowercase();
        let last = key.rsplit('.').next().unwrap_or(&key);
        let table = key.split('.').next().unwrap_or("");
        let value = unquote_yaml(v.trim());
        let runs = match (table, last) {
            ("core", "fsmonitor") => !matches!(value.as_str(), "true" | "false"),
            ("core", "hookspath" | "sshcommand" | "pager" | "editor" | "askpass" | "gitproxy") => {
                true
            }
            (t, "clean" | "smudge" | "process") if t.starts_with("filter") => true,
            (t, "textconv" | "command") if t.starts_with("diff") || t.starts_with("merge") => true,
            ("alias", _) => value.starts_with('!'),
            ("credential", "helper") => value.starts_with('!'),
            ("include" | "includeif", "path") => true,
            _ => false,
        };
        if !runs {
            continue;
        }
        f.writes_persistence = true;
        f.notes.push(format!(
            "`.git/config` `{k}` makes git run `{}` later",
            value.chars().take(80).collect::<String>()
        ));
        let cmd = value.trim_start_matches('!').to_string();
        if last != "hookspath" && last != "path" {
            commands.push(("`.git/config`".to_string(), cmd));
        }
    }
}
