//! What each program does with its arguments: reads, writes, deletes, network, secrets, and the
//! programs that run other programs (`sudo`, `xargs`, `find -exec`, `bash -c`, `eval`, …).

use super::opts;
use super::walk::{Arg, Origin, Out, Taint, UNKNOWN, Walker};
use crate::normalize::hosts::HostKind;
use base64::Engine as _;

/// Programs that only read (given non-secret inputs and no output redirection).
const READ_ONLY: &[&str] = &[
    "ls",
    "ll",
    "la",
    "dir",
    "vdir",
    "cat",
    "head",
    "tail",
    "less",
    "more",
    "bat",
    "batcat",
    "grep",
    "egrep",
    "fgrep",
    "rg",
    "ag",
    "ack",
    "wc",
    "sort",
    "uniq",
    "cut",
    "tr",
    "diff",
    "cmp",
    "comm",
    "file",
    "stat",
    "du",
    "df",
    "pwd",
    "echo",
    "printf",
    "which",
    "type",
    "whereis",
    "whoami",
    "id",
    "groups",
    "date",
    "cal",
    "uname",
    "hostname",
    "tree",
    "realpath",
    "readlink",
    "dirname",
    "basename",
    "jq",
    "yq",
    "test",
    "[",
    "true",
    "false",
    ":",
    "column",
    "nl",
    "od",
    "hexdump",
    "xxd",
    "strings",
    "sha1sum",
    "sha224sum",
    "sha256sum",
    "sha384sum",
    "sha512sum",
    "md5sum",
    "md5",
    "shasum",
    "cksum",
    "b2sum",
    "ps",
    "uptime",
    "free",
    "nproc",
    "locale",
    "seq",
    "sleep",
    "cd",
    "pushd",
    "popd",
    "tac",
    "rev",
    "fold",
    "fmt",
    "expand",
    "unexpand",
    "paste",
    "join",
    "look",
    "tput",
    "man",
    "help",
    "fd",
    "fdfind",
    "find",
    "base64",
    "base32",
    "sed",
    "awk",
    "lsof",
    "history",
    "wait",
    "exit",
    "return",
    "shopt",
    "alias",
    "hash",
    "cloc",
    "tokei",
    "lscpu",
    "lsblk",
    "printenv",
    "env",
    "getconf",
    "arch",
    "tty",
    "stty",
    "users",
    "who",
    "w",
    "last",
    "dig",
    "nslookup",
    "host",
    "ping",
    "read",
    "unset",
    "local",
    "declare",
    "typeset",
    "export",
    "set",
    "command",
    "ssh-keygen",
    "git",
    "cargo",
    "npm",
    "pnpm",
    "yarn",
    "kubectl",
    "terraform",
    "aws",
];

/// Commands whose output is meant for `eval` and is ordinary (`eval "$(ssh-agent -s)"`).
fn is_shell_init(name: &str, pos: &[&str]) -> bool {
    let first = pos.first().copied().unwrap_or("");
    match name {
        "ssh-agent" | "dircolors" | "keychain" | "gpg-agent" | "resize" | "thefuck" | "tset" => {
            true
        }
        "pyenv" | "rbenv" | "nodenv" | "jenv" | "goenv" | "plenv" | "starship" | "zoxide"
        | "atuin" | "mcfly" => {
            matches!(first, "init" | "virtualenv-init" | "-")
        }
        "direnv" => matches!(first, "hook" | "export"),
        "brew" => first == "shellenv",
        "fnm" | "opam" => matches!(first, "env" | "config"),
        "mise" | "rtx" => matches!(first, "activate" | "env" | "hook-env"),
        "conda" | "micromamba" | "mamba" => first.starts_with("shell") || first == "hook",
        "luarocks" => first == "path",
        "fzf" => pos
            .iter()
            .any(|a| matches!(*a, "--bash" | "--zsh" | "--fish")),
        "kubectl"
        | "gh"
        | "helm"
        | "npm"
        | "rustup"
        | "pip"
        | "poetry"
        | "docker"
        | "minikube"
        | "docker-machine"
        | "kind"
        | "register-python-argcomplete" => {
            matches!(first, "completion" | "completions" | "docker-env" | "env")
                || name == "register-python-argcomplete"
        }
        _ => false,
    }
}

fn texts(args: &[Arg]) -> Vec<&str> {
    args.iter().map(|a| a.text.as_str()).collect()
}

fn has_any(args: &[Arg], names: &[&str]) -> bool {
    args.iter().any(|a| {
        names.contains(&a.text.as_str())
            || names
                .iter()
                .any(|n| n.starts_with("--") && a.text.starts_with(&format!("{n}=")))
    })
}

fn is_dry_run(args: &[Arg]) -> bool {
    has_any(args, &["--dry-run", "--dryrun", "-n", "--dry_run"])
}

/// Names of a package's executable when run through `npx`/`bunx`/`uvx`.
fn package_bin(pkg: &str) -> String {
    let no_version = match pkg.strip_prefix('@') {
        Some(rest) => format!("@{}", rest.split('@').next().unwrap_or(rest)),
        None => pkg.split('@').next().unwrap_or(pkg).to_string(),
    };
    match no_version.as_str() {
        "@anthropic-ai/claude-code" => "claude".into(),
        "@google/gemini-cli" => "gemini".into(),
        "@openai/codex" => "codex".into(),
        "@github/copilot" => "copilot".into(),
        "@sourcegraph/amp" => "amp".into(),
        "prisma" | "@prisma/cli" => "prisma".into(),
        other => other.rsplit('/').next().unwrap_or(other).to_string(),
    }
}

fn protected_branch(b: &str) -> bool {
    let b = b.trim_start_matches('+').trim_start_matches("refs/heads/");
    matches!(
        b,
        "main"
            | "master"
            | "trunk"
            | "develop"
            | "development"
            | "production"
            | "prod"
            | "stable"
            | "live"
    ) || b.starts_with("release")
}

impl Walker<'_> {
    /// Run one command: resolve its program name, then apply that program's semantics.
    pub fn invoke(&mut self, args: Vec<Arg>, stdin: Out) -> Out {
        let Some(first) = args.first().cloned() else {
            return Out::default();
        };
        let mut args = args;
        if first.expanded {
            self.facts.dynamic_program = true;
            self.exec_taint(first.taint, "a computed command name");
            if first.indirection {
                self.facts.obfuscated = true;
            }
            if !first.known() {
                self.note(format!(
                    "program name computed at run time: `{}`",
                    super::walk::short(&first.text)
                ));
                self.not_read_only();
                let taint = args.iter().fold(stdin.taint, |t, a| t.union(a.taint));
                return Out::taint(taint);
            }
            self.facts.obfuscated = true;
            self.note(format!(
                "program name `{}` assembled at run time",
                super::walk::short(&first.text)
            ));
            // Unquoted expansion results are split into words.
            if first.text.split_whitespace().count() > 1 {
                let mut words: Vec<Arg> = first
                    .text
                    .split_whitespace()
                    .map(|w| first.derive(w))
                    .collect();
                words.extend(args.drain(1..));
                args = words;
            }
        }
        let Some(first) = args.first().cloned() else {
            return Out::default();
        };
        let name = first
            .text
            .rsplit('/')
            .next()
            .unwrap_or(&first.text)
            .to_string();
        if name.is_empty() {
            return Out::default();
        }
        if crate::normalize::text::suspicious_unicode(&name) {
            self.facts.homoglyph = true;
            self.note(format!(
                "program name `{name}` mixes scripts or hides characters"
            ));
        }
        if first.text.contains('/') {
            let resolved = self.resolve(&first.text);
            if let Some(t) = self.tainted_files.get(&resolved).copied() {
                self.exec_taint(t, &name);
            }
        }
        self.facts.programs.insert(name.clone());
        if self.current_fn.as_deref() == Some(name.as_str()) {
            self.self_calls += 1;
        }
        let rest: Vec<Arg> = args.get(1..).map(<[Arg]>::to_vec).unwrap_or_default();
        if !self.is_read_only_call(&name, &rest) {
            self.not_read_only();
        }
        let mut out = self.run(&name, &rest, stdin);
        if !self.facts.reads_credential_store
            && let Some(what) = prints_credential(&name, &rest)
        {
            let o = self.credential_store(&what);
            out.taint = out.taint.union(o.taint);
        }
        let pos: Vec<&str> = rest
            .iter()
            .map(|a| a.text.as_str())
            .filter(|a| !a.starts_with('-'))
            .collect();
        out.init = is_shell_init(&name, &pos) || (name == "ssh-agent");
        out
    }

    fn is_read_only_call(&self, name: &str, rest: &[Arg]) -> bool {
        let t = texts(rest);
        let version_only = !t.is_empty()
            && t.iter().all(|a| {
                matches!(
                    *a,
                    "--version" | "-V" | "version" | "--help" | "-h" | "help"
                )
            });
        if version_only {
            return true;
        }
        if self.functions.contains(name) {
            return true;
        }
        if !READ_ONLY.contains(&name) {
            return false;
        }
        let sub = t
            .iter()
            .find(|a| !a.starts_with('-'))
            .copied()
            .unwrap_or("");
        match name {
            "git" => git_read_only(&t),
            "cargo" => matches!(
                sub,
                "tree" | "metadata" | "pkgid" | "locate-project" | "verify-project"
            ),
            "npm" | "pnpm" | "yarn" => matches!(
                sub,
                "ls" | "list"
                    | "view"
                    | "info"
                    | "outdated"
                    | "why"
                    | "explain"
                    | "root"
                    | "prefix"
            ),
            "kubectl" => {
                matches!(
                    sub,
                    "get" | "describe" | "logs" | "explain" | "api-resources" | "version" | "top"
                ) && !t.iter().any(|a| a.starts_with("secret"))
            }
            "terraform" => matches!(
                sub,
                "plan" | "validate" | "fmt" | "show" | "version" | "providers" | "graph"
            ),
            "aws" => {
                let p: Vec<&&str> = t.iter().filter(|a| !a.starts_with('-')).collect();
                p.get(1).is_some_and(|op| {
                    op.starts_with("describe-")
                        || op.starts_with("list-")
                        || op.starts_with("get-caller")
                }) || p.first().is_some_and(|s| **s == "sts")
                    && p.get(1).is_some_and(|o| **o == "get-caller-identity")
            }
            "sed" => !t.iter().any(|a| {
                a.starts_with("-i") || *a == "--in-place" || a.contains("/e") || a.contains(" w ")
            }),
            "awk" => !t
                .iter()
                .any(|a| a.contains("system") || a.contains('|') || a.contains('>')),
            "find" => !t.iter().any(|a| {
                matches!(
                    *a,
                    "-exec"
                        | "-execdir"
                        | "-ok"
                        | "-okdir"
                        | "-delete"
                        | "-fprint"
                        | "-fprint0"
                        | "-fprintf"
                        | "-fls"
                )
            }),
            "env" | "printenv" | "set" | "export" | "declare" | "typeset" => false,
            "command" => t.first().is_some_and(|a| matches!(*a, "-v" | "-V")),
            "history" => t.iter().all(|a| a.chars().all(|c| c.is_ascii_digit())),
            "sort" => !t
                .iter()
                .any(|a| a.starts_with("-o") || a.starts_with("--output")),
            _ => true,
        }
    }

    /// Flag what executing tainted text means.
    pub fn exec_taint(&mut self, t: Taint, via: &str) {
        if t.download {
            self.facts.download_to_interpreter = true;
            self.note(format!("downloaded content is executed by {via}"));
        }
        if t.decoded {
            self.facts.obfuscated = true;
            self.note(format!("decoded text is executed by {via}"));
        }
        if t.escaped {
            self.facts.obfuscated = true;
            self.facts.escape_obfuscation = true;
            self.note(format!(
                "text built from character escapes is executed by {via}"
            ));
        }
    }

    /// Shell text that will be executed: flag its taint and analyse it when known.
    fn exec_text(&mut self, out: &Out, via: &str) {
        self.exec_taint(out.taint, via);
        if let Some(t) = &out.text {
            let _ = self.walk_source(t, Origin::Quoted, Out::default());
        }
    }

    fn generic_out(&mut self, rest: &[Arg], stdin: &Out) -> Out {
        Out::taint(rest.iter().fold(stdin.taint, |t, a| t.union(a.taint)))
    }

    fn run(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let base = name.trim_end_matches(".exe");
        match base {
            // ---- wrappers -------------------------------------------------------------
            "sudo" | "doas" | "pkexec" | "run0" => self.run_sudo(name, rest, stdin),
            "su" => self.run_su(rest, stdin),
            "env" => self.run_env(rest, stdin),
            "nohup" | "builtin" | "setsid" | "unbuffer" | "catchsegv" | "proxychains"
            | "proxychains4" | "torsocks" | "tsocks" | "caffeinate" | "stdbuf" | "nice"
            | "ionice" | "time" | "exec" | "chrt" | "taskset" | "timeout" | "command" | "flock"
            | "firejail" | "doppler" | "dotenv" | "op-run" | "aws-vault" => {
                self.run_wrapper(base, rest, stdin)
            }
            "xargs" => self.run_xargs(rest, stdin),
            "find" | "gfind" => self.run_find(rest, stdin),
            "watch" => {
                let p = opts::parse(rest, "nd", &["--interval", "--differences"], true);
                let text = p.pos_texts().join(" ");
                self.walk_source(&text, Origin::Quoted, Out::default())
            }
            "npx" | "bunx" | "pnpx" | "uvx" | "pipx" => self.run_npx(base, rest, stdin),
            "busybox" => self.invoke(rest.to_vec(), stdin),

            // ---- shells and interpreters --------------------------------------------------
            "sh" | "bash" | "zsh" | "dash" | "ksh" | "mksh" | "ash" | "fish" | "csh" | "tcsh"
            | "yash" => self.run_shell(base, rest, stdin),
            "eval" => self.run_eval(rest),
            "source" | "." => {
                let t = rest
                    .first()
                    .map(|a| (a.process.as_deref().map(|o| o.taint), self.read_path(a)));
                if let Some((proc, file)) = t {
                    self.exec_taint(proc.unwrap_or_default().union(file), "`source`");
                    if rest.first().is_some_and(|a| a.text == "/dev/stdin") {
                        self.exec_text(&stdin, "`source`");
                    }
                }
                Out::default()
            }
            _ if is_interpreter(base) => self.run_interpreter(base, rest, stdin),

            // ---- text producers and decoders ---------------------------------------------
            "echo" => run_echo(rest),
            "printf" => self.run_printf(rest),
            "base64" | "base32" | "basenc" | "gbase64" => self.run_base64(base, rest, stdin),
            "xxd" => self.run_xxd(rest, stdin),
            "uudecode" | "rev" => {
                for p in opts::parse(rest, "o", &[], false).pos {
                    let _ = self.read_path(&p);
                }
                let text = if base == "rev" {
                    stdin.text.as_ref().map(|t| {
                        t.lines()
                            .map(|l| l.chars().rev().collect::<String>() + "\n")
                            .collect()
                    })
                } else {
                    None
                };
                Out {
                    taint: Taint {
                        decoded: true,
                        ..stdin.taint
                    },
                    text,
                    ..Out::default()
                }
            }
            "tr" => {
                let t = texts(rest);
                let letters = |s: &str| {
                    s.contains("A-Z") || s.contains("a-z") || s.contains("n-z") || s.contains("N-Z")
                };
                let rot = t.len() >= 2
                    && letters(t[t.len() - 2])
                    && letters(t[t.len() - 1])
                    && t[t.len() - 2] != t[t.len() - 1];
                let mut out = Out::taint(stdin.taint);
                out.taint.decoded |= rot;
                out
            }
            "openssl" => self.run_openssl(rest, stdin),
            "gpg" | "gpg2" => self.run_gpg(rest, stdin),

            // ---- files --------------------------------------------------------------------
            "cat" | "tac" | "head" | "tail" | "less" | "more" | "bat" | "batcat" | "nl" | "wc"
            | "strings" | "od" | "hexdump" | "md5sum" | "sha1sum" | "sha256sum" | "sha512sum"
            | "shasum" | "cksum" | "b2sum" | "file" | "stat" | "zcat" | "zless" | "bzcat"
            | "xzcat" | "zstdcat" | "column" | "fold" | "fmt" | "paste" | "cut" | "uniq"
            | "expand" | "unexpand" | "iconv" | "dos2unix" | "unix2dos" | "ls" | "tree" | "du"
            | "fd" | "fdfind" | "comm" | "diff" | "cmp" | "look" | "vim" | "vi" | "nvim"
            | "nano" | "emacs" | "code" | "open" | "xdg-open" | "pbcopy" | "xclip" | "xsel"
            | "wl-copy" => self.run_reader(base, rest, stdin),
            "grep" | "egrep" | "fgrep" | "rg" | "ag" | "ack" | "zgrep" => {
                self.run_grep(base, rest, stdin)
            }
            "sed" | "gsed" => self.run_sed(rest, stdin),
            "awk" | "gawk" | "mawk" | "nawk" => {
                let p = opts::parse(rest, "fvF", &[], false);
                if let Some(prog) = p.pos.first().filter(|_| !p.has(&["-f"])) {
                    let prog = prog.text.clone();
                    if let Some(at) = prog.find("/inet/") {
                        // gawk network files: /inet/tcp/LPORT/HOST/RPORT.
                        let host = prog[at..].split('/').nth(4).unwrap_or("").to_string();
                        if !host.is_empty() {
                            self.contact_host(&host, true, stdin.taint.secret, base);
                        }
                        self.socket_tools += 1;
                        if prog.contains("|&") || prog.contains("system(") {
                            self.reverse_shell(&format!(
                                "`{base}` runs commands read from a network connection"
                            ));
                        }
                    }
                }
                let files: Vec<Arg> = if p.has(&["-f"]) {
                    p.pos.clone()
                } else {
                    p.pos.iter().skip(1).cloned().collect()
                };
                let mut taint = stdin.taint;
                for f in p.values(&["-f"]).into_iter().chain(files.iter()) {
                    if !f.text.contains('=') {
                        taint = taint.union(self.read_path(f));
                    }
                }
                Out::taint(taint)
            }
            "jq" | "yq" | "gojq" => {
                let p = opts::parse(
                    rest,
                    "f",
                    &[
                        "--arg",
                        "--argjson",
                        "--slurpfile",
                        "--rawfile",
                        "--indent",
                        "--from-file",
                    ],
                    false,
                );
                let skip = usize::from(!p.has(&["-f", "--from-file"]));
                let mut taint = stdin.taint;
                for f in p.pos.iter().skip(skip) {
                    taint = taint.union(self.read_path(f));
                }
                Out::taint(taint)
            }
            "sort" => {
                let p = opts::parse(
                    rest,
                    "ktoST",
                    &[
                        "--key",
                        "--field-separator",
                        "--output",
                        "--buffer-size",
                        "--temporary-directory",
                    ],
                    false,
                );
                let mut taint = stdin.taint;
                for f in &p.pos {
                    taint = taint.union(self.read_path(f));
                }
                let out = Out::taint(taint);
                for o in p.values(&["-o", "--output"]) {
                    self.write_output_to(o, &out);
                }
                out
            }
            "tee" => {
                let p = opts::parse(rest, "", &[], false);
                let saved = self.appending;
                self.appending = p.has(&["-a", "--append"]);
                for f in &p.pos {
                    self.write_output_to(f, &stdin);
                }
                self.appending = saved;
                stdin
            }
            "cp" | "mv" | "ln" | "install" | "rsync" | "scp" => self.run_copy(base, rest, stdin),
            "touch" | "mkdir" | "truncate" | "mkfifo" | "rmdir" | "unlink" => {
                let p = opts::parse(
                    rest,
                    "smrdtp",
                    &["--size", "--mode", "--reference", "--date"],
                    false,
                );
                let saved = self.creating;
                self.creating = matches!(base, "touch" | "mkdir" | "mkfifo");
                for f in &p.pos {
                    if base == "rmdir" || base == "unlink" {
                        self.delete_path(f, false, false);
                    } else {
                        let _ = self.write_path(f);
                    }
                }
                self.creating = saved;
                Out::default()
            }
            "rm" => self.run_rm(rest),
            "shred" | "srm" | "wipe" => {
                let p = opts::parse(rest, "nsx", &["--iterations", "--size"], false);
                for f in &p.pos {
                    self.delete_path(f, true, true);
                }
                Out::default()
            }
            "chmod" | "chown" | "chgrp" | "chattr" | "setfacl" => self.run_chmod(base, rest),
            "dd" => self.run_dd(rest, stdin),
            "tar" | "gtar" | "bsdtar" => self.run_tar(rest, stdin),
            "zip" | "7z" | "7za" | "rar" => self.run_zip(base, rest, stdin),
            "unzip" | "gunzip" | "gzip" | "bzip2" | "bunzip2" | "xz" | "unxz" | "zstd"
            | "unzstd" | "lz4" => {
                let p = opts::parse(rest, "dSo", &["--suffix", "--output"], false);
                let mut taint = stdin.taint;
                for f in &p.pos {
                    taint = taint.union(self.read_path(f));
                }
                if let Some(d) = p.values(&["-d"]).first().filter(|_| base == "unzip") {
                    let _ = self.write_path(d);
                } else if !p.has(&["-c", "-p", "--stdout", "-l"]) {
                    self.not_read_only();
                }
                Out::taint(taint)
            }
            "mkfs" | "mke2fs" | "wipefs" | "fdisk" | "sfdisk" | "parted" | "sgdisk" | "gdisk"
            | "mkswap" | "diskutil" | "format" => {
                self.destroys_outside();
                self.note(format!("`{base}` rewrites a disk or partition"));
                for p in rest.iter().filter(|a| a.text.starts_with("/dev/")) {
                    let _ = self.write_path(p);
                }
                Out::default()
            }
            _ if base.starts_with("mkfs.") => {
                self.destroys_outside();
                self.note(format!("`{base}` formats a file system"));
                Out::default()
            }

            // ---- environment and credential stores --------------------------------------
            "printenv" => {
                let p = opts::parse(rest, "", &[], false);
                let secret = p.pos.is_empty()
                    || p.pos
                        .iter()
                        .any(|a| crate::normalize::text::is_secret_env_name(&a.text));
                if secret {
                    self.env_dump("printenv");
                }
                Out::taint(Taint {
                    secret,
                    ..Taint::default()
                })
            }
            "set" | "export" | "declare" | "typeset" | "compgen" => {
                let t = texts(rest);
                if base == "set" && t.windows(2).any(|w| w[0] == "+o" && w[1] == "history") {
                    self.erase_trace("`set +o history` stops the shell recording history");
                }
                let dump = t.is_empty()
                    || t.iter()
                        .all(|a| matches!(*a, "-p" | "-x" | "-px" | "-xp" | "-e" | "-v" | "-a"));
                if dump && (base != "set" || t.is_empty()) {
                    self.env_dump(base);
                    return Out::taint(Taint {
                        secret: true,
                        ..Taint::default()
                    });
                }
                Out::default()
            }
            "read" | "mapfile" | "readarray" => {
                let p = opts::parse(rest, "adnNptuC", &[], false);
                for v in &p.pos {
                    self.set_unknown_var(&v.text, stdin.taint);
                }
                Out::default()
            }
            "unset" => {
                for v in rest.iter().filter(|a| !a.text.starts_with('-')) {
                    self.unset_var(&v.text);
                }
                Out::default()
            }
            "security" | "secret-tool" | "keyring" | "op" | "pass" | "gopass" | "bw" | "lpass"
            | "vault" | "sops" | "infisical" | "chamber" | "keepassxc-cli" | "age" => {
                self.run_secret_store(base, rest, stdin)
            }
            _ if base.starts_with("docker-credential-") => {
                self.credential_store(&format!("`{base}`"))
            }

            // ---- directories --------------------------------------------------------------
            "cd" | "pushd" => {
                let target = rest
                    .iter()
                    .find(|a| !a.text.starts_with('-') || a.text == "-");
                match target {
                    None => self.cwd = Some(self.env.home.clone()),
                    Some(a) if a.known() && a.text != "-" => self.cwd = Some(self.resolve(&a.text)),
                    Some(a) if a.substitution && a.text.contains(UNKNOWN) => {
                        // `cd "$(git rev-parse --show-toplevel)"` and friends: assume the workspace.
                        self.cwd = Some(crate::normalize::paths::workspace_root(self.env));
                    }
                    Some(_) => self.cwd = None,
                }
                Out::default()
            }

            // ---- network -------------------------------------------------------------------
            "curl" => self.run_curl(rest, stdin),
            "wget" | "wget2" => self.run_wget(rest, stdin),
            "nc" | "ncat" | "netcat" | "socat" | "telnet" | "cryptcat" | "pwncat" => {
                self.run_nc(base, rest, stdin)
            }
            "ssh" | "mosh" | "autossh" => self.run_ssh(rest, stdin),
            "sftp" | "ftp" | "lftp" | "tftp" | "smbclient" => {
                for a in rest.iter().filter(|a| !a.text.starts_with('-')) {
                    let _ = self.contact_arg(a, true, true, base);
                }
                Out::taint(Taint {
                    download: true,
                    ..Taint::default()
                })
            }
            "http" | "https" | "xh" | "xhs" | "httpie" | "curlie" => {
                self.run_httpie(base, rest, stdin)
            }
            "ping" | "ping6" | "traceroute" | "traceroute6" | "tracepath" | "mtr" | "dig"
            | "nslookup" | "host" | "drill" | "whois" | "arping" | "fping" | "nmap" | "masscan"
            | "kdig" | "delv" => self.run_dns(base, rest, stdin),
            "git" => self.run_git(rest, stdin),
            "gh" => self.run_gh(rest, stdin),

            // ---- infrastructure and data ------------------------------------------------
            "aws" => self.run_aws(rest, stdin),
            "gcloud" | "gsutil" | "az" | "doctl" | "heroku" | "linode-cli" | "hcloud" | "oci"
            | "ibmcloud" => self.run_cloud(base, rest, stdin),
            "kubectl" | "oc" | "kubecolor" | "k" => self.run_kubectl(rest),
            "helm" => {
                let sub = first_pos(rest);
                match sub.as_str() {
                    "install" | "upgrade" | "rollback" => self.deploy(&format!("`helm {sub}`")),
                    "uninstall" | "delete" | "del" | "un" => {
                        self.destroy_shared(&format!("`helm {sub}` removes a release"))
                    }
                    "push" => self.publish("`helm push`"),
                    _ => {}
                }
                Out::default()
            }
            "terraform" | "tofu" | "terragrunt" | "pulumi" | "cdk" | "sam" | "serverless"
            | "sls" | "cdktf" => self.run_iac(base, rest),
            "vercel" | "netlify" | "fly" | "flyctl" | "firebase" | "wrangler" | "railway"
            | "eb" | "skaffold" | "argocd" | "ansible-playbook" | "kamal" | "render" | "surge"
            | "amplify" | "copilot-cli" => self.run_deployer(base, rest),
            "psql" | "mysql" | "mariadb" | "mysqlsh" | "sqlcmd" | "cockroach" | "clickhouse"
            | "clickhouse-client" | "snowsql" | "sqlite3" | "sqlite" | "duckdb" | "mongosh"
            | "mongo" | "redis-cli" | "cqlsh" | "bq" | "pgcli" | "mycli" | "usql" => {
                self.run_db(base, rest, stdin)
            }
            "dropdb" | "mysqladmin" => {
                let local = db_host_local(rest);
                if (base == "dropdb" || has_any(rest, &["drop"])) && !local {
                    self.destroy_shared(&format!("`{base}` drops a database"));
                }
                Out::default()
            }
            "prisma" | "drizzle-kit" | "knex" | "sequelize" | "sequelize-cli" | "typeorm"
            | "alembic" | "flyway" | "liquibase" | "rails" | "rake" | "mix" | "supabase"
            | "diesel" | "sqlx" | "atlas" => self.run_migrator(base, rest),

            // ---- packages -------------------------------------------------------------------
            "npm" | "pnpm" | "yarn" | "bun" => self.run_node_pm(base, rest, stdin),
            "cargo" => {
                let sub = first_pos(rest);
                if sub == "publish" && !is_dry_run(rest) {
                    self.publish("`cargo publish`");
                } else if sub == "yank" {
                    self.publish("`cargo yank`");
                }
                self.generic_out(rest, &stdin)
            }
            "twine" | "gem" | "poetry" | "flit" | "hatch" | "uv" | "pdm" | "rye" | "lerna"
            | "changeset" | "vsce" | "ovsx" | "nuget" | "dotnet" | "mvn" | "mvnw" | "gradle"
            | "gradlew" | "docker" | "podman" | "buildah" | "nerdctl" | "goreleaser"
            | "jreleaser" | "semantic-release" | "release-it" | "np" => {
                self.run_publisher(base, rest, stdin)
            }

            // ---- AI agents ------------------------------------------------------------------
            "claude" | "gemini" | "codex" | "q" | "copilot" | "cursor-agent" | "amp"
            | "opencode" | "aider" | "kiro-cli" | "qwen" | "goose" | "crush" => {
                self.run_agent(base, rest);
                Out::default()
            }

            // ---- persistence ------------------------------------------------------------------
            "crontab" => {
                let t = texts(rest);
                if !t.contains(&"-l") {
                    self.facts.writes_persistence = true;
                    self.note("`crontab` installs scheduled jobs".into());
                    if let Some(text) = stdin.text.as_ref().filter(|_| t.contains(&"-")) {
                        let f = crate::normalize::shell::analyze_inline(
                            &crontab_commands(text),
                            self.env,
                        );
                        self.absorb_later(f);
                    }
                }
                Out::default()
            }
            "systemctl" | "launchctl" | "service" => {
                let t = texts(rest);
                let stops = t
                    .iter()
                    .any(|a| matches!(*a, "stop" | "disable" | "mask" | "kill"));
                let logger = t.iter().any(|a| {
                    let a = a.trim_end_matches(".service");
                    matches!(
                        a,
                        "auditd"
                            | "rsyslog"
                            | "syslog"
                            | "syslog-ng"
                            | "systemd-journald"
                            | "journald"
                            | "osqueryd"
                            | "falco"
                            | "wazuh-agent"
                            | "auditbeat"
                    )
                });
                if stops && logger {
                    self.erase_trace(&format!("`{base}` stops system logging or auditing"));
                }
                if t.iter()
                    .any(|a| matches!(*a, "enable" | "load" | "bootstrap" | "link" | "submit"))
                {
                    self.facts.writes_persistence = true;
                    self.note(format!(
                        "`{base}` registers a service to start automatically"
                    ));
                }
                Out::default()
            }
            "ssh-keygen" => {
                let p = opts::parse(rest, "fbtCNnOZIsVzaEmMPrwY", &[], false);
                for f in p.values(&["-f"]) {
                    let _ = self.read_path(f);
                }
                Out::default()
            }

            // ---- traces, host escapes, reverse shells ------------------------------------
            "history" => {
                let t = texts(rest);
                if t.iter()
                    .any(|a| a.starts_with('-') && (a.contains('c') || a.contains('d')))
                {
                    self.erase_trace("`history -c`/`-d` clears the shell history");
                }
                Out::default()
            }
            "journalctl" => {
                let t = texts(rest);
                if t.iter().any(|a| a.starts_with("--vacuum")) {
                    self.erase_trace("`journalctl --vacuum-*` deletes the system journal");
                }
                Out::default()
            }
            "wevtutil" => {
                let t = texts(rest);
                if t.first().is_some_and(|a| {
                    matches!(a.to_ascii_lowercase().as_str(), "cl" | "clear-log" | "sl")
                }) {
                    self.erase_trace("`wevtutil cl` clears a Windows event log");
                }
                Out::default()
            }
            "auditctl" => {
                let t = texts(rest);
                if t.contains(&"-D") || t.windows(2).any(|w| w[0] == "-e" && w[1] == "0") {
                    self.erase_trace("`auditctl` removes audit rules or turns auditing off");
                }
                Out::default()
            }
            "nsenter" => {
                self.facts.host_escape = true;
                self.facts.privileged = true;
                self.note("`nsenter` enters another process's (the host's) namespaces".into());
                let p = opts::parse(
                    rest,
                    "tSGwr",
                    &["--target", "--setuid", "--setgid", "--wd", "--root"],
                    true,
                );
                if p.pos.is_empty() {
                    Out::default()
                } else {
                    self.invoke(p.pos, stdin)
                }
            }
            "mount" => {
                let p = opts::parse(rest, "tofL", &["--types", "--options"], false);
                if let Some(dev) = p.pos.iter().find(|a| {
                    crate::normalize::paths::classify_path(&a.text, self.env).block_device
                }) {
                    self.facts.host_escape = true;
                    self.facts.privileged = true;
                    self.note(format!("`mount` of host disk `{}`", dev.text));
                }
                for a in p.pos.iter().skip(1) {
                    let _ = self.write_path(a);
                }
                Out::default()
            }
            "xterm" => {
                let p = opts::parse(rest, "", &["-display"], false);
                for d in p.values(&["-display"]) {
                    let host = d.text.rsplit_once(':').map_or(d.text.as_str(), |(h, _)| h);
                    if !host.is_empty()
                        && self.contact_host(host, true, false, "xterm") == HostKind::External
                    {
                        self.reverse_shell(
                            "`xterm -display` opens a terminal on a remote X server",
                        );
                    }
                }
                Out::default()
            }
            "croc" | "wormhole" | "ffsend" | "onionshare" | "onionshare-cli" | "transfer" => {
                let t = texts(rest);
                if t.iter().any(|a| matches!(*a, "send" | "upload" | "share"))
                    || base == "onionshare-cli"
                {
                    self.facts.network = true;
                    self.upload_external(&format!("`{base}` sends files through a public relay"));
                }
                Out::default()
            }
            // PowerShell run through a shell tool (Windows): download and evaluate cmdlets.
            _ if matches!(
                base.to_ascii_lowercase().as_str(),
                "iwr" | "invoke-webrequest" | "irm" | "invoke-restmethod" | "wget.exe" | "curl.exe"
            ) =>
            {
                let p = opts::parse(
                    rest,
                    "",
                    &[
                        "-Uri", "-OutFile", "-Method", "-Body", "-InFile", "-Headers",
                    ],
                    false,
                );
                let send = p.has(&["-Body", "-InFile"])
                    || p.values(&["-Method"]).iter().any(|m| {
                        matches!(
                            m.text.to_ascii_lowercase().as_str(),
                            "post" | "put" | "patch"
                        )
                    });
                for u in p.values(&["-Uri"]).into_iter().chain(p.pos.iter()) {
                    let u = u.clone();
                    let _ = self.contact_arg(&u, true, send, base);
                }
                if let Some(f) = p.values(&["-InFile"]).first() {
                    let f = (*f).clone();
                    if self.upload_file(&f, &stdin, base) {
                        self.facts.secret_to_network = true;
                    }
                }
                let dl = Out::taint(Taint {
                    download: true,
                    ..Taint::default()
                });
                if let Some(o) = p.values(&["-OutFile"]).first() {
                    let o = (*o).clone();
                    self.write_output_to(&o, &dl);
                    return Out::default();
                }
                dl
            }
            _ if matches!(
                base.to_ascii_lowercase().as_str(),
                "clear-history" | "clear-eventlog" | "remove-eventlog" | "limit-eventlog"
            ) =>
            {
                self.erase_trace(&format!("`{base}` clears history or event logs"));
                Out::default()
            }
            _ if matches!(
                base.to_ascii_lowercase().as_str(),
                "iex" | "invoke-expression"
            ) =>
            {
                self.exec_taint(stdin.taint, "`Invoke-Expression`");
                for a in rest {
                    self.exec_taint(a.taint, "`Invoke-Expression`");
                }
                Out::default()
            }
            "rclone" | "azcopy" | "s3cmd" | "mc" => {
                let p = opts::parse(rest, "", &["--config", "--include", "--exclude"], false);
                let pos = p.pos_texts();
                let verb = pos.first().copied().unwrap_or("");
                let copies = matches!(
                    verb,
                    "copy" | "sync" | "move" | "copyto" | "put" | "cp" | "mirror"
                );
                let remote = |s: &str| {
                    s.contains("://")
                        || (s.contains(':') && !s.starts_with('/') && !s.starts_with('.'))
                };
                let local_tree = pos
                    .iter()
                    .skip(1)
                    .take(pos.len().saturating_sub(2))
                    .any(|s| !remote(s));
                self.facts.network = true;
                if copies && local_tree && pos.last().is_some_and(|d| remote(d)) {
                    self.upload_external(&format!(
                        "`{base} {verb}` uploads local files to remote storage"
                    ));
                }
                Out::default()
            }
            "ztcp" => {
                self.socket_tools += 1;
                if let Some(h) = rest.iter().find(|a| !a.text.starts_with('-')) {
                    let h = h.clone();
                    self.contact_host(&h.text, true, stdin.taint.secret, "ztcp");
                }
                Out::default()
            }
            _ => self.run_unknown(base, rest, stdin),
        }
    }

    fn env_dump(&mut self, via: &str) {
        self.facts.reads_secret_env = true;
        self.note(format!(
            "`{via}` dumps the environment (may contain secrets)"
        ));
    }

    fn credential_store(&mut self, what: &str) -> Out {
        self.facts.reads_credential_store = true;
        self.note(format!("{what} reads a credential store"));
        Out::taint(Taint {
            secret: true,
            ..Taint::default()
        })
    }

    fn publish(&mut self, what: &str) {
        self.facts.publish = true;
        self.note(format!("{what} publishes an artifact"));
    }

    fn deploy(&mut self, what: &str) {
        self.facts.deploy = true;
        self.note(format!("{what} deploys or applies changes"));
    }

    fn destroy_shared(&mut self, what: &str) {
        self.facts.destroys_shared = true;
        self.note(what.to_string());
    }

    fn database_force(&mut self, what: &str) {
        self.facts.database_force = true;
        self.note(format!("{what} forces a destructive schema/data change"));
    }

    // ------------------------------------------------------------------ wrappers

    fn run_sudo(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        self.facts.privileged = true;
        self.note(format!("runs with elevated privileges via `{name}`"));
        let p = opts::parse(
            rest,
            "ugpCDrtUhTc",
            &[
                "--user",
                "--group",
                "--prompt",
                "--chdir",
                "--role",
                "--type",
                "--other-user",
                "--host",
                "--close-from",
            ],
            true,
        );
        let cmd: Vec<Arg> = p
            .pos
            .into_iter()
            .skip_while(|a| is_env_assignment(&a.text))
            .collect();
        if cmd.is_empty() {
            if p.opts
                .iter()
                .any(|o| matches!(o.name.as_str(), "-i" | "-s" | "--login" | "--shell"))
            {
                self.note("opens a root shell".into());
            }
            return Out::default();
        }
        self.invoke(cmd, stdin)
    }

    fn run_su(&mut self, rest: &[Arg], stdin: Out) -> Out {
        self.facts.privileged = true;
        self.note("runs with elevated privileges via `su`".into());
        let p = opts::parse(rest, "csg", &["--command", "--shell", "--group"], false);
        match p.values(&["-c", "--command"]).first() {
            Some(cmd) => {
                let cmd = (*cmd).clone();
                self.exec_taint(cmd.taint, "`su -c`");
                self.walk_source(&cmd.text, Origin::Quoted, stdin)
            }
            None => Out::default(),
        }
    }

    fn run_env(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(rest, "uCS", &["--unset", "--chdir", "--split-string"], true);
        if let Some(s) = p.values(&["-S", "--split-string"]).first() {
            let s = (*s).clone();
            return self.walk_source(&s.text, Origin::Quoted, stdin);
        }
        let cmd: Vec<Arg> = p
            .pos
            .into_iter()
            .skip_while(|a| is_env_assignment(&a.text))
            .collect();
        if cmd.is_empty() {
            self.env_dump("env");
            return Out::taint(Taint {
                secret: true,
                ..Taint::default()
            });
        }
        self.invoke(cmd, stdin)
    }

    fn run_wrapper(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let (short, long, skip): (&str, &[&str], usize) = match name {
            "nice" => ("n", &["--adjustment"], 0),
            "ionice" => ("cnp", &["--class", "--classdata", "--pid"], 0),
            "stdbuf" => ("ioe", &["--input", "--output", "--error"], 0),
            "timeout" => ("sk", &["--signal", "--kill-after"], 1),
            "chrt" | "taskset" => ("", &[], 1),
            "time" => ("fo", &["--format", "--output"], 0),
            "exec" => ("a", &[], 0),
            "flock" => (
                "wEc",
                &["--wait", "--timeout", "--conflict-exit-code", "--command"],
                1,
            ),
            "aws-vault" => ("", &["--duration", "--region"], 1),
            "doppler" | "op-run" | "dotenv" => ("pce", &["--project", "--config", "--env-file"], 0),
            "caffeinate" => ("tw", &[], 0),
            _ => ("", &[], 0),
        };
        let p = opts::parse(rest, short, long, true);
        if name == "command" && p.has(&["-v", "-V"]) {
            return Out::default();
        }
        if name == "flock"
            && let Some(c) = p.values(&["-c", "--command"]).first()
        {
            let c = (*c).clone();
            return self.walk_source(&c.text, Origin::Quoted, stdin);
        }
        for o in p
            .values(&["-o", "--output"])
            .into_iter()
            .filter(|_| name == "time")
        {
            let _ = self.write_path(o);
        }
        let mut pos = p.pos;
        if matches!(name, "aws-vault" | "doppler" | "op-run") {
            // `aws-vault exec PROFILE -- cmd`, `doppler run -- cmd`: skip the verb (and profile).
            let verb = usize::from(!pos.is_empty());
            let profile = usize::from(name == "aws-vault");
            pos = pos.into_iter().skip(verb + profile).collect();
            self.facts.reads_credential_store = true;
            self.note(format!(
                "`{name}` injects stored credentials into the command"
            ));
        }
        let cmd: Vec<Arg> = pos.into_iter().skip(skip).collect();
        if cmd.is_empty() {
            return Out::default();
        }
        if matches!(name, "torsocks" | "proxychains" | "proxychains4" | "tsocks") {
            self.note(format!("traffic routed through `{name}`"));
        }
        self.invoke(cmd, stdin)
    }

    fn run_xargs(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(
            rest,
            "aEeIiLlnPsd",
            &[
                "--arg-file",
                "--eof",
                "--replace",
                "--max-lines",
                "--max-args",
                "--max-procs",
                "--max-chars",
                "--delimiter",
            ],
            true,
        );
        for f in p.values(&["-a", "--arg-file"]) {
            let _ = self.read_path(f);
        }
        let item = match stdin.paths.first() {
            Some(path) => Arg {
                text: path.clone(),
                literal: false,
                taint: stdin.taint,
                expanded: true,
                ..Arg::default()
            },
            None => Arg {
                text: UNKNOWN.to_string(),
                literal: false,
                taint: stdin.taint,
                expanded: true,
                ..Arg::default()
            },
        };
        let replace = p
            .values(&["-I", "--replace", "-i"])
            .first()
            .map(|a| a.text.clone());
        let mut cmd: Vec<Arg> = if p.pos.is_empty() {
            vec![Arg::lit("echo")]
        } else {
            p.pos.clone()
        };
        match replace {
            Some(r) if !r.is_empty() => {
                for a in cmd.iter_mut().skip(1) {
                    if a.text.contains(&r) {
                        a.text = a.text.replace(&r, &item.text);
                        a.taint = a.taint.union(item.taint);
                    }
                }
            }
            _ => cmd.push(item),
        }
        self.invoke(cmd, Out::default())
    }

    fn run_find(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let _ = stdin;
        let mut starts: Vec<Arg> = Vec::new();
        let mut i = 0;
        // Leading -H/-L/-P/-O/-D options, then start paths, then the expression.
        while i < rest.len() && matches!(rest[i].text.as_str(), "-H" | "-L" | "-P") {
            i += 1;
        }
        while i < rest.len()
            && !rest[i].text.starts_with('-')
            && !matches!(rest[i].text.as_str(), "(" | "!" | ")")
        {
            starts.push(rest[i].clone());
            i += 1;
        }
        if starts.is_empty() {
            starts.push(Arg::lit("."));
        }
        let mut out = Out::default();
        for s in &starts {
            self.list_path(s);
            out.paths.push(self.resolve(&s.text));
        }
        // What -delete/-exec act on lies below each start point.
        let below: Vec<Arg> = starts
            .iter()
            .map(|s| s.derive(&format!("{}/**", s.text.trim_end_matches('/'))))
            .collect();
        // A test that selects some files, before `-delete`, keeps it from deleting everything.
        let mut filtered = false;
        while i < rest.len() {
            let t = rest[i].text.as_str();
            i += 1;
            if FIND_FILTERS.contains(&t) && !matches!(t, "-type" | "-xtype") {
                filtered = true;
            }
            match t {
                "-delete" => {
                    for s in below.clone() {
                        self.delete_path(&s, true, true);
                    }
                    if !filtered {
                        for s in &starts {
                            let class = self.classify(s);
                            if let Some(c) = class.filter(|c| c.workspace_root || c.git_store) {
                                self.facts.destroys_workspace = true;
                                let what = if c.git_store {
                                    "the repository's git history"
                                } else {
                                    "the whole workspace, `.git` included"
                                };
                                self.note(format!(
                                    "`find {} -delete` with no filter deletes {what}",
                                    s.text
                                ));
                            }
                        }
                    }
                }
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    let mut cmd: Vec<Arg> = Vec::new();
                    while i < rest.len() && !matches!(rest[i].text.as_str(), ";" | "+" | "\\;") {
                        cmd.push(rest[i].clone());
                        i += 1;
                    }
                    i += 1;
                    for s in below.clone() {
                        let with_path: Vec<Arg> = cmd
                            .iter()
                            .map(|a| {
                                if a.text.contains("{}") {
                                    s.derive(&a.text.replace("{}", &s.text))
                                } else {
                                    a.clone()
                                }
                            })
                            .collect();
                        let o = self.invoke(with_path, Out::default());
                        out.taint = out.taint.union(o.taint);
                    }
                }
                "-fprint" | "-fprint0" | "-fprintf" | "-fls" => {
                    if let Some(f) = rest.get(i) {
                        let _ = self.write_path(f);
                    }
                    i += 1;
                }
                _ => {}
            }
        }
        out
    }

    fn run_npx(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let rest: Vec<Arg> = if name == "pipx" && rest.first().is_some_and(|a| a.text == "run") {
            rest.get(1..).map(<[Arg]>::to_vec).unwrap_or_default()
        } else {
            rest.to_vec()
        };
        let p = opts::parse(
            &rest,
            "pc",
            &[
                "--package",
                "--call",
                "--from",
                "--with",
                "--python",
                "--spec",
            ],
            true,
        );
        if let Some(c) = p.values(&["-c", "--call"]).first() {
            let c = (*c).clone();
            return self.walk_source(&c.text, Origin::Quoted, stdin);
        }
        let mut cmd = p.pos;
        if let Some(first) = cmd.first_mut() {
            first.text = package_bin(&first.text);
            first.expanded = false;
            self.invoke(cmd, stdin)
        } else {
            Out::default()
        }
    }

    // ------------------------------------------------------------------ shells

    fn run_shell(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(rest, "cOo", &["--rcfile", "--init-file", "--command"], true);
        if let Some(cmd) = p.values(&["-c", "--command"]).first() {
            let cmd = (*cmd).clone();
            self.exec_taint(cmd.taint, &format!("`{name} -c`"));
            if let Some(o) = &cmd.process {
                self.exec_taint(o.taint, &format!("`{name} -c`"));
            }
            return self.walk_source(&cmd.text, Origin::Quoted, stdin);
        }
        match p.pos.first() {
            Some(script) if script.text != "-" && !p.has(&["-s"]) => {
                let mut t = self.read_path(script);
                if let Some(o) = &script.process {
                    t = t.union(o.taint);
                }
                self.exec_taint(t, &format!("`{name}`"));
                if let Some(text) = self.text_of(script) {
                    let _ = self.walk_source(&text, Origin::Quoted, Out::default());
                }
                Out::default()
            }
            _ => {
                self.stdin_shells += 1;
                if self.net_io {
                    self.reverse_shell(&format!(
                        "`{name}` reads commands from and writes output to a network connection"
                    ));
                }
                self.exec_text(&stdin, &format!("`{name}`"));
                Out::default()
            }
        }
    }

    fn run_eval(&mut self, rest: &[Arg]) -> Out {
        let text: Vec<&str> = texts(rest);
        let joined = text.join(" ");
        let taint = rest.iter().fold(Taint::default(), |t, a| t.union(a.taint));
        self.exec_taint(taint, "`eval`");
        let known = rest.iter().all(Arg::known);
        let computed = rest.iter().any(|a| a.substitution || a.expanded);
        if known {
            if computed && (taint.decoded || taint.escaped) {
                self.facts.obfuscated = true;
            }
            return self.walk_source(&joined, Origin::Quoted, Out::default());
        }
        let init = rest.iter().all(|a| !a.expanded || a.init_subst());
        if !init {
            self.facts.dynamic_program = true;
            self.facts.obfuscated = true;
            self.note("`eval` executes text computed at run time".into());
        }
        Out::default()
    }

    fn run_interpreter(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let (code_flags, val_flags): (&[&str], &str) = match name {
            n if n.starts_with("python") || n == "pypy" || n == "pypy3" => (&["-c"], "cmWXQ"),
            "node" | "nodejs" | "deno" | "bun" => (&["-e", "-p", "--eval", "--print"], "erp"),
            "perl" => (&["-e", "-E"], "eEIMm"),
            "ruby" => (&["-e"], "eIr"),
            "php" => (&["-r"], "rdc"),
            "pwsh" | "powershell" => (
                &[
                    "-c",
                    "-Command",
                    "-command",
                    "-EncodedCommand",
                    "-e",
                    "-enc",
                ],
                "",
            ),
            "lua" | "luajit" => (&["-e"], "el"),
            "osascript" => (&["-e"], "e"),
            "Rscript" => (&["-e"], "e"),
            _ => (&[], ""),
        };
        let longs: Vec<&str> = code_flags
            .iter()
            .copied()
            .filter(|f| f.starts_with("--"))
            .collect();
        let p = opts::parse(rest, val_flags, &longs, true);
        let ps_code = if name == "pwsh" || name == "powershell" {
            rest.iter()
                .position(|a| code_flags.contains(&a.text.as_str()))
                .map(|i| (rest[i].text.clone(), rest.get(i + 1).cloned()))
        } else {
            None
        };
        if let Some((flag, Some(code))) = ps_code {
            if flag.to_ascii_lowercase().starts_with("-e") {
                self.facts.obfuscated = true;
                self.note("PowerShell runs an encoded command".into());
            }
            self.exec_taint(code.taint, &format!("`{name}`"));
            self.scan_code(&code.text, name);
            return self.generic_out(rest, &stdin);
        }
        let code: Vec<Arg> = p.values(code_flags).into_iter().cloned().collect();
        if !code.is_empty() {
            for c in &code {
                self.exec_taint(c.taint, &format!("`{name}`"));
                if let Some(o) = &c.process {
                    self.exec_taint(o.taint, &format!("`{name}`"));
                }
                self.scan_code(&c.text, name);
            }
            return self.generic_out(rest, &stdin);
        }
        if let Some(m) = p.values(&["-m"]).first() {
            let m = (*m).clone();
            let mut cmd = vec![m.derive(&m.text)];
            cmd.extend(p.pos.iter().cloned());
            if matches!(
                m.text.as_str(),
                "twine" | "pip" | "poetry" | "build" | "hatch" | "flit"
            ) {
                cmd[0].text = m.text.clone();
                return self.invoke(cmd, stdin);
            }
            return self.generic_out(rest, &stdin);
        }
        match p.pos.first() {
            Some(script) if script.text != "-" => {
                let mut t = self.read_path(script);
                if let Some(o) = &script.process {
                    t = t.union(o.taint);
                }
                self.exec_taint(t, &format!("`{name}`"));
                if let Some(text) = self.text_of(script) {
                    self.scan_code(&text, name);
                }
                let args: Vec<&str> = p.pos.iter().skip(1).map(|a| a.text.as_str()).collect();
                if script.text.ends_with("manage.py")
                    && args
                        .first()
                        .is_some_and(|a| matches!(*a, "flush" | "reset_db" | "sqlflush"))
                {
                    self.database_force("`manage.py`");
                }
                if script.text.ends_with("artisan")
                    && args.first().is_some_and(|a| {
                        matches!(
                            *a,
                            "migrate:fresh" | "migrate:reset" | "migrate:refresh" | "db:wipe"
                        )
                    })
                {
                    self.database_force("`artisan`");
                }
                for a in p.pos.iter().skip(1) {
                    if a.text.contains("://") {
                        let _ = self.contact_arg(a, false, false, name);
                    }
                }
                self.generic_out(rest, &stdin)
            }
            _ => {
                self.stdin_shells += 1;
                if self.net_io {
                    self.reverse_shell(&format!(
                        "`{name}` reads code from and writes output to a network connection"
                    ));
                }
                self.exec_taint(stdin.taint, &format!("`{name}`"));
                if let Some(t) = &stdin.text {
                    self.scan_code(t, name);
                }
                Out::default()
            }
        }
    }

    /// Inline code in another language: URLs it names, secret paths it names, decode-and-exec.
    fn scan_code(&mut self, code: &str, via: &str) {
        let cf = crate::normalize::code::scan(code);
        let mut secret = false;
        let shows = cf.prints || cf.sends || cf.socket;
        if cf.env_dump {
            secret = true;
            if shows {
                self.facts.reads_secret_env = true;
                self.note(format!("`{via}` code reads the whole environment"));
            }
        }
        if !cf.secret_env.is_empty() {
            secret = true;
            if shows {
                self.facts.reads_secret_env = true;
                self.note(format!(
                    "`{via}` code reads secret environment variable `{}`",
                    cf.secret_env.join("`, `")
                ));
            }
        }
        let send = cf.sends || cf.socket;
        let mut external = false;
        let mut destinations = 0usize;
        for url in crate::normalize::text::find_urls(code) {
            if let Some(kind) = self.contact_arg(&Arg::lit(url), false, send, via) {
                destinations += 1;
                external |= kind == HostKind::External;
            }
        }
        for host in &cf.socket_hosts {
            destinations += 1;
            external |= self.contact_host(host, true, false, via) == HostKind::External;
        }
        if send {
            self.facts.network = true;
            self.facts.network_send = true;
            self.not_read_only();
        }
        for token in code.split(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '"' | '\'' | '(' | ')' | ',' | ';' | '`' | '[' | ']' | '{' | '}'
                )
        }) {
            if (token.starts_with("~/") || token.starts_with('/') || token.starts_with(".env"))
                && let Some(class) = self.classify(&Arg::lit(token))
                && (class.is_secret() || class.workspace_env)
            {
                secret |= self.read_class(&class).secret;
            }
        }
        if cf.download_exec && !cf.reverse_shell {
            self.facts.download_to_interpreter = true;
            self.note(format!("`{via}` code downloads code and evaluates it"));
        }
        // Secret data and an external destination in one program: a query string carries it
        // as well as a POST body does.
        if secret && ((send && destinations == 0) || external) {
            self.facts.secret_to_network = true;
            self.note(format!(
                "`{via}` code sends secret data (environment or secret files) over the network"
            ));
        }
        if cf.reverse_shell {
            self.reverse_shell(&format!("`{via}` code attaches a shell to a socket"));
        }
        if cf.fork_loop {
            self.facts.resource_exhaustion = true;
            self.note(format!("`{via}` code forks in an endless loop (fork bomb)"));
        }
        if cf.clears_logs {
            self.erase_trace(&format!("`{via}` code clears event logs or history"));
        }
        for shell in embedded_shell(code) {
            self.note(format!("`{via}` code runs shell text"));
            let _ = self.walk_source(&shell, Origin::Quoted, Out::default());
        }
        let lower = code.to_ascii_lowercase();
        let decodes = [
            "b64decode",
            "base64",
            "atob(",
            "frombase64string",
            "decode('hex')",
            "bytes.fromhex",
            "unhexlify",
            "codecs.decode",
        ]
        .iter()
        .any(|d| lower.contains(d));
        let executes = [
            "exec(",
            "eval(",
            "system(",
            "popen(",
            "function(",
            "subprocess",
            "child_process",
            "iex",
            "invoke-expression",
        ]
        .iter()
        .any(|d| lower.contains(d));
        if decodes && executes {
            self.facts.obfuscated = true;
            self.note(format!("`{via}` code decodes and executes hidden text"));
        }
    }

    // ------------------------------------------------------------------ text producers

    fn run_printf(&mut self, rest: &[Arg]) -> Out {
        let p = opts::parse(rest, "v", &[], true);
        let Some(fmt) = p.pos.first() else {
            return Out::default();
        };
        let (decoded, coded) = crate::normalize::text::decode_escapes(&fmt.text, true);
        let args = &p.pos[1..];
        let mut taint = args.iter().fold(fmt.taint, |t, a| t.union(a.taint));
        taint.escaped |= coded;
        let known = fmt.known() && args.iter().all(Arg::known);
        let text = known.then(|| {
            let mut out = String::new();
            let mut it = args.iter();
            let mut chars = decoded.chars().peekable();
            while let Some(c) = chars.next() {
                if c != '%' {
                    out.push(c);
                    continue;
                }
                // Skip flags/width, take the conversion.
                let mut conv = None;
                while let Some(&n) = chars.peek() {
                    chars.next();
                    if n.is_ascii_alphabetic() || n == '%' {
                        conv = Some(n);
                        break;
                    }
                }
                match conv {
                    Some('%') => out.push('%'),
                    Some('b') => {
                        let (d, c2) = crate::normalize::text::decode_escapes(
                            it.next().map_or("", |a| a.text.as_str()),
                            true,
                        );
                        taint.escaped |= c2;
                        out.push_str(&d);
                    }
                    Some(_) => out.push_str(it.next().map_or("", |a| a.text.as_str())),
                    None => {}
                }
            }
            out
        });
        if let Some(var) = p.values(&["-v"]).first() {
            let name = var.text.clone();
            self.set_unknown_var(&name, taint);
            return Out::default();
        }
        Out {
            taint,
            text,
            ..Out::default()
        }
    }

    fn run_base64(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(rest, "wb", &["--wrap"], false);
        let decode =
            p.has(&["-d", "-D", "--decode", "-di", "-id"]) || p.opts.iter().any(|o| o.name == "-d");
        let mut taint = stdin.taint;
        let mut file_text = None;
        for f in &p.pos {
            taint = taint.union(self.read_path(f));
            file_text = Some(());
        }
        if !decode {
            return Out::taint(taint);
        }
        taint.decoded = true;
        let text = if file_text.is_none() && name != "base32" {
            stdin.text.as_ref().and_then(|t| {
                let clean: String = t.chars().filter(|c| !c.is_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(clean.as_bytes())
                    .or_else(|_| {
                        base64::engine::general_purpose::STANDARD_NO_PAD
                            .decode(clean.trim_end_matches('=').as_bytes())
                    })
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
            })
        } else {
            None
        };
        Out {
            taint,
            text,
            ..Out::default()
        }
    }

    fn run_xxd(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(rest, "cglosn", &[], false);
        let mut taint = stdin.taint;
        if let Some(f) = p.pos.first() {
            taint = taint.union(self.read_path(f));
        }
        let out = Out::taint(taint);
        if let Some(f) = p.pos.get(1) {
            self.write_output_to(f, &out);
        }
        if p.has(&["-r", "-revert"]) {
            let text = if p.has(&["-p", "-ps", "-plain"]) && p.pos.is_empty() {
                stdin
                    .text
                    .as_ref()
                    .and_then(|t| hex::decode(t.split_whitespace().collect::<String>()).ok())
                    .and_then(|b| String::from_utf8(b).ok())
            } else {
                None
            };
            return Out {
                taint: Taint {
                    decoded: true,
                    ..taint
                },
                text,
                ..Out::default()
            };
        }
        out
    }

    fn run_openssl(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let sub = rest.first().map(|a| a.text.clone()).unwrap_or_default();
        let mut taint = stdin.taint;
        for (i, a) in rest.iter().enumerate() {
            match a.text.as_str() {
                "-in" | "-inkey" | "-key" | "-passin" => {
                    if let Some(f) = rest.get(i + 1) {
                        let f = f.clone();
                        taint = taint.union(self.read_path(&f));
                    }
                }
                "-out" => {
                    if let Some(f) = rest.get(i + 1) {
                        let f = f.clone();
                        self.write_output_to(&f, &Out::taint(taint));
                    }
                }
                "-connect" => {
                    self.socket_tools += 1;
                    if let Some(h) = rest.get(i + 1) {
                        let h = h.clone();
                        let host = h
                            .text
                            .rsplit_once(':')
                            .map_or(h.text.as_str(), |(h, _)| h)
                            .to_string();
                        self.contact_host(&host, true, stdin.taint.secret, "openssl s_client");
                    }
                }
                _ => {}
            }
        }
        if (sub == "base64" || sub == "enc") && has_any(rest, &["-d", "-decode"]) {
            taint.decoded = true;
        }
        Out::taint(taint)
    }

    fn run_gpg(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let t = texts(rest);
        if t.iter()
            .any(|a| matches!(*a, "--export-secret-keys" | "--export-secret-subkeys"))
        {
            return self.credential_store("`gpg --export-secret-keys`");
        }
        let mut taint = stdin.taint;
        for a in rest.iter().filter(|a| !a.text.starts_with('-')) {
            taint = taint.union(self.read_path(a));
        }
        if t.iter().any(|a| matches!(*a, "-d" | "--decrypt")) {
            taint.secret = true;
        }
        Out::taint(taint)
    }

    // ------------------------------------------------------------------ files

    fn run_reader(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let short = match name {
            "head" | "tail" => "ncs",
            "cut" => "bcdf",
            "column" => "cstoR",
            "fold" | "fmt" => "w",
            "nl" => "bdfhilnsvw",
            "diff" => "CUFIL",
            "ls" | "tree" => "IwLPT",
            "du" => "dBt",
            "fd" | "fdfind" => "etdEcjS",
            "iconv" => "fto",
            _ => "",
        };
        let p = opts::parse(
            rest,
            short,
            &[
                "--lines",
                "--bytes",
                "--ignore",
                "--exclude",
                "--max-depth",
                "--type",
                "--extension",
            ],
            false,
        );
        let mut taint = stdin.taint;
        let mut pos = p.pos.clone();
        if matches!(name, "fd" | "fdfind") && !pos.is_empty() {
            pos.remove(0);
        }
        let listing = matches!(
            name,
            "ls" | "tree" | "du" | "stat" | "file" | "fd" | "fdfind"
        );
        for f in &pos {
            if listing {
                self.list_path(f);
            } else {
                taint = taint.union(self.read_path(f));
            }
        }
        let text = if name == "cat" && pos.is_empty() {
            stdin.text.clone()
        } else {
            None
        };
        let paths = if matches!(name, "ls" | "fd" | "fdfind" | "tree") {
            pos.iter().map(|f| self.resolve(&f.text)).collect()
        } else {
            Vec::new()
        };
        if matches!(name, "pbcopy" | "xclip" | "xsel" | "wl-copy") && taint.secret {
            self.note("secret data copied to the clipboard".into());
        }
        Out {
            taint,
            text,
            paths,
            init: false,
        }
    }

    fn run_grep(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let short = if name == "rg" {
            "efgtTmABCjM"
        } else {
            "efmABCdD"
        };
        let p = opts::parse(
            rest,
            short,
            &[
                "--regexp",
                "--file",
                "--max-count",
                "--glob",
                "--type",
                "--include",
                "--exclude",
                "--exclude-dir",
                "--context",
                "--after-context",
                "--before-context",
            ],
            false,
        );
        let has_pattern = p.has(&["-e", "-f", "--regexp", "--file"]);
        let files: Vec<Arg> = p
            .pos
            .iter()
            .skip(usize::from(!has_pattern))
            .cloned()
            .collect();
        let mut taint = stdin.taint;
        for f in p.values(&["-f", "--file"]) {
            taint = taint.union(self.read_path(f));
        }
        let recursive =
            name == "rg" || name == "ag" || name == "ack" || p.has(&["-r", "-R", "--recursive"]);
        if files.is_empty() && recursive {
            taint = taint.union(self.read_path(&Arg::lit(".")));
        }
        for f in &files {
            taint = taint.union(self.read_path(f));
        }
        if recursive {
            // A recursive search reads every file below: a `.env` or key inside is read too.
            let roots: Vec<String> = if files.is_empty() {
                vec![".".into()]
            } else {
                files.iter().map(|f| f.text.clone()).collect()
            };
            for r in roots {
                if let Some(class) = self.classify(&Arg::lit(&r))
                    && (class.resolved == self.env.home || class.critical_dir)
                {
                    self.note(format!(
                        "recursive search over `{}`",
                        self.display(&class.resolved)
                    ));
                }
            }
        }
        Out::taint(taint)
    }

    fn run_sed(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(
            rest,
            "efl",
            &["--expression", "--file", "--line-length"],
            false,
        );
        let has_script = p.has(&["-e", "-f", "--expression", "--file"]);
        let in_place = p
            .opts
            .iter()
            .any(|o| o.name == "-i" || o.name == "--in-place" || o.name.starts_with("--in-place"));
        let files: Vec<Arg> = p
            .pos
            .iter()
            .skip(usize::from(!has_script))
            .cloned()
            .collect();
        let mut taint = stdin.taint;
        for f in &files {
            taint = taint.union(self.read_path(f));
            if in_place {
                let _ = self.write_path(f);
            }
        }
        Out::taint(taint)
    }

    fn run_copy(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let (short, long): (&str, &[&str]) = match name {
            "rsync" => (
                "eBfT",
                &[
                    "--rsh",
                    "--exclude",
                    "--include",
                    "--filter",
                    "--files-from",
                    "--password-file",
                    "--port",
                    "--log-file",
                    "--chmod",
                    "--chown",
                    "--backup-dir",
                    "--temp-dir",
                    "--timeout",
                    "--bwlimit",
                ],
            ),
            "scp" => ("cFiJloPS", &[]),
            "install" => (
                "gmotS",
                &[
                    "--group",
                    "--mode",
                    "--owner",
                    "--target-directory",
                    "--suffix",
                ],
            ),
            _ => ("tS", &["--target-directory", "--suffix"]),
        };
        let p = opts::parse(rest, short, long, false);
        let mut pos = p.pos.clone();
        let target = match p.values(&["-t", "--target-directory"]).first() {
            Some(t) => Some((*t).clone()),
            None if pos.len() >= 2 => pos.pop(),
            None => None,
        };
        if matches!(name, "rsync" | "scp") {
            let recursive = p.has(&["-r", "-a", "-R", "--recursive", "--archive"])
                || p.opts.iter().any(|o| {
                    o.name.len() > 2
                        && !o.name.starts_with("--")
                        && (o.name.contains('a') || o.name.contains('r'))
                });
            return self.run_transfer(name, &pos, target.as_ref(), &stdin, recursive);
        }
        let mut taint = Taint::default();
        for s in &pos {
            taint = taint.union(self.read_path(s));
            if name == "mv" {
                let _ = self.write_path(s);
            }
        }
        if let Some(t) = target {
            let out = Out::taint(taint);
            self.write_output_to(&t, &out);
            // Into a directory: the copy lands below it.
            for s in &pos {
                let base = s
                    .text
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string();
                if !base.is_empty() && taint != Taint::default() {
                    let inner = self.resolve(&format!("{}/{base}", t.text));
                    self.tainted_files.insert(inner, taint);
                }
            }
        }
        Out::default()
    }

    fn run_transfer(
        &mut self,
        name: &str,
        sources: &[Arg],
        target: Option<&Arg>,
        stdin: &Out,
        recursive: bool,
    ) -> Out {
        let remote = |a: &Arg| {
            crate::normalize::hosts::parse_remote(&a.text, false).is_some()
                && !a.text.starts_with('/')
        };
        let Some(target) = target else {
            return Out::default();
        };
        if remote(target) {
            let mut taint = stdin.taint;
            let mut tree = false;
            for s in sources {
                if remote(s) {
                    let _ = self.contact_arg(s, false, false, name);
                } else {
                    taint = taint.union(self.read_path(s));
                    taint.bulk |= is_archive_name(&s.text);
                    // A directory tree (recursive copy) that is not a system location.
                    tree |= recursive && self.classify(s).is_some_and(|c| !c.system);
                }
            }
            let kind = self.contact_arg(target, false, true, name);
            if taint.secret {
                self.facts.secret_to_network = true;
                self.note(format!("secret files uploaded by `{name}`"));
            }
            if (taint.bulk || tree) && kind == Some(HostKind::External) {
                self.upload_external(&format!(
                    "`{name}` copies a directory tree or archive to an external host"
                ));
            }
        } else {
            for s in sources {
                if remote(s) {
                    let _ = self.contact_arg(s, false, false, name);
                } else {
                    let _ = self.read_path(s);
                }
            }
            let _ = self.write_path(target);
        }
        Out::default()
    }

    fn run_rm(&mut self, rest: &[Arg]) -> Out {
        let p = opts::parse(rest, "", &[], false);
        let recursive = p.has(&["-r", "-R", "--recursive"]);
        let forced = p.has(&["-f", "--force"]);
        if p.has(&["--no-preserve-root"]) {
            self.destroys_outside();
            self.note("`rm --no-preserve-root`".into());
        }
        for f in &p.pos {
            self.delete_path(f, recursive, forced);
        }
        Out::default()
    }

    fn run_chmod(&mut self, name: &str, rest: &[Arg]) -> Out {
        let p = opts::parse(rest, "", &["--reference"], false);
        let recursive = p.has(&["-R", "--recursive"]);
        let skip = usize::from(!p.has(&["--reference"]));
        let verb = match name {
            "chown" | "chgrp" => "ownership",
            "chattr" => "attribute",
            "setfacl" => "access-control",
            _ => "permission",
        };
        for f in p.pos.iter().skip(skip) {
            let Some(class) = self.write_path(f) else {
                continue;
            };
            if !recursive || !(class.critical_dir || class.write_outside_workspace()) {
                continue;
            }
            let shown = self.display(&class.resolved);
            if class.critical_dir || system_root(&class.resolved) {
                // `/`, the home directory, `/etc`, `/usr`, …: the machine stops working.
                self.destroys_outside();
                self.note(format!(
                    "recursive {verb} change on `{shown}` can break the system or lock the user out"
                ));
            } else {
                self.facts.changes_permissions_outside_workspace = true;
                self.note(format!(
                    "recursive {verb} change on `{shown}` outside the workspace"
                ));
            }
        }
        Out::default()
    }

    fn run_dd(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let mut taint = stdin.taint;
        let mut out_file = None;
        let mut endless = false;
        for a in rest {
            if let Some(v) = a.text.strip_prefix("if=") {
                taint = taint.union(self.read_path(&a.derive(v)));
                endless = matches!(v, "/dev/zero" | "/dev/urandom" | "/dev/random");
            } else if let Some(v) = a.text.strip_prefix("of=") {
                out_file = Some(a.derive(v));
            }
        }
        let bounded = rest.iter().any(|a| a.text.starts_with("count="));
        if endless
            && !bounded
            && let Some(f) = &out_file
            && self
                .classify(f)
                .is_some_and(|c| !c.block_device && !c.null_device)
        {
            self.facts.resource_exhaustion = true;
            self.note(format!(
                "`dd` from an endless source with no `count=` fills the disk through `{}`",
                f.text
            ));
        }
        let out = Out::taint(taint);
        if let Some(f) = out_file {
            self.write_output_to(&f, &out);
            return Out::default();
        }
        out
    }

    fn run_tar(&mut self, rest: &[Arg], stdin: Out) -> Out {
        // Old-style first argument without a dash: `tar czf out.tgz dir`.
        let mut args: Vec<Arg> = rest.to_vec();
        if let Some(first) = args.first_mut()
            && !first.text.starts_with('-')
            && first.text.chars().all(|c| c.is_ascii_alphabetic())
        {
            first.text = format!("-{}", first.text);
        }
        let p = opts::parse(
            &args,
            "fCTXbKLVgN",
            &[
                "--file",
                "--directory",
                "--files-from",
                "--exclude-from",
                "--exclude",
                "--transform",
                "--use-compress-program",
            ],
            false,
        );
        let create = p.has(&["-c", "--create", "-r", "--append", "-u", "--update"]);
        let extract = p.has(&["-x", "--extract", "--get"]);
        let archive = p.values(&["-f", "--file"]).first().map(|a| (*a).clone());
        if create {
            let mut taint = Taint {
                bulk: true,
                ..Taint::default()
            };
            for f in &p.pos {
                taint = taint.union(self.read_path(f));
            }
            let out = Out::taint(taint);
            match archive {
                Some(a) if a.text != "-" => {
                    self.write_output_to(&a, &out);
                    Out::default()
                }
                _ => out,
            }
        } else {
            let mut taint = stdin.taint;
            if let Some(a) = archive.filter(|a| a.text != "-") {
                taint = taint.union(self.read_path(&a));
            }
            if extract {
                let dir = p
                    .values(&["-C", "--directory"])
                    .first()
                    .map_or_else(|| Arg::lit("."), |d| (*d).clone());
                let _ = self.write_path(&dir);
            }
            Out::taint(taint)
        }
    }

    fn run_zip(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(rest, "xiPb", &["--password"], false);
        let mut pos = p.pos.clone();
        if name != "zip" && !pos.is_empty() {
            pos.remove(0); // 7z/rar verb
        }
        if pos.is_empty() {
            return Out::default();
        }
        let archive = pos.remove(0);
        let mut taint = Taint {
            bulk: true,
            ..stdin.taint
        };
        for f in &pos {
            taint = taint.union(self.read_path(f));
        }
        if archive.text == "-" {
            return Out::taint(taint);
        }
        self.write_output_to(&archive, &Out::taint(taint));
        Out::default()
    }

    // ------------------------------------------------------------------ secrets

    fn run_secret_store(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let t = texts(rest);
        let sub = t
            .iter()
            .find(|a| !a.starts_with('-'))
            .copied()
            .unwrap_or("");
        let reads = match name {
            "security" => sub.starts_with("find-") || matches!(sub, "dump-keychain" | "export"),
            "secret-tool" => matches!(sub, "lookup" | "search"),
            "keyring" => sub == "get",
            "op" => matches!(sub, "read" | "item" | "inject" | "document" | "run"),
            "pass" | "gopass" => !matches!(
                sub,
                "" | "ls"
                    | "list"
                    | "find"
                    | "search"
                    | "init"
                    | "git"
                    | "generate"
                    | "insert"
                    | "edit"
                    | "rm"
            ),
            "bw" => matches!(sub, "get" | "list" | "export"),
            "lpass" => matches!(sub, "show" | "export"),
            "vault" => matches!(sub, "read" | "kv" | "login" | "token") && !t.contains(&"put"),
            "sops" => t
                .iter()
                .any(|a| matches!(*a, "-d" | "--decrypt" | "exec-env" | "exec-file")),
            "infisical" => matches!(sub, "secrets" | "export" | "run"),
            "chamber" => matches!(sub, "read" | "export" | "exec" | "env"),
            "keepassxc-cli" => matches!(sub, "show" | "clip" | "export"),
            "age" => t.iter().any(|a| matches!(*a, "-d" | "--decrypt")),
            _ => false,
        };
        for a in rest
            .iter()
            .filter(|a| a.text.contains('/') && !a.text.starts_with('-'))
        {
            let _ = self.read_path(a);
        }
        if reads {
            let label = format!("`{name} {sub}`");
            let out = self.credential_store(label.trim_end());
            return Out::taint(out.taint.union(stdin.taint));
        }
        self.generic_out(rest, &stdin)
    }

    // ------------------------------------------------------------------ network

    fn upload_file(&mut self, arg: &Arg, stdin: &Out, program: &str) -> bool {
        self.upload_taint(arg, stdin, program).secret
    }

    /// What an uploaded file (or stdin, for `-`) carries; archives count as bulk.
    fn upload_taint(&mut self, arg: &Arg, stdin: &Out, program: &str) -> Taint {
        if arg.text == "-" || arg.text == "/dev/stdin" {
            return stdin.taint;
        }
        let mut t = self.read_path(arg);
        if t.secret {
            self.note(format!(
                "`{program}` uploads secret file `{}`",
                self.display(&self.resolve(&arg.text))
            ));
        }
        t.bulk |= is_archive_name(&arg.text);
        t
    }

    fn run_curl(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(
            rest,
            "dFTHoXuxAeEbcDKrwmYyzCQtP",
            &[
                "--data",
                "--data-raw",
                "--data-binary",
                "--data-urlencode",
                "--data-ascii",
                "--json",
                "--form",
                "--form-string",
                "--upload-file",
                "--header",
                "--output",
                "--request",
                "--user",
                "--proxy",
                "--user-agent",
                "--referer",
                "--cert",
                "--key",
                "--cookie",
                "--cookie-jar",
                "--dump-header",
                "--config",
                "--range",
                "--write-out",
                "--max-time",
                "--connect-timeout",
                "--retry",
                "--url",
                "--resolve",
                "--interface",
                "--cacert",
                "--output-dir",
                "--unix-socket",
                "--limit-rate",
                "--stderr",
                "--trace",
                "--trace-ascii",
                "--oauth2-bearer",
                "--variable",
                "--expand-url",
                "--quote",
                "--retry-delay",
                "--retry-max-time",
                "--time-cond",
                "--proto",
                "--proto-redir",
                "--aws-sigv4",
                "--mail-from",
                "--mail-rcpt",
                "--pass",
                "--connect-to",
                "--dns-servers",
                "--form-escape",
                "--socks5",
                "--socks5-hostname",
                "--preproxy",
                "--noproxy",
                "--header-file",
            ],
            false,
        );
        let mut send = false;
        let mut secret = false;
        let mut data_bulk = false;
        for d in p.values(&[
            "-d",
            "--data",
            "--data-raw",
            "--data-binary",
            "--data-ascii",
            "--json",
            "--data-urlencode",
        ]) {
            send = true;
            let file = d.text.strip_prefix('@').or_else(|| {
                d.text
                    .split_once('@')
                    .map(|(_, f)| f)
                    .filter(|_| !d.text.contains('='))
            });
            if let Some(f) = file.filter(|f| !f.is_empty()) {
                let t = self.upload_taint(&d.derive(f), &stdin, "curl");
                secret |= t.secret;
                data_bulk |= t.bulk;
            } else {
                secret |= d.taint.secret;
            }
        }
        for f in p.values(&["-F", "--form"]) {
            send = true;
            let value = f.text.split_once('=').map_or("", |(_, v)| v);
            if let Some(file) = value.strip_prefix('@').or_else(|| value.strip_prefix('<')) {
                let file = file.split(';').next().unwrap_or(file);
                let t = self.upload_taint(&f.derive(file), &stdin, "curl");
                secret |= t.secret;
                data_bulk |= t.bulk;
            } else {
                secret |= f.taint.secret;
            }
        }
        let mut bulk = data_bulk;
        for f in p.values(&["-T", "--upload-file"]) {
            send = true;
            let t = self.upload_taint(f, &stdin, "curl");
            secret |= t.secret;
            // `-T` uploads a file as it is: any file of the workspace counts.
            let in_workspace = self.classify(f).is_some_and(|c| c.in_workspace);
            bulk |= t.bulk || in_workspace;
        }
        for f in p.values(&["-K", "--config"]) {
            let _ = self.read_path(f);
        }
        if p.values(&["-X", "--request"]).iter().any(|m| {
            matches!(
                m.text.to_ascii_uppercase().as_str(),
                "POST" | "PUT" | "PATCH" | "DELETE"
            )
        }) {
            send = true;
        }
        let header_secret = p
            .values(&[
                "-H",
                "--header",
                "-u",
                "--user",
                "--oauth2-bearer",
                "-b",
                "--cookie",
            ])
            .iter()
            .any(|h| h.taint.secret);
        secret |= stdin.taint.secret;
        let mut urls: Vec<Arg> = p.pos.clone();
        urls.extend(p.values(&["--url"]).into_iter().cloned());
        let mut any_external = false;
        for u in &urls {
            if let Some(kind) = self.contact_arg(u, true, send, "curl") {
                any_external |= kind == HostKind::External;
            }
        }
        if let Some(proxy) = p.values(&["-x", "--proxy"]).first() {
            let proxy = (*proxy).clone();
            let _ = self.contact_arg(&proxy, true, false, "curl");
        }
        if secret || (header_secret && any_external) {
            self.facts.secret_to_network = true;
            self.facts.network_send = true;
            self.note("`curl` sends secret data over the network".into());
        }
        if bulk && any_external {
            self.upload_external("`curl` uploads an archive or workspace file to an external host");
        }
        if send
            && p.values(&["--unix-socket"]).iter().any(|u| {
                u.text.ends_with("docker.sock")
                    || u.text.ends_with("containerd.sock")
                    || u.text.ends_with("podman.sock")
            })
        {
            self.facts.host_escape = true;
            self.facts.privileged = true;
            self.note("`curl` drives the container runtime's API socket (host control)".into());
        }
        let dl = Out::taint(Taint {
            download: true,
            ..Taint::default()
        });
        let mut to_file = false;
        for o in p
            .values(&["-o", "--output"])
            .into_iter()
            .filter(|o| o.text != "-")
        {
            to_file = true;
            self.write_output_to(o, &dl);
        }
        if p.has(&["-O", "--remote-name", "--remote-name-all", "-J"]) {
            to_file = true;
            for u in &urls {
                let name = u
                    .text
                    .split(['?', '#'])
                    .next()
                    .unwrap_or("")
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string();
                if !name.is_empty() && !name.contains(UNKNOWN) {
                    self.write_output_to(&Arg::lit(&name), &dl);
                }
            }
        }
        if to_file { Out::default() } else { dl }
    }

    fn run_wget(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(
            rest,
            "OoaiPUeTtwlAR",
            &[
                "--output-document",
                "--output-file",
                "--append-output",
                "--input-file",
                "--directory-prefix",
                "--user-agent",
                "--post-data",
                "--post-file",
                "--body-data",
                "--body-file",
                "--method",
                "--header",
                "--user",
                "--password",
                "--timeout",
                "--tries",
                "--wait",
                "--level",
                "--accept",
                "--reject",
                "--execute",
                "--load-cookies",
                "--save-cookies",
                "--ca-certificate",
                "--certificate",
                "--private-key",
                "--http-user",
                "--http-password",
            ],
            false,
        );
        let mut send = false;
        let mut secret = stdin.taint.secret;
        for d in p.values(&["--post-data", "--body-data"]) {
            send = true;
            secret |= d.taint.secret;
        }
        let mut bulk = false;
        for f in p.values(&["--post-file", "--body-file"]) {
            send = true;
            let t = self.upload_taint(f, &stdin, "wget");
            secret |= t.secret;
            bulk |= t.bulk;
        }
        for f in p.values(&["-i", "--input-file"]) {
            let _ = self.read_path(f);
        }
        if p.values(&["--method"]).iter().any(|m| {
            matches!(
                m.text.to_ascii_uppercase().as_str(),
                "POST" | "PUT" | "PATCH"
            )
        }) {
            send = true;
        }
        let header_secret = p
            .values(&["--header", "--password", "--http-password"])
            .iter()
            .any(|h| h.taint.secret);
        let mut any_external = false;
        for u in &p.pos {
            if let Some(kind) = self.contact_arg(u, true, send, "wget") {
                any_external |= kind == HostKind::External;
            }
        }
        if secret || (header_secret && any_external) {
            self.facts.secret_to_network = true;
            self.facts.network_send = true;
            self.note("`wget` sends secret data over the network".into());
        }
        if bulk && any_external {
            self.upload_external("`wget` uploads an archive to an external host");
        }
        let dl = Out::taint(Taint {
            download: true,
            ..Taint::default()
        });
        for o in p.values(&["-o", "--output-file", "-a", "--append-output"]) {
            let _ = self.write_path(o);
        }
        match p.values(&["-O", "--output-document"]).first() {
            Some(o) if o.text == "-" => dl,
            Some(o) => {
                let o = (*o).clone();
                self.write_output_to(&o, &dl);
                Out::default()
            }
            None => {
                for u in &p.pos {
                    let name = u
                        .text
                        .split(['?', '#'])
                        .next()
                        .unwrap_or("")
                        .rsplit('/')
                        .next()
                        .unwrap_or("")
                        .to_string();
                    let name = if name.is_empty() || u.text.ends_with('/') {
                        "index.html".to_string()
                    } else {
                        name
                    };
                    if !name.contains(UNKNOWN) {
                        self.write_output_to(&Arg::lit(&name), &dl);
                    }
                }
                Out::default()
            }
        }
    }

    fn run_nc(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        const NET: &[&str] = &[
            "TCP",
            "UDP",
            "OPENSSL",
            "SSL",
            "SCTP",
            "DCCP",
            "SOCKS",
            "PROXY",
            "UDP-DATAGRAM",
        ];
        self.socket_tools += 1;
        let mut external = false;
        if name == "socat" {
            let mut connected = false;
            let mut exec: Option<String> = None;
            for a in rest.iter().filter(|a| !a.text.starts_with('-')) {
                let (kind, addr) = a.text.split_once(':').unwrap_or((a.text.as_str(), ""));
                let kind = kind.split(',').next().unwrap_or(kind).to_ascii_uppercase();
                if NET.iter().any(|k| kind.starts_with(k)) {
                    connected = true;
                    if kind.contains("LISTEN") || kind.contains("RECV") {
                        self.facts.network = true;
                        self.note("`socat` listens on a port".into());
                    } else {
                        let host = addr.split([':', ',']).next().unwrap_or(addr).to_string();
                        let k = self.contact_host(&host, true, stdin.taint.secret, "socat");
                        external |= k == HostKind::External;
                    }
                } else if kind.starts_with("EXEC") || kind.starts_with("SYSTEM") {
                    // `exec:'bash -li',pty,stderr`: the command ends at the first option.
                    exec = Some(addr.split(',').next().unwrap_or(addr).to_string());
                }
            }
            if let Some(cmd) = exec {
                if connected {
                    self.reverse_shell(&format!(
                        "`socat` attaches `{}` to a network connection",
                        super::walk::short(&cmd)
                    ));
                } else {
                    self.note("`socat` runs a command attached to a stream".into());
                }
                let _ = self.walk_source(&cmd, Origin::Quoted, Out::default());
            }
        } else {
            let p = opts::parse(
                rest,
                "eciIOpqswWxXTPm",
                &[
                    "--exec",
                    "--sh-exec",
                    "--lua-exec",
                    "--source-port",
                    "--proxy",
                    "--wait",
                ],
                false,
            );
            if let Some(e) = p
                .values(&["-e", "-c", "--exec", "--sh-exec", "--lua-exec"])
                .first()
            {
                let e = (*e).clone();
                self.reverse_shell(&format!(
                    "`{name}` attaches `{}` to a socket",
                    super::walk::short(&e.text)
                ));
                let _ = self.walk_source(&e.text, Origin::Quoted, Out::default());
            }
            let listen = p.has(&["-l", "--listen"]);
            if let Some(host) = p.pos.first().filter(|_| !listen) {
                let host = host.clone();
                if let Some(r) = crate::normalize::hosts::parse_remote(&host.text, true) {
                    let k = self.contact_host(&r.host, true, stdin.taint.secret, name);
                    external |= k == HostKind::External;
                }
            } else if listen {
                self.facts.network = true;
                self.facts.network_send |= stdin.taint != Taint::default() || stdin.text.is_some();
                self.note(format!("`{name}` listens on a port"));
            }
        }
        if stdin.taint.bulk && external {
            self.upload_external(&format!("`{name}` streams an archive to an external host"));
        }
        Out::taint(Taint {
            download: true,
            ..Taint::default()
        })
    }

    /// The repository or an archive leaves for a host outside the allowlist.
    pub fn upload_external(&mut self, what: &str) {
        self.facts.uploads_to_external = true;
        self.facts.network_send = true;
        self.facts.external_host = true;
        self.note(what.to_string());
    }

    fn run_ssh(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(rest, "bcDEeFIiJLlmOoPpQRSWw", &[], true);
        for f in p.values(&["-F"]) {
            let _ = self.read_path(f);
        }
        if p.has(&["-R", "-D", "-L"]) {
            self.note("`ssh` opens a port forward".into());
        }
        if let Some(dest) = p.pos.first() {
            let dest = dest.clone();
            let send = stdin.taint != Taint::default() || p.pos.len() > 1;
            if let Some(r) = crate::normalize::hosts::parse_remote(&dest.text, true) {
                self.contact_host(&r.host, send, stdin.taint.secret, "ssh");
            }
            if p.pos.len() > 1 {
                let remote: Vec<&str> = p.pos.iter().skip(1).map(|a| a.text.as_str()).collect();
                self.note(format!(
                    "`ssh` runs a remote command: `{}`",
                    super::walk::short(&remote.join(" "))
                ));
            }
        }
        Out::taint(Taint {
            download: true,
            ..Taint::default()
        })
    }

    fn run_httpie(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(
            rest,
            "aAov",
            &[
                "--auth",
                "--auth-type",
                "--output",
                "--session",
                "--verify",
                "--cert",
                "--cert-key",
                "--proxy",
            ],
            false,
        );
        let mut pos = p.pos.iter();
        let mut first = pos.next();
        let mut send = stdin.taint != Taint::default()
            || stdin.text.is_some()
            || p.has(&["-f", "--form", "--raw"]);
        if let Some(m) = first
            && m.text.chars().all(|c| c.is_ascii_uppercase())
        {
            send |= m.text != "GET" && m.text != "HEAD";
            first = pos.next();
        }
        let mut secret = stdin.taint.secret;
        for item in pos {
            let t = item.text.as_str();
            if let Some(i) = t.find('@')
                && !t.contains("==")
                && t.get(..i)
                    .is_some_and(|k| !k.contains('/') && !k.contains(':'))
            {
                send = true;
                let file = t.get(i + 1..).unwrap_or("");
                secret |= self.upload_file(&item.derive(file), &stdin, name);
            } else if t.contains(":=") || (t.contains('=') && !t.contains("==")) {
                send = true;
                secret |= item.taint.secret;
            }
        }
        if let Some(url) = first {
            let url = url.clone();
            let _ = self.contact_arg(&url, true, send, name);
        }
        if secret {
            self.facts.secret_to_network = true;
            self.facts.network_send = true;
            self.note(format!("`{name}` sends secret data over the network"));
        }
        Out::taint(Taint {
            download: true,
            ..Taint::default()
        })
    }

    fn run_dns(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let short = match name {
            "dig" | "kdig" | "delv" => "bcfkpqtxy",
            "ping" | "ping6" | "fping" => "ciwWstIplQSFmM",
            "traceroute" | "traceroute6" | "mtr" | "tracepath" => "fgimNpqswtzlc",
            "host" => "cNRtWm",
            "nmap" => "poiP",
            _ => "",
        };
        let p = opts::parse(rest, short, &[], false);
        for a in &p.pos {
            let t = a.text.as_str();
            if t.starts_with('+') || (t.starts_with('-') && t.len() > 1) {
                continue;
            }
            if matches!(name, "dig" | "kdig" | "drill" | "host" | "nslookup")
                && matches!(
                    t.to_ascii_uppercase().as_str(),
                    "A" | "AAAA"
                        | "MX"
                        | "TXT"
                        | "NS"
                        | "CNAME"
                        | "SOA"
                        | "ANY"
                        | "PTR"
                        | "SRV"
                        | "IN"
                        | "CAA"
                )
            {
                continue;
            }
            if t.chars().all(|c| c.is_ascii_digit())
                && name != "nmap"
                && !p.pos.first().is_some_and(|f| std::ptr::eq(f, a))
            {
                continue;
            }
            let host = t.trim_start_matches('@');
            let host = crate::normalize::hosts::parse_remote(host, true)
                .map_or_else(|| host.to_string(), |r| r.host);
            let data = a.taint.secret || stdin.taint.secret;
            if !a.known() && !a.taint.secret {
                self.note(format!("`{name}` looks up a host name built at run time"));
            }
            self.contact_host(&host, !a.known(), data, name);
        }
        if name == "nmap" || name == "masscan" {
            self.note(format!("`{name}` scans the network"));
        }
        Out::default()
    }

    // ------------------------------------------------------------------ git

    fn run_git(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(
            rest,
            "Cc",
            &[
                "--git-dir",
                "--work-tree",
                "--namespace",
                "--exec-path",
                "--config-env",
            ],
            true,
        );
        // `git -c core.sshCommand='…' fetch`: configuration that runs a command now.
        for c in p.values(&["-c"]) {
            let Some((key, value)) = c.text.split_once('=') else {
                continue;
            };
            let k = key.to_ascii_lowercase();
            let runs = matches!(
                k.as_str(),
                "core.sshcommand"
                    | "core.pager"
                    | "core.fsmonitor"
                    | "core.editor"
                    | "core.askpass"
                    | "core.gitproxy"
                    | "sequence.editor"
                    | "gpg.program"
                    | "ssh.variant"
            ) || (k.starts_with("alias.") || k.starts_with("credential."))
                && value.starts_with('!')
                || k.ends_with(".textconv")
                || k.starts_with("filter.")
                || k == "protocol.ext.allow" && value == "always";
            if runs {
                self.note(format!("`git -c {key}` runs a command"));
                let cmd = value.trim_start_matches('!').to_string();
                if !matches!(value, "true" | "false" | "always") {
                    let _ = self.walk_source(&cmd, Origin::Quoted, Out::default());
                }
            }
        }
        let mut args = p.pos;
        if args.is_empty() {
            return Out::default();
        }
        // `ext::` remotes run a shell command as the transport.
        for a in &args {
            if let Some(cmd) = a.text.strip_prefix("ext::") {
                self.note("`git` runs an `ext::` transport command".into());
                let cmd = cmd
                    .replace("%S", "git-upload-pack")
                    .replace("%s", "upload-pack");
                let _ = self.walk_source(&cmd, Origin::Quoted, Out::default());
            }
        }
        let sub = args.remove(0).text;
        let t: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
        match sub.as_str() {
            "push" => self.git_push(&args),
            "reset" if t.contains(&"--hard") => {
                self.saw_reset_hard = true;
            }
            "clean"
                if t.iter()
                    .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('f'))
                    || t.contains(&"--force") =>
            {
                self.facts.deletes_in_workspace = true;
            }
            "clone" | "fetch" | "pull" | "ls-remote" => {
                let q = opts::parse(
                    &args,
                    "obcj",
                    &[
                        "--branch",
                        "--origin",
                        "--depth",
                        "--config",
                        "--reference",
                        "--remote",
                        "--output",
                        "--upload-pack",
                        "--jobs",
                        "--filter",
                    ],
                    false,
                );
                for a in &q.pos {
                    self.git_remote_arg(a, false);
                }
                if sub == "clone"
                    && let Some(dir) = q.pos.get(1)
                {
                    let _ = self.write_path(dir);
                }
                if sub == "fetch" || sub == "pull" {
                    self.facts.network = true;
                }
            }
            "remote" => {
                let verb = t.first().copied().unwrap_or("");
                if matches!(verb, "add" | "set-url") {
                    let q = opts::parse(&args[1..], "tm", &[], false);
                    if let (Some(name), Some(url)) = (q.pos.first(), q.pos.last()) {
                        self.remotes.insert(name.text.clone(), url.text.clone());
                        if let Some(r) = crate::normalize::hosts::parse_remote(&url.text, false) {
                            let class = crate::normalize::hosts::classify_host(&r.host, self.env);
                            if class.homoglyph {
                                self.facts.homoglyph = true;
                                self.note(format!("git remote host `{}` mixes scripts or uses look-alike characters", class.host));
                            }
                            if r.has_credential {
                                self.facts.credential_in_url = true;
                                self.note("credential embedded in git remote URL".into());
                            }
                        }
                    }
                }
            }
            "submodule" if t.first() == Some(&"add") => {
                for a in args.iter().skip(1).filter(|a| !a.text.starts_with('-')) {
                    self.git_remote_arg(a, false);
                }
            }
            "config" => {
                let key = t
                    .iter()
                    .find(|a| !a.starts_with('-'))
                    .copied()
                    .unwrap_or("");
                let writes = t.iter().filter(|a| !a.starts_with('-')).count() >= 2
                    && !t
                        .iter()
                        .any(|a| a.starts_with("--get") || *a == "-l" || *a == "--list");
                let lower = key.to_ascii_lowercase();
                if writes
                    && (lower == "core.hookspath"
                        || lower == "core.fsmonitor"
                        || lower == "core.sshcommand"
                        || lower == "core.pager"
                        || lower.starts_with("alias.")
                        || lower.starts_with("credential.")
                        || lower == "core.editor")
                {
                    self.facts.writes_persistence = true;
                    self.note(format!("git config `{key}` makes git run a command later"));
                }
            }
            "credential"
            | "credential-store"
            | "credential-cache"
            | "credential-osxkeychain"
            | "credential-manager"
            | "credential-libsecret"
                if t.iter().any(|a| matches!(*a, "fill" | "get")) =>
            {
                let o = self.credential_store("`git credential`");
                return Out::taint(o.taint.union(stdin.taint));
            }
            "send-email" => {
                self.facts.network = true;
                self.facts.network_send = true;
                self.note("`git send-email` mails patches".into());
            }
            "commit" | "merge" | "rebase" | "am"
                if t.contains(&"--no-verify") || (sub == "commit" && t.contains(&"-n")) =>
            {
                self.note("git hooks skipped with `--no-verify`".into());
            }
            _ => {}
        }
        let mut out = Out::default();
        if matches!(sub.as_str(), "ls-files" | "diff" | "show" | "log") {
            out.paths
                .push(crate::normalize::paths::workspace_root(self.env));
        }
        // `git archive` and `git bundle create` pack the repository: their output is bulk.
        let bulk = Out::taint(Taint {
            bulk: true,
            ..Taint::default()
        });
        if sub == "archive" && !t.iter().any(|a| a.starts_with("--remote")) {
            let q = opts::parse(&args, "o", &["--output", "--format", "--prefix"], false);
            match q.values(&["-o", "--output"]).first() {
                Some(o) => {
                    let o = (*o).clone();
                    self.write_output_to(&o, &bulk);
                }
                None => out.taint.bulk = true,
            }
        }
        if sub == "bundle"
            && t.first() == Some(&"create")
            && let Some(file) = args.get(1).filter(|a| !a.text.starts_with('-'))
        {
            let file = file.clone();
            if file.text == "-" {
                out.taint.bulk = true;
            } else {
                self.write_output_to(&file, &bulk);
            }
        }
        out
    }

    fn git_remote_arg(&mut self, a: &Arg, send: bool) {
        if a.text.contains("://") || (a.text.contains('@') && a.text.contains(':')) {
            let _ = self.contact_arg(a, false, send, "git");
        } else if let Some(url) = self.remotes.get(&a.text).cloned() {
            let _ = self.contact_arg(&a.derive(&url), false, send, "git");
        } else {
            self.facts.network = true;
        }
    }

    fn git_push(&mut self, args: &[Arg]) {
        let p = opts::parse(
            args,
            "o",
            &["--repo", "--push-option", "--receive-pack", "--exec"],
            false,
        );
        self.facts.network = true;
        if p.has(&["--dry-run", "-n"]) {
            return;
        }
        let lease = p
            .opts
            .iter()
            .any(|o| o.name.starts_with("--force-with-lease"));
        let hard_force = p.has(&["--force", "-f"]);
        let mirror = p.has(&["--mirror"]);
        let all = p.has(&["--all", "--branches"]) || mirror;
        let delete = p.has(&["--delete", "-d"]);
        let mut pos = p.pos.iter();
        let remote = pos.next().cloned();
        let refspecs: Vec<&Arg> = pos.collect();
        let plus = refspecs.iter().any(|r| r.text.starts_with('+'));
        let force = hard_force || plus || mirror;
        let _ = lease;
        if let Some(r) = &remote {
            let explicit = r.text.contains("://") || (r.text.contains('@') && r.text.contains(':'));
            let new_remote = self.remotes.contains_key(&r.text);
            self.git_remote_arg(r, explicit || new_remote);
            let url = if explicit {
                Some(r.text.clone())
            } else {
                self.remotes.get(&r.text).cloned()
            };
            let host = url
                .as_deref()
                .and_then(|u| crate::normalize::hosts::parse_remote(u, false))
                .map(|u| crate::normalize::hosts::classify_host(&u.host, self.env));
            if let Some(class) = host.filter(|c| c.is_external()) {
                let what = if all {
                    "every branch"
                } else {
                    "the repository"
                };
                self.upload_external(&format!(
                    "`git push` sends {what} to a remote on external host `{}`",
                    class.host
                ));
            }
        }
        let targets: Vec<String> = refspecs
            .iter()
            .map(|r| {
                let t = r.text.trim_start_matches('+');
                t.rsplit_once(':')
                    .map_or(t, |(_, dst)| dst)
                    .trim_start_matches("refs/heads/")
                    .to_string()
            })
            .collect();
        let protected = targets.iter().any(|b| protected_branch(b));
        let deletes_protected = (delete && protected)
            || refspecs.iter().any(|r| {
                r.text.starts_with(':') && protected_branch(r.text.trim_start_matches(':'))
            });
        if force {
            self.facts.force_push = true;
            self.note("git force push".into());
            if protected || all {
                self.facts.force_push_shared = true;
                let which = if all {
                    "all branches".to_string()
                } else {
                    format!("`{}`", targets.join(", "))
                };
                self.note(format!("force push rewrites shared branch {which}"));
            } else if self.saw_reset_hard {
                self.facts.force_push_shared = true;
                self.note("`git reset --hard` followed by a force push".into());
            }
        }
        if deletes_protected {
            self.facts.force_push_shared = true;
            self.note("push deletes a protected branch".into());
        }
    }

    fn run_gh(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let t = texts(rest);
        let pos: Vec<&str> = t.iter().copied().filter(|a| !a.starts_with('-')).collect();
        let (a, b) = (
            pos.first().copied().unwrap_or(""),
            pos.get(1).copied().unwrap_or(""),
        );
        self.facts.network = true;
        self.facts.hosts.insert("github.com".into());
        match (a, b) {
            ("auth", "token") => return self.credential_store("`gh auth token`"),
            ("auth", "status") if t.iter().any(|x| matches!(*x, "-t" | "--show-token")) => {
                return self.credential_store("`gh auth status --show-token`");
            }
            ("release", "create" | "upload") => self.publish(&format!("`gh release {b}`")),
            ("repo", "delete") | ("release", "delete") => {
                self.destroy_shared(&format!("`gh {a} {b}` deletes on GitHub"))
            }
            ("secret", "set") => self.note("`gh secret set` changes repository secrets".into()),
            ("repo", "create")
                if t.contains(&"--public")
                    && t.iter()
                        .any(|x| *x == "--push" || x.starts_with("--source")) =>
            {
                self.upload_external("`gh repo create --public --push` publishes this repository");
            }
            ("repo", "edit")
                if t.windows(2)
                    .any(|w| w[0] == "--visibility" && w[1] == "public")
                    || t.contains(&"--visibility=public") =>
            {
                self.upload_external(
                    "`gh repo edit --visibility public` makes the repository public",
                );
            }
            ("gist", "create") => {
                let mut secret = stdin.taint.secret;
                for f in rest.iter().skip(2).filter(|a| !a.text.starts_with('-')) {
                    secret |= self.upload_file(f, &stdin, "gh gist");
                }
                self.facts.network_send = true;
                if secret {
                    self.facts.secret_to_network = true;
                    self.note("secret data uploaded to a gist".into());
                }
            }
            _ => {}
        }
        Out::taint(stdin.taint)
    }

    // ------------------------------------------------------------------ cloud & infra

    fn run_aws(&mut self, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(
            rest,
            "",
            &[
                "--profile",
                "--region",
                "--output",
                "--endpoint-url",
                "--query",
                "--color",
                "--cli-read-timeout",
                "--cli-connect-timeout",
                "--ca-bundle",
                "--cli-binary-format",
                "--instance-ids",
                "--bucket",
                "--key",
                "--user-name",
                "--function-name",
                "--stack-name",
                "--cluster",
                "--service",
                "--secret-id",
                "--name",
                "--names",
                "--exclude",
                "--include",
            ],
            false,
        );
        self.facts.network = true;
        let pos = p.pos_texts();
        let service = pos.first().copied().unwrap_or("");
        let op = pos.get(1).copied().unwrap_or("");
        let dry = p.has(&["--dry-run", "--dryrun"]);
        let what = format!("`aws {service} {op}`");
        let destructive_op = [
            "terminate-",
            "delete-",
            "remove-",
            "deregister-",
            "purge-",
            "destroy-",
            "disable-key",
            "schedule-key-deletion",
        ]
        .iter()
        .any(|d| op.starts_with(d));
        let s3_destroy = service == "s3"
            && (op == "rb"
                || (op == "rm" && p.has(&["--recursive"]))
                || (op == "sync" && p.has(&["--delete"])));
        if (destructive_op || s3_destroy) && !dry {
            self.destroy_shared(&format!("{what} destroys cloud resources"));
        }
        match (service, op) {
            ("configure", "get")
                if pos.get(2).is_some_and(|k| {
                    let k = k.to_ascii_lowercase();
                    k.contains("secret") || k.contains("token") || k.contains("access_key")
                }) =>
            {
                return self.credential_store(&what);
            }
            ("configure", "export-credentials")
            | ("sts", "get-session-token" | "assume-role")
            | ("ecr", "get-login-password")
            | ("secretsmanager", "get-secret-value")
            | ("ssm", "get-parameter" | "get-parameters" | "get-parameters-by-path")
            | ("codeartifact", "get-authorization-token") => return self.credential_store(&what),
            (
                "cloudformation",
                "deploy" | "create-stack" | "update-stack" | "execute-change-set",
            )
            | (
                "lambda",
                "update-function-code" | "create-function" | "update-function-configuration",
            )
            | ("ecs", "update-service" | "create-service")
            | ("deploy", "create-deployment")
            | ("elasticbeanstalk", "update-environment") => self.deploy(&what),
            ("s3", "cp" | "mv" | "sync") => {
                let (srcs, dst) = pos.split_at(pos.len().saturating_sub(1));
                if dst.first().is_some_and(|d| d.starts_with("s3://")) {
                    let mut secret = stdin.taint.secret;
                    let mut bulk = false;
                    let recursive = p.has(&["--recursive"]) || op == "sync";
                    for s in srcs.iter().skip(2) {
                        if !s.starts_with("s3://") {
                            let arg = Arg::lit(s);
                            let taint = self.upload_taint(&arg, &stdin, "aws s3");
                            secret |= taint.secret;
                            bulk |= taint.bulk
                                || recursive && self.classify(&arg).is_some_and(|c| !c.system);
                        }
                    }
                    self.facts.network_send = true;
                    if secret {
                        self.facts.secret_to_network = true;
                        self.note("secret data uploaded to S3".into());
                    }
                    if bulk {
                        let bucket = dst.first().map_or("", |d| d.trim_start_matches("s3://"));
                        let bucket = bucket.split('/').next().unwrap_or("");
                        self.upload_external(&format!(
                            "`aws s3 {op}` uploads a directory tree or archive to bucket `{bucket}`"
                        ));
                    }
                } else if let Some(d) = dst.first().filter(|d| **d != "-") {
                    let _ = self.write_path(&Arg::lit(d));
                }
            }
            _ => {}
        }
        Out::taint(Taint {
            download: true,
            ..stdin.taint
        })
    }

    fn run_cloud(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let p = opts::parse(
            rest,
            "",
            &[
                "--project",
                "--zone",
                "--region",
                "--format",
                "--account",
                "--configuration",
                "--impersonate-service-account",
                "--resource-group",
                "--subscription",
                "--name",
                "--output",
                "--query",
                "--app",
                "-a",
            ],
            false,
        );
        self.facts.network = true;
        let pos = p.pos_texts();
        let joined = pos.join(" ");
        let what = format!("`{name} {}`", super::walk::short(&joined));
        let gsutil_destroy = name == "gsutil"
            && (pos.first() == Some(&"rb")
                || (pos.first() == Some(&"rm") && p.has(&["-r", "-a", "-R"])));
        let destroy = pos.iter().any(|a| {
            matches!(
                *a,
                "delete" | "destroy" | "apps:destroy" | "pg:reset" | "remove"
            )
        }) || gsutil_destroy
            || (name == "gcloud"
                && pos.starts_with(&["storage", "rm"])
                && p.has(&["--recursive", "-r"]));
        if destroy {
            self.destroy_shared(&format!("{what} destroys cloud resources"));
        }
        // `gsutil cp -r . gs://…`, `gcloud storage cp --recursive . gs://…`: the tree leaves.
        let copy = (name == "gsutil" && matches!(pos.first(), Some(&("cp" | "rsync" | "mv"))))
            || (name == "gcloud" && pos.starts_with(&["storage"]) && pos.len() > 1);
        let recursive = p.has(&["-r", "-R", "--recursive"]) || pos.contains(&"rsync");
        if copy
            && recursive
            && pos.last().is_some_and(|d| d.starts_with("gs://"))
            && pos[..pos.len() - 1]
                .iter()
                .any(|s| !s.starts_with("gs://") && (s.starts_with('.') || s.starts_with('/')))
        {
            self.upload_external(&format!("{what} uploads a directory tree to a bucket"));
        }
        let cred = match name {
            "gcloud" => {
                pos.contains(&"print-access-token")
                    || pos.contains(&"print-identity-token")
                    || (pos.contains(&"secrets") && pos.contains(&"access"))
            }
            "az" => {
                joined.contains("get-access-token")
                    || (pos.contains(&"secret") && pos.contains(&"show"))
            }
            "heroku" => pos.contains(&"auth:token") || pos.contains(&"config:get"),
            _ => false,
        };
        if cred {
            return self.credential_store(&what);
        }
        if pos.iter().any(|a| matches!(*a, "deploy" | "up"))
            || joined.contains("deployment create")
            || pos.contains(&"releases:rollback")
        {
            self.deploy(&what);
        }
        Out::taint(Taint {
            download: true,
            ..stdin.taint
        })
    }

    fn run_kubectl(&mut self, rest: &[Arg]) -> Out {
        let p = opts::parse(
            rest,
            "nslcfo",
            &[
                "--namespace",
                "--context",
                "--kubeconfig",
                "--server",
                "--cluster",
                "--user",
                "--selector",
                "--filename",
                "--output",
                "--token",
                "--field-selector",
            ],
            false,
        );
        self.facts.network = true;
        let pos = p.pos_texts();
        let verb = pos.first().copied().unwrap_or("");
        let kind = pos.get(1).copied().unwrap_or("").to_ascii_lowercase();
        let kind_base = kind.split(['/', '.']).next().unwrap_or("");
        match verb {
            "delete" => {
                let broad = matches!(
                    kind_base,
                    "namespace"
                        | "namespaces"
                        | "ns"
                        | "all"
                        | "node"
                        | "nodes"
                        | "no"
                        | "pv"
                        | "persistentvolume"
                        | "persistentvolumes"
                        | "pvc"
                        | "persistentvolumeclaim"
                        | "persistentvolumeclaims"
                        | "crd"
                        | "crds"
                        | "customresourcedefinition"
                        | "customresourcedefinitions"
                        | "deploy"
                        | "deployment"
                        | "deployments"
                        | "statefulset"
                        | "statefulsets"
                        | "sts"
                        | "daemonset"
                        | "daemonsets"
                        | "ds"
                        | "cluster"
                        | "clusterrole"
                        | "clusterrolebinding"
                        | "secret"
                        | "secrets"
                        | "svc"
                        | "service"
                        | "services"
                ) || p.has(&["--all", "-A", "--all-namespaces"])
                    || p.has(&["-f", "--filename", "-l", "--selector"]);
                if broad {
                    self.destroy_shared(&format!(
                        "`kubectl delete {kind}` removes cluster resources"
                    ));
                }
            }
            "rollout" if matches!(kind.as_str(), "status" | "history") => {}
            "apply" | "create" | "replace" | "patch" | "scale" | "set" | "rollout" | "edit"
            | "autoscale" | "expose" | "run" | "drain" | "cordon" | "taint" => {
                self.deploy(&format!("`kubectl {verb}`"))
            }
            "get" | "describe"
                if kind_base.starts_with("secret")
                    && (verb == "describe" || p.has(&["-o", "--output"])) =>
            {
                return self.credential_store("`kubectl get secret`");
            }
            "config" if pos.contains(&"view") && p.has(&["--raw", "--flatten"]) => {
                return self.credential_store("`kubectl config view --raw`");
            }
            "exec" | "cp" | "port-forward" | "proxy" => {
                self.note(format!("`kubectl {verb}` reaches into the cluster"))
            }
            "debug" if kind.starts_with("node/") || kind.starts_with("nodes/") => {
                self.facts.host_escape = true;
                self.note(format!(
                    "`kubectl debug {kind}` opens a shell in the node's host namespaces"
                ));
            }
            _ => {}
        }
        if matches!(verb, "run" | "create" | "apply" | "patch" | "debug") {
            let all: String = texts(rest).join(" ").to_ascii_lowercase();
            let compact: String = all.chars().filter(|c| !c.is_whitespace()).collect();
            let host = [
                "\"privileged\":true",
                "privileged:true",
                "\"hostpid\":true",
                "hostpid:true",
                "\"hostnetwork\":true",
                "\"hostipc\":true",
                "\"hostpath\":{\"path\":\"/\"",
                "--privileged",
                "--profile=sysadmin",
            ]
            .iter()
            .any(|m| compact.contains(m));
            if host {
                self.facts.host_escape = true;
                self.note(format!(
                    "`kubectl {verb}` starts a pod with host access (privileged, host PID/network or the host's root)"
                ));
            }
        }
        Out::taint(Taint {
            download: true,
            ..Taint::default()
        })
    }

    fn run_iac(&mut self, name: &str, rest: &[Arg]) -> Out {
        let p = opts::parse(
            rest,
            "s",
            &[
                "--stack",
                "--cwd",
                "--profile",
                "--region",
                "--app",
                "--config",
                "--stage",
            ],
            false,
        );
        let pos = p.pos_texts();
        let mut sub = pos.first().copied().unwrap_or("");
        if matches!(name, "terragrunt") && sub == "run-all" {
            sub = pos.get(1).copied().unwrap_or("");
        }
        let t = texts(rest);
        let what = format!("`{name} {sub}`");
        let destroy_flag = t.iter().any(|a| *a == "-destroy" || *a == "--destroy");
        match sub {
            "destroy" | "remove" | "delete" => {
                self.destroy_shared(&format!("{what} destroys infrastructure"))
            }
            "apply" | "up" | "update" | "deploy" if destroy_flag => {
                self.destroy_shared(&format!("{what} -destroy destroys infrastructure"))
            }
            "apply" | "up" | "update" | "deploy" => self.deploy(&what),
            "stack" if pos.get(1) == Some(&"rm") => {
                self.destroy_shared(&format!("`{name} stack rm` deletes a stack"))
            }
            "state"
                if pos
                    .get(1)
                    .is_some_and(|s| matches!(*s, "rm" | "push" | "replace-provider")) =>
            {
                self.note(format!("`{name} state` rewrites infrastructure state"));
                self.facts.deploy = true;
            }
            "force-unlock" => self.note(format!("`{name} force-unlock`")),
            _ => {}
        }
        if sub != "fmt" && sub != "validate" && sub != "version" {
            self.facts.network = true;
        }
        Out::default()
    }

    fn run_deployer(&mut self, name: &str, rest: &[Arg]) -> Out {
        let t = texts(rest);
        let pos: Vec<&str> = t.iter().copied().filter(|a| !a.starts_with('-')).collect();
        let sub = pos.first().copied().unwrap_or("");
        let prod = t
            .iter()
            .any(|a| matches!(*a, "--prod" | "--production" | "--prod=true"));
        self.facts.network = true;
        let what = format!("`{name} {sub}`");
        match name {
            "vercel" | "netlify" if prod => self.deploy(&format!("`{name}` production")),
            "vercel" if matches!(sub, "remove" | "rm") => {
                self.destroy_shared(&format!("{what} removes a deployment"))
            }
            "fly" | "flyctl"
                if matches!(sub, "destroy")
                    || (sub == "apps" && pos.get(1) == Some(&"destroy")) =>
            {
                self.destroy_shared(&format!("{what} destroys an app"))
            }
            "firebase" if sub.contains("delete") => {
                self.destroy_shared(&format!("{what} deletes data"))
            }
            "ansible-playbook" => self.deploy(&format!("`{name}`")),
            "argocd" if pos.starts_with(&["app", "sync"]) => self.deploy(&what),
            "argocd" if pos.starts_with(&["app", "delete"]) => {
                self.destroy_shared(&format!("{what} deletes an application"))
            }
            "skaffold" if matches!(sub, "run" | "deploy") => self.deploy(&what),
            "railway" if sub == "up" => self.deploy(&what),
            "wrangler" if matches!(sub, "deploy" | "publish") => self.deploy(&what),
            "kamal" | "eb" | "fly" | "flyctl" | "firebase" | "amplify" | "render" | "surge"
                if matches!(sub, "deploy" | "publish" | "setup") || name == "surge" =>
            {
                self.deploy(&what)
            }
            _ => {}
        }
        Out::default()
    }

    fn run_db(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let (short, long): (&str, &[&str]) = match name {
            "psql" | "pgcli" => (
                "cdfhpUvoL",
                &[
                    "--command",
                    "--dbname",
                    "--file",
                    "--host",
                    "--port",
                    "--username",
                    "--set",
                    "--output",
                ],
            ),
            "mysql" | "mariadb" | "mycli" => (
                "eDhPuSp",
                &[
                    "--execute",
                    "--database",
                    "--host",
                    "--port",
                    "--user",
                    "--socket",
                ],
            ),
            "sqlcmd" => ("QqSdUPi", &[]),
            "clickhouse" | "clickhouse-client" => ("qhd", &["--query", "--host", "--database"]),
            "snowsql" => ("qfadu", &["--query", "--filename"]),
            "mongosh" | "mongo" => ("", &["--eval", "--host", "--file"]),
            "redis-cli" => ("hpanu", &[]),
            "cqlsh" => ("efku", &["--execute", "--file", "--keyspace"]),
            "duckdb" | "sqlite3" | "sqlite" => ("c", &["-cmd"]),
            _ => ("", &[]),
        };
        let p = opts::parse(rest, short, long, false);
        let mut sql: Vec<String> = p
            .values(&[
                "-c",
                "--command",
                "-e",
                "--execute",
                "-Q",
                "-q",
                "--query",
                "--eval",
                "-cmd",
            ])
            .iter()
            .map(|a| a.text.clone())
            .collect();
        for f in p.values(&["-f", "--file", "-i", "--filename"]) {
            let _ = self.read_path(f);
        }
        if let Some(t) = &stdin.text {
            sql.push(t.clone());
        }
        let local = match name {
            "sqlite3" | "sqlite" | "duckdb" => {
                if let Some(db) = p.pos.first() {
                    let _ = self.read_path(db);
                }
                sql.extend(p.pos.iter().skip(1).map(|a| a.text.clone()));
                true
            }
            "redis-cli" => {
                sql.push(p.pos_texts().join(" "));
                db_host_local(rest)
            }
            "bq" => {
                let pos = p.pos_texts();
                if pos.first().is_some_and(|s| matches!(*s, "rm" | "drop")) {
                    self.destroy_shared("`bq rm` deletes a BigQuery resource");
                }
                sql.extend(pos.iter().skip(1).map(|s| (*s).to_string()));
                false
            }
            _ => {
                let url_local = p
                    .pos
                    .iter()
                    .chain(p.values(&["-d", "--dbname", "--host", "-h"]))
                    .any(|a| {
                        let host = crate::normalize::hosts::parse_url(&a.text)
                            .map_or_else(|| a.text.clone(), |r| r.host);
                        a.known()
                            && matches!(
                                crate::normalize::hosts::classify_host(&host, self.env).kind,
                                HostKind::Loopback
                            )
                    });
                url_local || db_host_local(rest)
            }
        };
        if name != "sqlite3" && name != "sqlite" && name != "duckdb" {
            self.facts.network = true;
        }
        if let Some(what) = sql
            .iter()
            .find_map(|s| crate::normalize::sql::destructive(s))
        {
            if local {
                self.note(format!("`{name}` runs {what} against a local database"));
            } else {
                self.destroy_shared(&format!("`{name}` runs {what} against a shared database"));
            }
        }
        Out::taint(Taint {
            download: true,
            ..stdin.taint
        })
    }

    fn run_migrator(&mut self, name: &str, rest: &[Arg]) -> Out {
        let t = texts(rest);
        let pos: Vec<&str> = t.iter().copied().filter(|a| !a.starts_with('-')).collect();
        let joined = pos.join(" ");
        let flags = |f: &[&str]| {
            t.iter()
                .any(|a| f.iter().any(|x| a == x || a.starts_with(&format!("{x}="))))
        };
        let forced = match name {
            "prisma" => {
                (joined.starts_with("db push") && flags(&["--force-reset", "--accept-data-loss"]))
                    || joined.starts_with("migrate reset")
            }
            "drizzle-kit" => {
                (pos.first() == Some(&"push") && flags(&["--force"]))
                    || pos.first() == Some(&"drop")
            }
            "knex" => joined.starts_with("migrate:rollback") && flags(&["--all"]),
            "sequelize" | "sequelize-cli" => pos
                .iter()
                .any(|a| matches!(*a, "db:drop" | "db:migrate:undo:all")),
            "typeorm" => pos.contains(&"schema:drop"),
            "alembic" => joined.starts_with("downgrade base"),
            "flyway" => pos.contains(&"clean"),
            "liquibase" => pos.iter().any(|a| matches!(*a, "dropAll" | "drop-all")),
            "rails" | "rake" => pos.iter().any(|a| {
                matches!(
                    *a,
                    "db:drop"
                        | "db:reset"
                        | "db:schema:load"
                        | "db:migrate:reset"
                        | "db:purge"
                        | "db:truncate_all"
                )
            }),
            "mix" => pos.iter().any(|a| matches!(*a, "ecto.drop" | "ecto.reset")),
            "supabase" => {
                joined.starts_with("db reset")
                    || (joined.starts_with("db push") && flags(&["--include-all"]))
                        && flags(&["--linked"])
            }
            "diesel" | "sqlx" => {
                joined.starts_with("database reset")
                    || joined.starts_with("database drop")
                    || joined.starts_with("migration redo")
            }
            "atlas" => joined.starts_with("schema clean"),
            _ => false,
        };
        if forced {
            self.database_force(&format!("`{name} {}`", super::walk::short(&joined)));
        }
        if name == "supabase" && joined.starts_with("db push")
            || name == "prisma" && joined.starts_with("migrate deploy")
        {
            self.deploy(&format!("`{name} {joined}`"));
        }
        Out::default()
    }

    fn run_node_pm(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let t = texts(rest);
        let pos: Vec<&str> = t.iter().copied().filter(|a| !a.starts_with('-')).collect();
        let sub = pos.first().copied().unwrap_or("");
        let after_dd: Vec<&str> = t
            .iter()
            .skip_while(|a| **a != "--")
            .skip(1)
            .copied()
            .collect();
        match sub {
            "publish" => {
                if !is_dry_run(rest) {
                    self.publish(&format!("`{name} publish`"));
                }
            }
            "npm" if pos.get(1) == Some(&"publish") && !is_dry_run(rest) => {
                self.publish(&format!("`{name} npm publish`"))
            }
            "unpublish" | "deprecate" => {
                self.publish(&format!("`{name} {sub}`"));
                self.destroy_shared(&format!("`{name} {sub}` removes a published package"));
            }
            "exec" | "x" | "dlx" => {
                let idx = rest.iter().position(|a| a.text == sub).map_or(0, |i| i + 1);
                let cmd: Vec<Arg> = rest
                    .iter()
                    .skip(idx)
                    .skip_while(|a| a.text.starts_with('-'))
                    .cloned()
                    .collect();
                let mut cmd = cmd;
                if let Some(first) = cmd.first_mut() {
                    first.text = package_bin(&first.text);
                    return self.invoke(cmd, stdin);
                }
            }
            "run" | "run-script" => {
                let script = pos.get(1).copied().unwrap_or("");
                self.script_facts(name, script, &after_dd, &t);
            }
            "" | "install" | "i" | "ci" | "add" | "remove" | "rm" | "uninstall" | "update"
            | "up" | "test" | "t" | "build" | "init" | "create" | "audit" | "outdated" | "ls"
            | "list" | "view" | "info" | "pack" | "link" | "start" | "config" | "cache" | "why"
            | "login" | "logout" | "version" | "help" | "prune" | "dedupe" | "rebuild"
            | "workspace" | "workspaces" | "env" | "set" | "get" | "root" | "bin" | "prefix" => {}
            other => {
                // `yarn <script>`, `pnpm <bin>`: a script of package.json or a local binary.
                self.script_facts(name, other, &after_dd, &t);
                const BINS: &[&str] = &[
                    "prisma",
                    "drizzle-kit",
                    "knex",
                    "sequelize",
                    "typeorm",
                    "supabase",
                    "vercel",
                    "netlify",
                    "wrangler",
                    "serverless",
                    "sls",
                    "cdk",
                    "firebase",
                    "changeset",
                    "lerna",
                    "vsce",
                    "ovsx",
                    "claude",
                    "gemini",
                    "codex",
                ];
                if BINS.contains(&other) {
                    let idx = rest.iter().position(|a| a.text == other).unwrap_or(0);
                    return self.invoke(rest[idx..].to_vec(), stdin);
                }
            }
        }
        self.generic_out(rest, &stdin)
    }

    fn script_facts(&mut self, pm: &str, script: &str, after: &[&str], all: &[&str]) {
        let s = script.to_ascii_lowercase();
        let forced = after.iter().chain(all.iter()).any(|a| {
            matches!(
                *a,
                "--force" | "--force-reset" | "--accept-data-loss" | "-f"
            )
        });
        let db = s.starts_with("db")
            || s.contains("migrat")
            || s.contains("prisma")
            || s.contains("drizzle")
            || s.contains("schema");
        if db
            && (forced
                || s.contains("reset")
                || s.contains("drop")
                || s.contains("fresh")
                || s.contains("wipe"))
        {
            self.database_force(&format!("`{pm} run {script}`"));
        }
        if s.starts_with("deploy") || s.ends_with(":deploy") || s.contains("deploy:prod") {
            self.deploy(&format!("`{pm} run {script}`"));
        }
        if matches!(s.as_str(), "publish" | "release" | "semantic-release")
            || s.starts_with("publish:")
            || s.starts_with("release:")
        {
            self.publish(&format!("`{pm} run {script}`"));
        }
    }

    fn run_publisher(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let t = texts(rest);
        let pos: Vec<&str> = t.iter().copied().filter(|a| !a.starts_with('-')).collect();
        let sub = pos.first().copied().unwrap_or("");
        let dry = is_dry_run(rest) || t.contains(&"--snapshot") || t.contains(&"--skip-publish");
        let what = format!("`{name} {sub}`");
        match name {
            "twine" if sub == "upload" && !dry => self.publish(&what),
            "gem" if sub == "push" => self.publish(&what),
            "gem" if sub == "yank" => self.publish(&what),
            "poetry" | "flit" | "hatch" | "uv" | "pdm" | "rye" | "lerna" | "changeset" | "vsce"
            | "ovsx"
                if sub == "publish" && !dry =>
            {
                self.publish(&what)
            }
            "nuget" if sub == "push" => self.publish(&what),
            "dotnet" if sub == "nuget" && pos.get(1) == Some(&"push") => {
                self.publish("`dotnet nuget push`")
            }
            "dotnet"
                if sub == "ef"
                    && pos.get(1) == Some(&"database")
                    && pos.get(2) == Some(&"drop") =>
            {
                self.database_force("`dotnet ef database drop`")
            }
            "mvn" | "mvnw"
                if pos
                    .iter()
                    .any(|a| matches!(*a, "deploy" | "release:perform" | "deploy:deploy-file"))
                    && !t.iter().any(|a| a.starts_with("-Dmaven.deploy.skip=true")) =>
            {
                self.publish(&format!("`{name} deploy`"))
            }
            "gradle" | "gradlew"
                if pos
                    .iter()
                    .any(|a| a.starts_with("publish") || a.contains(":publish")) =>
            {
                self.publish(&format!("`{name} publish`"))
            }
            "docker" | "podman" | "buildah" | "nerdctl" => self.run_docker(name, rest, &pos),
            "goreleaser" | "jreleaser" | "semantic-release" | "release-it" | "np"
                if !dry && (name != "goreleaser" || matches!(sub, "release" | "")) =>
            {
                self.publish(&format!("`{name}`"))
            }
            _ => {}
        }
        self.generic_out(rest, &stdin)
    }

    fn run_docker(&mut self, name: &str, rest: &[Arg], pos: &[&str]) {
        let sub = pos.first().copied().unwrap_or("");
        let sub = if sub == "image" || sub == "container" {
            pos.get(1).copied().unwrap_or("")
        } else {
            sub
        };
        match sub {
            "push" => self.publish(&format!("`{name} push`")),
            "run" | "create" | "exec" => {
                // Options follow the subcommand (`docker [global opts] container run …`).
                let at = rest
                    .iter()
                    .position(|a| a.text == sub)
                    .map_or(rest.len(), |i| i + 1);
                let p = opts::parse(
                    rest.get(at..).unwrap_or(&[]),
                    "veupwlmhc",
                    &[
                        "--volume",
                        "--env",
                        "--user",
                        "--publish",
                        "--workdir",
                        "--label",
                        "--mount",
                        "--name",
                        "--network",
                        "--net",
                        "--entrypoint",
                        "--env-file",
                        "--memory",
                        "--platform",
                        "--pid",
                        "--ipc",
                        "--uts",
                        "--userns",
                        "--cgroupns",
                        "--cap-add",
                        "--cap-drop",
                        "--security-opt",
                        "--device",
                        "--hostname",
                        "--add-host",
                        "--cpus",
                        "--gpus",
                        "--restart",
                        "--pull",
                        "--log-driver",
                        "--tmpfs",
                        "--volumes-from",
                    ],
                    true,
                );
                self.container_escape(name, sub, &p);
            }
            "login" => {
                self.facts.network = true;
            }
            _ => {}
        }
    }

    /// Container options that hand the container the host: privileged mode, host namespaces,
    /// dangerous capabilities, host devices, the host's root, system directories or the
    /// container runtime's socket mounted inside.
    fn container_escape(&mut self, name: &str, sub: &str, p: &opts::Parsed) {
        let value_is = |o: &opts::Opt, v: &str| o.value.as_ref().is_some_and(|x| x.text == v);
        let mut escapes: Vec<String> = Vec::new();
        for o in &p.opts {
            match o.name.as_str() {
                "--privileged" if o.value.as_ref().is_none_or(|v| v.text != "false") => {
                    escapes.push("`--privileged`".into());
                }
                "--pid" | "--userns" | "--cgroupns" | "--ipc" | "--uts" if value_is(o, "host") => {
                    escapes.push(format!("`{}=host`", o.name));
                }
                "--cap-add" => {
                    let cap = o
                        .value
                        .as_ref()
                        .map(|v| v.text.to_ascii_uppercase())
                        .unwrap_or_default();
                    let cap = cap.trim_start_matches("CAP_");
                    if matches!(
                        cap,
                        "ALL"
                            | "SYS_ADMIN"
                            | "SYS_MODULE"
                            | "SYS_PTRACE"
                            | "DAC_READ_SEARCH"
                            | "SYS_RAWIO"
                            | "SYS_BOOT"
                    ) {
                        escapes.push(format!("`--cap-add {cap}`"));
                    }
                }
                "--device" => {
                    let dev = o.value.as_ref().map(|v| v.text.clone()).unwrap_or_default();
                    let dev = dev.split(':').next().unwrap_or("");
                    let class = crate::normalize::paths::classify_path(dev, self.env);
                    if class.block_device || matches!(dev, "/dev/mem" | "/dev/kmem" | "/dev/port") {
                        escapes.push(format!("host device `{dev}`"));
                    }
                }
                "--security-opt"
                    if o.value.as_ref().is_some_and(|v| {
                        let t = v.text.to_ascii_lowercase();
                        t.contains("unconfined") || t == "label=disable" || t == "label:disable"
                    }) =>
                {
                    self.facts.privileged = true;
                    self.note(format!(
                        "`{name} {sub}` turns a container security profile off"
                    ));
                }
                "--net" | "--network" if value_is(o, "host") => {
                    self.note(format!("`{name} {sub}` shares the host's network"));
                }
                _ => {}
            }
        }
        for v in p.values(&["-v", "--volume", "--mount"]) {
            let src = mount_source(&v.text);
            if !(src.starts_with('/')
                || src.starts_with('~')
                || src.starts_with('.')
                || src.starts_with('$'))
            {
                continue;
            }
            let arg = v.derive(src);
            let _ = self.read_path(&arg);
            let Some(class) = self.classify(&arg) else {
                continue;
            };
            let shown = self.display(&class.resolved);
            if class.resolved == "/" || host_control_path(&class.resolved) {
                escapes.push(format!("host path `{shown}` mounted"));
            } else if class.critical_dir {
                self.facts.reads_outside_workspace = true;
                self.note(format!("`{name}` mounts `{shown}` into a container"));
            }
        }
        if !escapes.is_empty() {
            self.facts.host_escape = true;
            self.facts.privileged = true;
            self.not_read_only();
            self.note(format!(
                "`{name} {sub}` gives the container the host: {}",
                escapes.join(", ")
            ));
        }
        for f in p.values(&["--env-file"]) {
            let _ = self.read_path(f);
        }
    }

    // ------------------------------------------------------------------ agents

    fn run_agent(&mut self, name: &str, rest: &[Arg]) {
        let t = texts(rest);
        let has = |f: &str| t.iter().any(|a| *a == f || a.starts_with(&format!("{f}=")));
        let mode = |flag: &str, value: &str| {
            t.windows(2).any(|w| w[0] == flag && w[1] == value)
                || t.iter().any(|a| *a == format!("{flag}={value}"))
        };
        let prompt = t.join(" ").to_ascii_lowercase();
        let sensitive = [
            "secret",
            "api key",
            "token",
            "password",
            "credential",
            "wallet",
            ".env",
            "id_rsa",
            "$home",
            "/home/",
            "~/",
            ".ssh",
            ".aws",
            "ssh key",
            "private key",
        ]
        .iter()
        .any(|w| prompt.contains(w));
        let unsafe_flag: Option<&str> = match name {
            "claude" if has("--dangerously-skip-permissions") => {
                Some("--dangerously-skip-permissions")
            }
            "claude" if mode("--permission-mode", "bypassPermissions") => {
                Some("--permission-mode bypassPermissions")
            }
            "gemini" | "qwen" if has("--yolo") || has("-y") || mode("--approval-mode", "yolo") => {
                Some("--yolo")
            }
            "codex" if has("--dangerously-bypass-approvals-and-sandbox") || has("--yolo") => {
                Some("--dangerously-bypass-approvals-and-sandbox")
            }
            "codex"
                if mode("--sandbox", "danger-full-access") || mode("-s", "danger-full-access") =>
            {
                Some("--sandbox danger-full-access")
            }
            "codex" if has("--full-auto") && sensitive => Some("--full-auto on secrets"),
            "codex"
                if t.iter().any(|a| {
                    let a = a.replace([' ', '"', '\''], "");
                    a.contains("sandbox_mode=danger-full-access")
                }) =>
            {
                Some("-c sandbox_mode=danger-full-access")
            }
            "claude"
                if t.windows(2).any(|w| {
                    matches!(w[0], "--allowedTools" | "--allowed-tools")
                        && w[1]
                            .split([',', ' '])
                            .any(|x| matches!(x.trim(), "Bash" | "Bash(*)" | "Bash(*:*)" | "*"))
                }) =>
            {
                Some("--allowedTools Bash")
            }
            "copilot"
                if t.windows(2).any(|w| {
                    w[0] == "--allow-tool" && matches!(w[1], "shell" | "shell(*)" | "*")
                }) =>
            {
                Some("--allow-tool shell")
            }
            "q" if has("--trust-all-tools") || has("--trust-tools") => Some("--trust-all-tools"),
            "copilot" if has("--allow-all-tools") || has("--allow-all-paths") || has("--yolo") => {
                Some("--allow-all-tools")
            }
            "cursor-agent" if has("--force") || has("-f") => Some("--force"),
            "amp" if has("--dangerously-allow-all") => Some("--dangerously-allow-all"),
            "aider" if has("--yes-always") && sensitive => Some("--yes-always"),
            "goose" | "crush" | "opencode"
                if has("--yolo") || has("--dangerously-skip-permissions") =>
            {
                Some("--yolo")
            }
            _ => None,
        };
        if let Some(flag) = unsafe_flag {
            self.facts.unsafe_agent = true;
            self.note(format!(
                "AI agent `{name}` run with safety checks off (`{flag}`)"
            ));
        }
    }

    // ------------------------------------------------------------------ anything else

    fn run_unknown(&mut self, name: &str, rest: &[Arg], stdin: Out) -> Out {
        let mut taint = stdin.taint;
        for a in rest {
            taint = taint.union(a.taint);
            let t = a.text.as_str();
            let value = t
                .split_once('=')
                .map_or(t, |(k, v)| if k.starts_with('-') { v } else { t });
            if value.contains("://") {
                let _ = self.contact_arg(&a.derive(value), false, false, name);
                continue;
            }
            if value.starts_with('-') || value.is_empty() {
                continue;
            }
            let pathish = value.starts_with("~/")
                || value.starts_with('/')
                || value.starts_with("./")
                || value.starts_with("../")
                || value.starts_with(".env")
                || value.contains("/.");
            if pathish && let Some(class) = self.classify(&a.derive(value)) {
                if class.is_secret() || class.workspace_env || class.read_outside_workspace() {
                    taint = taint.union(self.read_class(&class));
                } else {
                    self.facts.paths_read.insert(class.resolved);
                }
            }
        }
        Out::taint(taint)
    }
}

impl Arg {
    /// All substitutions in this word are well-known shell-init generators.
    pub fn init_subst(&self) -> bool {
        self.init
    }
}

/// A program that is read-only whatever its (plain) arguments.
pub(crate) fn plain_read_only(name: &str) -> bool {
    READ_ONLY.contains(&name)
        && !matches!(
            name,
            "git"
                | "cargo"
                | "npm"
                | "pnpm"
                | "yarn"
                | "kubectl"
                | "terraform"
                | "aws"
                | "env"
                | "printenv"
                | "set"
                | "export"
                | "declare"
                | "typeset"
                | "sed"
                | "awk"
                | "find"
                | "sort"
                | "command"
                | "dig"
                | "nslookup"
                | "host"
                | "ping"
                | "ssh-keygen"
        )
}

/// String literals handed to a shell by code in another language (`os.system("…")`,
/// `execSync('…')`, `` `…` `` in Ruby/Perl): the first literal argument of each call.
fn embedded_shell(code: &str) -> Vec<String> {
    const CALLS: &[&str] = &[
        "system(",
        "popen(",
        "execSync(",
        "exec(",
        "getoutput(",
        "getstatusoutput(",
        "check_output(",
        "shell_exec(",
        "passthru(",
        "spawnSync(",
        "run(",
        "call(",
        "Popen(",
    ];
    let mut out = Vec::new();
    for call in CALLS {
        let mut from = 0;
        while let Some(pos) = code.get(from..).and_then(|t| t.find(call)) {
            let start = from + pos + call.len();
            from = start;
            let rest = code.get(start..).unwrap_or("").trim_start();
            let Some(q) = rest
                .chars()
                .next()
                .filter(|c| matches!(c, '"' | '\'' | '`'))
            else {
                continue;
            };
            let body = rest.get(1..).unwrap_or("");
            let mut lit = String::new();
            let mut chars = body.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        lit.push(n);
                    }
                } else if c == q {
                    break;
                } else {
                    lit.push(c);
                }
            }
            if !lit.trim().is_empty() && out.len() < 16 {
                out.push(lit);
            }
        }
    }
    out
}

/// The command part of crontab lines (schedule fields dropped).
fn crontab_commands(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let l = line.trim_start();
        if l.is_empty()
            || l.starts_with('#')
            || is_env_assignment(l.split_whitespace().next().unwrap_or(""))
        {
            continue;
        }
        let fields = if l.starts_with('@') { 1 } else { 5 };
        let mut rest = l;
        for _ in 0..fields {
            rest = rest.trim_start();
            rest = rest
                .find(char::is_whitespace)
                .map_or("", |i| rest.get(i..).unwrap_or(""));
        }
        out.push_str(rest.trim());
        out.push('\n');
    }
    out
}

fn first_pos(rest: &[Arg]) -> String {
    rest.iter()
        .find(|a| !a.text.starts_with('-'))
        .map(|a| a.text.clone())
        .unwrap_or_default()
}

fn is_env_assignment(t: &str) -> bool {
    t.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// `/` and the top-level system directories, whose recursive permission change breaks the machine.
fn system_root(path: &str) -> bool {
    matches!(
        path,
        "/etc"
            | "/usr"
            | "/bin"
            | "/sbin"
            | "/lib"
            | "/lib32"
            | "/lib64"
            | "/var"
            | "/boot"
            | "/dev"
            | "/proc"
            | "/sys"
            | "/root"
            | "/home"
            | "/Users"
            | "/opt"
            | "/srv"
            | "/System"
            | "/Library"
            | "/Applications"
            | "/private"
            | "/usr/local"
            | "/usr/bin"
            | "/usr/lib"
            | "/var/lib"
            | "/etc/ssh"
            | "/tmp"
    )
}

/// The host side of a `-v`/`--mount` specification (`/:/host`, `type=bind,source=/,target=/h`).
fn mount_source(spec: &str) -> &str {
    if spec.contains('=') {
        for part in spec.split(',') {
            if let Some(v) = part
                .strip_prefix("source=")
                .or_else(|| part.strip_prefix("src="))
            {
                return v;
            }
        }
        return "";
    }
    spec.split(':').next().unwrap_or("")
}

/// Host locations whose mount into a container hands it the host: system directories and the
/// container runtime's control socket.
fn host_control_path(path: &str) -> bool {
    const SOCKETS: &[&str] = &[
        "/var/run/docker.sock",
        "/run/docker.sock",
        "/run/containerd/containerd.sock",
        "/var/run/containerd/containerd.sock",
        "/var/run/crio/crio.sock",
        "/run/podman/podman.sock",
        "/var/run/podman/podman.sock",
    ];
    const DIRS: &[&str] = &[
        "/etc",
        "/root",
        "/boot",
        "/proc",
        "/sys",
        "/dev",
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib64",
        "/var/lib/docker",
        "/var/lib/kubelet",
        "/var/lib/containerd",
        "/var/run",
        "/run",
        "/var",
        "/home",
    ];
    SOCKETS.contains(&path)
        || path.ends_with("/docker.sock")
        || DIRS.contains(&path)
        || path == "/etc/shadow"
        || path.starts_with("/etc/kubernetes")
}

/// Subcommands that print a credential: registry tokens (`npm config get …:_authToken`,
/// `npm token list`, `yarn config get npmAuthToken`, `pip config get …password`), CLI session
/// tokens (`fly auth token`, `heroku auth:token`, `gcloud auth print-access-token`,
/// `az account get-access-token`, `aws configure get aws_secret_access_key`).
fn prints_credential(name: &str, rest: &[Arg]) -> Option<String> {
    let t: Vec<&str> = rest.iter().map(|a| a.text.as_str()).collect();
    let pos: Vec<&str> = t.iter().copied().filter(|a| !a.starts_with('-')).collect();
    // `<tool> config get|get-value <key>` (or `composer config <key>`) with a secret key.
    if let Some(i) = pos.iter().position(|a| *a == "config") {
        let after = &pos[i + 1..];
        let key = match after.first() {
            Some(&("get" | "get-value" | "view")) => after.get(1),
            Some(k) if name == "composer" => Some(k),
            _ => None,
        };
        if let Some(k) = key
            && secret_config_key(k)
        {
            return Some(format!("`{name} config get {k}`"));
        }
    }
    let pair = |a: &str, b: &str| pos.windows(2).any(|w| w[0] == a && w[1] == b);
    let printed = match name {
        "npm" | "pnpm" | "yarn" | "bun" => {
            pair("token", "list") || pair("token", "ls") || pair("token", "create")
        }
        "fly" | "flyctl" | "doctl" | "railway" | "netlify" | "glab" => {
            pair("auth", "token") || t.contains(&"--show-token")
        }
        "heroku" => pos.contains(&"auth:token"),
        "gcloud" => pos.iter().any(|a| {
            matches!(
                *a,
                "print-access-token" | "print-identity-token" | "print-refresh-token"
            )
        }),
        "az" => pair("account", "get-access-token"),
        "aws" => {
            pos.first() == Some(&"configure")
                && (pos.contains(&"export-credentials")
                    || pos.get(1) == Some(&"get")
                        && pos.get(2).is_some_and(|k| secret_config_key(k)))
        }
        _ => false,
    };
    printed.then(|| format!("`{name} {}`", pos.join(" ")))
}

/// A configuration key that holds a credential (`//registry.npmjs.org/:_authToken`,
/// `npmAuthToken`, `global.password`, `aws_secret_access_key`).
fn secret_config_key(k: &str) -> bool {
    let l = k.to_ascii_lowercase();
    [
        "token",
        "password",
        "passwd",
        "secret",
        "_auth",
        "credential",
        "apikey",
        "api_key",
        "api-key",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// `find` tests that select some files (as opposed to options like `-maxdepth` or `-depth`).
const FIND_FILTERS: &[&str] = &[
    "-name",
    "-iname",
    "-path",
    "-ipath",
    "-wholename",
    "-iwholename",
    "-regex",
    "-iregex",
    "-type",
    "-xtype",
    "-mtime",
    "-mmin",
    "-atime",
    "-amin",
    "-ctime",
    "-cmin",
    "-newer",
    "-newermt",
    "-anewer",
    "-cnewer",
    "-size",
    "-empty",
    "-user",
    "-group",
    "-uid",
    "-gid",
    "-nouser",
    "-nogroup",
    "-perm",
    "-links",
    "-inum",
    "-samefile",
    "-lname",
    "-ilname",
    "-used",
    "-executable",
    "-readable",
    "-writable",
    "-fstype",
    "-context",
    "-prune",
    "-false",
];

/// A file name with an archive, bundle or database-dump extension.
fn is_archive_name(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    [
        ".tar", ".tgz", ".tar.gz", ".gz", ".zip", ".7z", ".rar", ".bz2", ".tbz", ".tbz2", ".xz",
        ".txz", ".zst", ".lz4", ".bundle", ".jar", ".war", ".dump", ".sql", ".bak",
    ]
    .iter()
    .any(|e| base.ends_with(e) && base.len() > e.len())
}

fn is_interpreter(name: &str) -> bool {
    name.starts_with("python")
        || matches!(
            name,
            "pypy"
                | "pypy3"
                | "node"
                | "nodejs"
                | "deno"
                | "bun"
                | "perl"
                | "ruby"
                | "php"
                | "pwsh"
                | "powershell"
                | "lua"
                | "luajit"
                | "osascript"
                | "Rscript"
                | "tclsh"
                | "expect"
        )
}

fn run_echo(rest: &[Arg]) -> Out {
    let mut i = 0;
    let mut newline = true;
    let mut escapes = false;
    while let Some(a) = rest.get(i) {
        match a.text.as_str() {
            "-n" => newline = false,
            "-e" => escapes = true,
            "-E" => escapes = false,
            "-ne" | "-en" => {
                newline = false;
                escapes = true;
            }
            _ => break,
        }
        i += 1;
    }
    let words = &rest[i.min(rest.len())..];
    let mut taint = words.iter().fold(Taint::default(), |t, a| t.union(a.taint));
    let known = words.iter().all(Arg::known);
    let mut text = words
        .iter()
        .map(|a| a.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if escapes {
        let (d, coded) = crate::normalize::text::decode_escapes(&text, true);
        taint.escaped |= coded;
        text = d;
    }
    if newline {
        text.push('\n');
    }
    Out {
        taint,
        text: known.then_some(text),
        ..Out::default()
    }
}

/// Is the database host (from `-h`/`--host`) loopback or a local socket path?
fn db_host_local(rest: &[Arg]) -> bool {
    let mut it = rest.iter().peekable();
    while let Some(a) = it.next() {
        let t = a.text.as_str();
        let v = if matches!(t, "-h" | "--host" | "-H") {
            it.peek().map(|n| n.text.as_str())
        } else {
            t.strip_prefix("--host=")
                .or_else(|| t.strip_prefix("-h").filter(|v| !v.is_empty()))
        };
        if let Some(v) = v {
            return matches!(v, "localhost" | "127.0.0.1" | "::1" | "0.0.0.0")
                || v.starts_with('/')
                || v.starts_with("127.");
        }
    }
    false
}

fn git_read_only(t: &[&str]) -> bool {
    let mut i = 0;
    while i < t.len() && t[i].starts_with('-') {
        if matches!(t[i], "-C" | "-c") {
            i += 1;
        }
        i += 1;
    }
    let sub = t.get(i).copied().unwrap_or("");
    let args = t.get(i + 1..).unwrap_or(&[]);
    match sub {
        "status" | "diff" | "log" | "show" | "rev-parse" | "describe" | "ls-files" | "blame"
        | "grep" | "shortlog" | "cat-file" | "ls-tree" | "merge-base" | "rev-list" | "name-rev"
        | "for-each-ref" | "whatchanged" | "count-objects" | "reflog" | "version" | "help"
        | "check-ignore" | "show-ref" | "var" | "diff-tree" | "diff-files" | "diff-index"
        | "annotate" => !args.iter().any(|a| a.starts_with("--output")),
        "branch" => {
            args.is_empty()
                || args.iter().all(|a| {
                    matches!(
                        *a,
                        "-a" | "-r"
                            | "-v"
                            | "-vv"
                            | "--list"
                            | "-l"
                            | "--show-current"
                            | "--all"
                            | "--remotes"
                            | "--merged"
                            | "--no-merged"
                            | "--contains"
                    )
                })
        }
        "tag" => args.is_empty() || args.iter().all(|a| matches!(*a, "-l" | "--list" | "-n")),
        "remote" => {
            args.is_empty()
                || matches!(
                    args.first().copied(),
                    Some("-v" | "get-url" | "show" | "--verbose")
                )
        }
        "config" => args
            .iter()
            .any(|a| a.starts_with("--get") || matches!(*a, "-l" | "--list")),
        "stash" => matches!(args.first().copied(), Some("list" | "show")),
        "worktree" => args.first() == Some(&"list"),
        "submodule" => args.is_empty() || args.first() == Some(&"status"),
        _ => false,
    }
}
