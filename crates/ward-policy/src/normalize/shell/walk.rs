//! The walker over brush's AST: lists, pipelines, compound commands, words, redirections.
//!
//! Words are expanded statically into [`Arg`]s: literal text where it is known (quotes removed,
//! `~` and `$HOME` resolved, variables assigned a literal earlier in the same command
//! substituted), the [`UNKNOWN`] marker where it is not, plus what flowed in (secret env,
//! downloaded or decoded text). Command substitutions are parsed and walked as they are found.
//! Program semantics live in `programs.rs`.

use super::ts::SyntaxView;
use crate::facts::{Facts, NormalizeEnv};
use crate::normalize::hosts::{self, HostKind};
use crate::normalize::paths::{self, PathClass};
use crate::normalize::text;
use brush_parser::ast;
use brush_parser::word::{
    self, ParameterExpr, ParameterTransformOp, TildeExpr, WordPiece, WordPieceWithSource,
};
use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

/// Stands for text only known at run time (an unset variable, a substitution's output).
pub(crate) const UNKNOWN: char = '\u{1}';

/// Nested re-parses (`bash -c`, `eval`, substitutions) deeper than this make the command unparseable.
const MAX_DEPTH: usize = 12;
/// Brush parses per command (top level, substitutions, `bash -c` strings, …).
const MAX_PARSES: usize = 256;
/// Simple commands per command line.
const MAX_COMMANDS: usize = 4096;
/// Notes kept per call.
const MAX_NOTES: usize = 40;

/// What a piece of data carries as it flows through pipes, substitutions and files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Taint {
    /// Secret material (secret file, secret env, credential store, env dump).
    pub secret: bool,
    /// Content fetched from the network.
    pub download: bool,
    /// Output of a decoder (`base64 -d`, `xxd -r`, `rev`, …).
    pub decoded: bool,
    /// Built from character-code escapes (`\x72`, `\162`).
    pub escaped: bool,
    /// The repository or a directory tree in bulk: an archive (`tar`, `zip`, `git bundle`,
    /// `git archive`) or a file with an archive extension.
    pub bulk: bool,
}

impl Taint {
    pub fn union(self, o: Taint) -> Taint {
        Taint {
            secret: self.secret || o.secret,
            download: self.download || o.download,
            decoded: self.decoded || o.decoded,
            escaped: self.escaped || o.escaped,
            bulk: self.bulk || o.bulk,
        }
    }
}

/// What a command (or a list of them) writes to stdout, as far as it is known.
#[derive(Debug, Clone, Default)]
pub(crate) struct Out {
    pub taint: Taint,
    /// The exact text, when static (`echo literal`, `printf '\x72\x6d'`, a here-doc).
    pub text: Option<String>,
    /// Paths the output lists (`find DIR`), for `xargs`.
    pub paths: Vec<String>,
    /// Output of a well-known shell-init generator (`ssh-agent -s`, `pyenv init -`), meant for `eval`.
    pub init: bool,
}

impl Out {
    pub fn taint(taint: Taint) -> Out {
        Out {
            taint,
            ..Out::default()
        }
    }

    fn merge(&mut self, o: Out) {
        self.taint = self.taint.union(o.taint);
        self.text = match (self.text.take(), o.text) {
            (Some(a), Some(b)) => Some(a + &b),
            _ => None,
        };
        self.paths.extend(o.paths);
        self.init = self.init && o.init;
    }
}

/// One expanded word.
#[derive(Debug, Clone, Default)]
pub(crate) struct Arg {
    /// Best-effort expansion; [`UNKNOWN`] marks run-time text.
    pub text: String,
    /// Fully known at parse time (no [`UNKNOWN`], no variable of uncertain value).
    pub literal: bool,
    /// What flowed into the word.
    pub taint: Taint,
    /// Secret-looking environment variables expanded in it.
    pub secret_vars: Vec<String>,
    /// Any `$var`, `${…}`, `$(…)`, arithmetic, or escape in it (not `~`).
    pub expanded: bool,
    /// Character-code escapes (`$'\x72'`) in it.
    pub escapes: bool,
    /// A command substitution in it.
    pub substitution: bool,
    /// `${x@P}` or `${!x}`.
    pub indirection: bool,
    /// Output of a process substitution `<(…)` this word stands for.
    pub process: Option<Box<Out>>,
    /// Every command substitution in it is a well-known shell-init generator.
    pub init: bool,
}

impl Arg {
    pub fn lit(text: &str) -> Arg {
        Arg {
            text: text.to_string(),
            literal: true,
            ..Arg::default()
        }
    }

    /// A sub-string of this word (an option's inline value) keeping its flow facts.
    pub fn derive(&self, text: &str) -> Arg {
        Arg {
            text: text.to_string(),
            process: None,
            ..self.clone()
        }
    }

    pub fn known(&self) -> bool {
        !self.text.contains(UNKNOWN)
    }
}

/// A literal or computed variable value.
#[derive(Debug, Clone)]
struct Val {
    text: String,
    literal: bool,
    taint: Taint,
}

/// Where a re-parsed source came from (tree-sitter sees substitutions, not `bash -c` strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Substitution,
    Quoted,
}

pub(crate) struct Walker<'e> {
    pub env: &'e NormalizeEnv,
    pub facts: Facts,
    /// Current directory for relative paths; `None` after `cd` to an unknown place.
    pub cwd: Option<String>,
    vars: HashMap<String, Val>,
    /// `git remote add NAME URL` seen earlier in this command.
    pub remotes: HashMap<String, String>,
    /// File descriptors opened on `/dev/tcp/HOST/PORT` (`exec 3<>/dev/tcp/…`), by number.
    net_fds: HashMap<i32, String>,
    /// Files written in this command whose content is tainted (downloads, secret copies).
    pub tainted_files: HashMap<String, Taint>,
    pub functions: BTreeSet<String>,
    depth: usize,
    parses: usize,
    commands: usize,
    deadline: Instant,
    /// A limit was hit: the command counts as unparseable.
    pub limit_hit: bool,
    /// Every command seen so far is read-only.
    pub all_read_only: bool,
    /// `git reset --hard` seen earlier in this command.
    pub saw_reset_hard: bool,
    /// Static program names and redirect targets at syntactic level, for the tree-sitter comparison.
    pub syntax: SyntaxView,
    syntactic: bool,
    longest_chain: usize,
    /// Static text written to files earlier in this command (`cat > x.py <<EOF`), by path.
    pub written_text: HashMap<String, String>,
    /// The command being run has its stdin or stdout on a network connection
    /// (`>& /dev/tcp/…`, `<&3` where fd 3 is a socket).
    pub net_io: bool,
    /// The current write appends (`>>`, `tee -a`): it cannot erase what is there.
    pub appending: bool,
    /// The current write only creates (`touch`, `mkdir`): it cannot erase what is there.
    pub creating: bool,
    /// Shells or interpreters run so far that read their commands from stdin.
    pub stdin_shells: usize,
    /// Raw socket tools run so far (`nc`, `socat`, `telnet`, `openssl s_client`, …).
    pub socket_tools: usize,
    /// The function whose body is being walked, and how often it has called itself.
    pub current_fn: Option<String>,
    pub self_calls: usize,
    /// A known path, disk or system directory was destroyed.
    pub known_destruction: bool,
    /// A path known only at run time was deleted recursively.
    pub computed_destruction: bool,
}

impl<'e> Walker<'e> {
    pub fn new(env: &'e NormalizeEnv, deadline: Instant) -> Walker<'e> {
        Walker {
            env,
            facts: Facts::default(),
            cwd: Some(env.cwd.clone()),
            vars: HashMap::new(),
            remotes: HashMap::new(),
            tainted_files: HashMap::new(),
            net_fds: HashMap::new(),
            functions: BTreeSet::new(),
            depth: 0,
            parses: 0,
            commands: 0,
            deadline,
            limit_hit: false,
            all_read_only: true,
            saw_reset_hard: false,
            syntax: SyntaxView::default(),
            syntactic: true,
            longest_chain: 0,
            written_text: HashMap::new(),
            net_io: false,
            appending: false,
            creating: false,
            stdin_shells: 0,
            socket_tools: 0,
            current_fn: None,
            self_calls: 0,
            known_destruction: false,
            computed_destruction: false,
        }
    }

    pub fn longest_chain(&self) -> usize {
        self.longest_chain
    }

    pub fn commands(&self) -> usize {
        self.commands
    }

    // ------------------------------------------------------------------ notes & limits

    pub fn note(&mut self, s: String) {
        if self.facts.notes.len() < MAX_NOTES && !self.facts.notes.contains(&s) {
            self.facts.notes.push(s);
        }
    }

    fn over_limit(&mut self) -> bool {
        if self.limit_hit {
            return true;
        }
        if self.depth > MAX_DEPTH
            || self.parses > MAX_PARSES
            || self.commands > MAX_COMMANDS
            || Instant::now() > self.deadline
        {
            self.limit_hit = true;
            self.note("analysis limit reached (nesting, size or time)".into());
            return true;
        }
        false
    }

    pub fn not_read_only(&mut self) {
        self.all_read_only = false;
    }

    // ------------------------------------------------------------------ parsing

    /// Parse `src` with brush.
    pub fn parse(&mut self, src: &str) -> Option<ast::Program> {
        self.parses += 1;
        if self.over_limit() {
            return None;
        }
        if super::heredoc_hazard(src) || super::nesting(src) > super::MAX_NESTING {
            self.note("shell text that would hang the parser is not analysed".into());
            return None;
        }
        let opts = brush_parser::ParserOptions::default();
        let mut parser = brush_parser::Parser::new(std::io::Cursor::new(src.as_bytes()), &opts);
        parser.parse_program().ok()
    }

    /// Parse and walk nested shell text (a substitution, a `bash -c` string, `eval` arguments).
    pub fn walk_source(&mut self, src: &str, origin: Origin, stdin: Out) -> Out {
        if src.trim().is_empty() {
            return Out::default();
        }
        self.depth += 1;
        let saved_syntactic = self.syntactic;
        self.syntactic = saved_syntactic && origin != Origin::Quoted;
        let out = match self.parse(src) {
            Some(program) => self.walk_program(&program, stdin),
            None => {
                if !self.limit_hit {
                    self.facts.unparseable = true;
                    self.note(format!(
                        "nested shell text does not parse: `{}`",
                        short(src)
                    ));
                }
                self.not_read_only();
                Out::default()
            }
        };
        self.syntactic = saved_syntactic;
        self.depth -= 1;
        out
    }

    // ------------------------------------------------------------------ AST

    pub fn walk_program(&mut self, p: &ast::Program, stdin: Out) -> Out {
        let mut out = Out::default();
        for (i, cc) in p.complete_commands.iter().enumerate() {
            let o = self.walk_list(cc, stdin.clone());
            if i == 0 {
                out = o;
            } else {
                out.merge(o);
            }
        }
        out
    }

    fn walk_list(&mut self, list: &ast::CompoundList, stdin: Out) -> Out {
        let mut out: Option<Out> = None;
        for ast::CompoundListItem(and_or, sep) in &list.0 {
            let calls = self.self_calls;
            let o = self.walk_and_or(and_or, stdin.clone());
            if matches!(sep, ast::SeparatorOperator::Async) && self.self_calls > calls {
                self.fork_bomb();
            }
            match out.as_mut() {
                Some(acc) => acc.merge(o),
                None => out = Some(o),
            }
        }
        out.unwrap_or_default()
    }

    fn walk_and_or(&mut self, l: &ast::AndOrList, stdin: Out) -> Out {
        self.longest_chain = self.longest_chain.max(l.additional.len() + 1);
        let mut out = self.walk_pipeline(&l.first, stdin.clone());
        for next in &l.additional {
            let p = match next {
                ast::AndOr::And(p) | ast::AndOr::Or(p) => p,
            };
            let o = self.walk_pipeline(p, stdin.clone());
            out.merge(o);
        }
        out
    }

    fn walk_pipeline(&mut self, p: &ast::Pipeline, stdin: Out) -> Out {
        let (shells, sockets, calls) = (self.stdin_shells, self.socket_tools, self.self_calls);
        let mut data = stdin;
        for cmd in &p.seq {
            data = self.walk_command(cmd, data);
        }
        if p.seq.len() >= 2 {
            if self.stdin_shells > shells && self.socket_tools > sockets {
                self.reverse_shell(
                    "a shell reads its commands from a network connection in the same pipeline",
                );
            }
            if self.self_calls >= calls + 2 {
                self.fork_bomb();
            }
        }
        data
    }

    /// A shell or interpreter is wired to a network connection.
    pub fn reverse_shell(&mut self, how: &str) {
        self.facts.reverse_shell = true;
        self.facts.network = true;
        self.facts.network_send = true;
        self.not_read_only();
        self.note(format!("reverse shell: {how}"));
    }

    /// A function that spawns copies of itself without end.
    fn fork_bomb(&mut self) {
        self.facts.resource_exhaustion = true;
        self.not_read_only();
        let name = self.current_fn.clone().unwrap_or_default();
        self.note(format!(
            "fork bomb: function `{name}` pipes or backgrounds calls to itself"
        ));
    }

    fn walk_command(&mut self, c: &ast::Command, stdin: Out) -> Out {
        if self.over_limit() {
            return Out::default();
        }
        match c {
            ast::Command::Simple(sc) => self.walk_simple(sc, stdin),
            ast::Command::Compound(cc, redirects) => {
                let items: Vec<&ast::IoRedirect> =
                    redirects.iter().flat_map(|r| r.0.iter()).collect();
                let stdin = self.input_redirects(&items, stdin);
                let out = self.walk_compound(cc, stdin);
                self.output_redirects(&items, &out);
                out
            }
            ast::Command::Function(f) => {
                self.functions.insert(f.fname.value.clone());
                let items: Vec<&ast::IoRedirect> =
                    f.body.1.iter().flat_map(|r| r.0.iter()).collect();
                let stdin = self.input_redirects(&items, Out::default());
                let saved = self.current_fn.replace(f.fname.value.clone());
                let calls = self.self_calls;
                let out = self.walk_compound(&f.body.0, stdin);
                self.current_fn = saved;
                self.self_calls = calls;
                self.output_redirects(&items, &out);
                Out::default()
            }
            ast::Command::ExtendedTest(t, redirects) => {
                self.walk_test(&t.expr);
                let items: Vec<&ast::IoRedirect> =
                    redirects.iter().flat_map(|r| r.0.iter()).collect();
                let _ = self.input_redirects(&items, stdin);
                self.output_redirects(&items, &Out::default());
                Out::default()
            }
        }
    }

    fn walk_test(&mut self, e: &ast::ExtendedTestExpr) {
        match e {
            ast::ExtendedTestExpr::And(a, b) | ast::ExtendedTestExpr::Or(a, b) => {
                self.walk_test(a);
                self.walk_test(b);
            }
            ast::ExtendedTestExpr::Not(a) | ast::ExtendedTestExpr::Parenthesized(a) => {
                self.walk_test(a)
            }
            ast::ExtendedTestExpr::UnaryTest(_, w) => {
                let _ = self.expand(&w.value);
            }
            ast::ExtendedTestExpr::BinaryTest(_, a, b) => {
                let _ = self.expand(&a.value);
                let _ = self.expand(&b.value);
            }
        }
    }

    fn walk_compound(&mut self, c: &ast::CompoundCommand, stdin: Out) -> Out {
        match c {
            ast::CompoundCommand::Arithmetic(a) => {
                self.walk_arith(&a.expr.value);
                Out::default()
            }
            ast::CompoundCommand::ArithmeticForClause(f) => {
                for e in [&f.initializer, &f.condition, &f.updater]
                    .into_iter()
                    .flatten()
                {
                    self.walk_arith(&e.value);
                }
                self.walk_list(&f.body.list, stdin)
            }
            ast::CompoundCommand::BraceGroup(b) => self.walk_list(&b.list, stdin),
            ast::CompoundCommand::Subshell(s) => self.walk_subshell(&s.list, stdin),
            ast::CompoundCommand::ForClause(f) => {
                let values: Vec<Arg> = f
                    .values
                    .iter()
                    .flatten()
                    .map(|w| self.expand(&w.value))
                    .collect();
                let taint = values
                    .iter()
                    .fold(Taint::default(), |t, v| t.union(v.taint));
                let first = values
                    .first()
                    .map(|v| v.text.clone())
                    .unwrap_or_else(|| UNKNOWN.to_string());
                self.vars.insert(
                    f.variable_name.clone(),
                    Val {
                        text: first,
                        literal: false,
                        taint,
                    },
                );
                self.walk_list(&f.body.list, stdin)
            }
            ast::CompoundCommand::CaseClause(c) => {
                let _ = self.expand(&c.value.value);
                let mut out = Out::default();
                for item in &c.cases {
                    if let Some(cmd) = &item.cmd {
                        let o = self.walk_list(cmd, stdin.clone());
                        out.merge(o);
                    }
                }
                out
            }
            ast::CompoundCommand::IfClause(i) => {
                let mut out = self.walk_list(&i.condition, stdin.clone());
                out.merge(self.walk_list(&i.then, stdin.clone()));
                for e in i.elses.iter().flatten() {
                    if let Some(cond) = &e.condition {
                        out.merge(self.walk_list(cond, stdin.clone()));
                    }
                    out.merge(self.walk_list(&e.body, stdin.clone()));
                }
                out
            }
            ast::CompoundCommand::WhileClause(w) | ast::CompoundCommand::UntilClause(w) => {
                let mut out = self.walk_list(&w.0, stdin.clone());
                out.merge(self.walk_list(&w.1.list, stdin));
                out
            }
            ast::CompoundCommand::Coprocess(c) => self.walk_command(&c.body, stdin),
        }
    }

    /// A subshell: `cd` and variables inside do not leak out.
    fn walk_subshell(&mut self, list: &ast::CompoundList, stdin: Out) -> Out {
        let cwd = self.cwd.clone();
        let vars = self.vars.clone();
        let out = self.walk_list(list, stdin);
        self.cwd = cwd;
        self.vars = vars;
        out
    }

    fn walk_arith(&mut self, expr: &str) {
        if expr.contains('$') || expr.contains('`') || expr.contains('[') {
            let a = self.expand(expr);
            if a.substitution {
                self.not_read_only();
            }
        }
    }

    fn walk_simple(&mut self, sc: &ast::SimpleCommand, stdin: Out) -> Out {
        self.commands += 1;
        if self.over_limit() {
            return Out::default();
        }
        let mut assigns: Vec<&ast::Assignment> = Vec::new();
        let mut redirects: Vec<&ast::IoRedirect> = Vec::new();
        let mut args: Vec<Arg> = Vec::new();
        let mut proc_writes: Vec<&ast::SubshellCommand> = Vec::new();
        let mut decl_assigns: Vec<&ast::Assignment> = Vec::new();
        for item in sc.prefix.iter().flat_map(|p| p.0.iter()) {
            match item {
                ast::CommandPrefixOrSuffixItem::AssignmentWord(a, _) => assigns.push(a),
                ast::CommandPrefixOrSuffixItem::IoRedirect(r) => redirects.push(r),
                ast::CommandPrefixOrSuffixItem::Word(w) => args.push(self.expand(&w.value)),
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, s) => {
                    self.process_arg(kind, s, &mut args, &mut proc_writes)
                }
            }
        }
        if let Some(w) = &sc.word_or_name {
            let arg = self.expand(&w.value);
            if self.syntactic && arg.literal && !arg.expanded && !w.value.starts_with('~') {
                self.syntax.programs.insert(arg.text.clone());
            }
            args.push(arg);
        }
        for item in sc.suffix.iter().flat_map(|s| s.0.iter()) {
            match item {
                ast::CommandPrefixOrSuffixItem::Word(w) => args.push(self.expand(&w.value)),
                ast::CommandPrefixOrSuffixItem::AssignmentWord(a, w) => {
                    decl_assigns.push(a);
                    args.push(self.expand(&w.value));
                }
                ast::CommandPrefixOrSuffixItem::IoRedirect(r) => redirects.push(r),
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, s) => {
                    self.process_arg(kind, s, &mut args, &mut proc_writes)
                }
            }
        }

        // Assignments: standalone ones set shell variables; prefix ones only the command's env.
        let standalone = args.is_empty();
        for a in &assigns {
            let val = self.assignment_value(a);
            if standalone {
                self.set_var(a, val);
            }
        }
        let decl = args.first().is_some_and(|a| {
            matches!(
                a.text.as_str(),
                "export" | "declare" | "local" | "readonly" | "typeset"
            )
        });
        for a in &decl_assigns {
            let val = self.assignment_value(a);
            if decl {
                self.set_var(a, val);
            }
        }

        let stdin = self.input_redirects(&redirects, stdin);
        let net_io = self.net_io || self.redirects_to_network(&redirects);
        let saved_net_io = std::mem::replace(&mut self.net_io, net_io);
        let mut out = if args.is_empty() {
            Out::default()
        } else {
            self.invoke(args, stdin.clone())
        };
        self.net_io = saved_net_io;
        for s in proc_writes {
            let o = self.walk_subshell(&s.list, Out::taint(out.taint.union(stdin.taint)));
            out.merge(o);
        }
        self.output_redirects(&redirects, &out);
        out
    }

    fn process_arg<'a>(
        &mut self,
        kind: &ast::ProcessSubstitutionKind,
        s: &'a ast::SubshellCommand,
        args: &mut Vec<Arg>,
        writes: &mut Vec<&'a ast::SubshellCommand>,
    ) {
        match kind {
            ast::ProcessSubstitutionKind::Read => {
                let out = self.walk_subshell(&s.list, Out::default());
                args.push(Arg {
                    text: "/dev/fd/63".into(),
                    literal: false,
                    taint: out.taint,
                    expanded: true,
                    substitution: true,
                    process: Some(Box::new(out)),
                    ..Arg::default()
                });
            }
            ast::ProcessSubstitutionKind::Write => {
                writes.push(s);
                args.push(Arg {
                    text: "/dev/fd/63".into(),
                    expanded: true,
                    ..Arg::default()
                });
            }
        }
    }

    fn assignment_value(&mut self, a: &ast::Assignment) -> Val {
        match &a.value {
            ast::AssignmentValue::Scalar(w) => {
                let arg = self.expand(&w.value);
                if arg.substitution {
                    // `VERSION=$(git describe)` runs the substitution; the value is computed.
                }
                Val {
                    text: arg.text,
                    literal: arg.literal,
                    taint: arg.taint,
                }
            }
            ast::AssignmentValue::Array(items) => {
                let mut taint = Taint::default();
                let mut texts = Vec::new();
                for (k, v) in items {
                    if let Some(k) = k {
                        let _ = self.expand(&k.value);
                    }
                    let arg = self.expand(&v.value);
                    taint = taint.union(arg.taint);
                    texts.push(arg.text);
                }
                Val {
                    text: texts.join(" "),
                    literal: false,
                    taint,
                }
            }
        }
    }

    fn set_var(&mut self, a: &ast::Assignment, val: Val) {
        let name = match &a.name {
            ast::AssignmentName::VariableName(n) => n.clone(),
            ast::AssignmentName::ArrayElementName(n, _) => n.clone(),
        };
        let val = if a.append {
            match self.vars.get(&name) {
                Some(old) => Val {
                    text: format!("{}{}", old.text, val.text),
                    literal: old.literal && val.literal,
                    taint: old.taint.union(val.taint),
                },
                None => Val {
                    text: format!("{UNKNOWN}{}", val.text),
                    literal: false,
                    taint: val.taint,
                },
            }
        } else {
            val
        };
        let off = matches!(val.text.trim(), "" | "0" | "/dev/null");
        if history_var(&name) && off && !a.append {
            self.erase_trace(&format!("`{name}` set so that the shell keeps no history"));
        }
        self.vars.insert(name, val);
    }

    pub fn unset_var(&mut self, name: &str) {
        if history_var(name) {
            self.erase_trace(&format!("`unset {name}` stops the shell recording history"));
        }
        self.vars.remove(name);
    }

    /// Record a variable assigned by a command (`read x`, `printf -v x`): value unknown.
    pub fn set_unknown_var(&mut self, name: &str, taint: Taint) {
        self.vars.insert(
            name.to_string(),
            Val {
                text: UNKNOWN.to_string(),
                literal: false,
                taint,
            },
        );
    }

    // ------------------------------------------------------------------ redirections

    fn input_redirects(&mut self, redirects: &[&ast::IoRedirect], stdin: Out) -> Out {
        let mut stdin = stdin;
        for r in redirects {
            match r {
                ast::IoRedirect::File(fd, kind, target) => {
                    let is_stdin = fd.is_none_or(|f| f == 0);
                    match (kind, target) {
                        (
                            ast::IoFileRedirectKind::Read | ast::IoFileRedirectKind::ReadAndWrite,
                            ast::IoFileRedirectTarget::Filename(w),
                        ) => {
                            let arg = self.expand(&w.value);
                            self.syntax_redirect(&w.value, &arg);
                            if let (Some(n), Some(host)) = (fd, dev_tcp_host(&arg.text))
                                && *n > 2
                            {
                                self.net_fds.insert(*n, host);
                            }
                            let t = self.read_path(&arg);
                            if is_stdin {
                                stdin = Out::taint(t.union(arg.taint));
                            }
                        }
                        (
                            _,
                            ast::IoFileRedirectTarget::ProcessSubstitution(
                                ast::ProcessSubstitutionKind::Read,
                                s,
                            ),
                        ) => {
                            let o = self.walk_subshell(&s.list, Out::default());
                            if is_stdin {
                                stdin = o;
                            }
                        }
                        _ => {}
                    }
                }
                ast::IoRedirect::HereDocument(fd, doc) => {
                    let arg = if doc.requires_expansion {
                        self.expand_heredoc(&doc.doc.value)
                    } else {
                        Arg::lit(&doc.doc.value)
                    };
                    if fd.is_none_or(|f| f == 0) {
                        stdin = Out {
                            taint: arg.taint,
                            text: Some(arg.text),
                            ..Out::default()
                        };
                    }
                }
                ast::IoRedirect::HereString(fd, w) => {
                    let arg = self.expand(&w.value);
                    if fd.is_none_or(|f| f == 0) {
                        stdin = Out {
                            taint: arg.taint,
                            text: Some(format!("{}\n", arg.text)),
                            ..Out::default()
                        };
                    }
                }
                ast::IoRedirect::OutputAndError(..) => {}
            }
        }
        stdin
    }

    fn output_redirects(&mut self, redirects: &[&ast::IoRedirect], out: &Out) {
        for r in redirects {
            match r {
                ast::IoRedirect::File(fd, kind, target) => match (kind, target) {
                    (
                        ast::IoFileRedirectKind::Write
                        | ast::IoFileRedirectKind::Append
                        | ast::IoFileRedirectKind::Clobber
                        | ast::IoFileRedirectKind::ReadAndWrite,
                        ast::IoFileRedirectTarget::Filename(w),
                    ) => {
                        let arg = self.expand(&w.value);
                        self.syntax_redirect(&w.value, &arg);
                        if let (Some(n), Some(host)) = (fd, dev_tcp_host(&arg.text))
                            && *n > 2
                        {
                            self.net_fds.insert(*n, host);
                        }
                        let saved = self.appending;
                        self.appending = matches!(kind, ast::IoFileRedirectKind::Append);
                        self.write_output_to(&arg, out);
                        self.appending = saved;
                    }
                    (
                        ast::IoFileRedirectKind::DuplicateOutput,
                        ast::IoFileRedirectTarget::Duplicate(w),
                    ) if w
                        .value
                        .parse::<i32>()
                        .is_ok_and(|n| self.net_fds.contains_key(&n)) =>
                    {
                        let host = w
                            .value
                            .parse::<i32>()
                            .ok()
                            .and_then(|n| self.net_fds.get(&n).cloned());
                        if let Some(host) = host {
                            self.contact_host(&host, true, out.taint.secret, "a socket redirect");
                        }
                    }
                    (
                        ast::IoFileRedirectKind::DuplicateOutput,
                        ast::IoFileRedirectTarget::Duplicate(w),
                    ) if !w.value.chars().all(|c| c.is_ascii_digit() || c == '-') => {
                        let arg = self.expand(&w.value);
                        self.write_output_to(&arg, out);
                    }
                    (
                        _,
                        ast::IoFileRedirectTarget::ProcessSubstitution(
                            ast::ProcessSubstitutionKind::Write,
                            s,
                        ),
                    ) => {
                        let _ = self.walk_subshell(&s.list, Out::taint(out.taint));
                    }
                    _ => {}
                },
                ast::IoRedirect::OutputAndError(w, _) => {
                    let arg = self.expand(&w.value);
                    self.syntax_redirect(&w.value, &arg);
                    self.write_output_to(&arg, out);
                }
                _ => {}
            }
        }
    }

    /// Does one of a command's redirections put its stdin/stdout on a network connection?
    /// `/dev/tcp|udp/…` targets, descriptors opened on them earlier (`exec 3<>/dev/tcp/…`), or,
    /// once a socket tool has run, a duplication onto a computed descriptor (`>&$REPLY`).
    fn redirects_to_network(&mut self, redirects: &[&ast::IoRedirect]) -> bool {
        for r in redirects {
            let word = match r {
                ast::IoRedirect::File(_, _, ast::IoFileRedirectTarget::Filename(w))
                | ast::IoRedirect::OutputAndError(w, _) => w,
                ast::IoRedirect::File(_, _, ast::IoFileRedirectTarget::Duplicate(w)) => {
                    let t = w.value.trim_end_matches('-');
                    match t.parse::<i32>() {
                        Ok(n) if self.net_fds.contains_key(&n) => return true,
                        Ok(_) => continue,
                        Err(_) if t.contains('$') && self.socket_tools > 0 => return true,
                        Err(_) => w,
                    }
                }
                _ => continue,
            };
            if word.value.contains("/dev/tcp/") || word.value.contains("/dev/udp/") {
                return true;
            }
        }
        false
    }

    fn syntax_redirect(&mut self, raw: &str, arg: &Arg) {
        if self.syntactic && arg.literal && !arg.expanded && !raw.starts_with('~') {
            self.syntax.redirects.insert(arg.text.clone());
        }
    }

    /// A command's output lands in a file (a redirect, `tee`, `-o`).
    pub fn write_output_to(&mut self, arg: &Arg, out: &Out) {
        if let Some(host) = dev_tcp_host(&arg.text) {
            self.contact_host(&host, true, out.taint.secret, "redirect to /dev/tcp");
            return;
        }
        let class = self.write_path(arg);
        if let Some(class) = class {
            if out.taint != Taint::default() {
                let taint = if self.appending {
                    let old = self.tainted_files.get(&class.resolved).copied();
                    out.taint.union(old.unwrap_or_default())
                } else {
                    out.taint
                };
                self.tainted_files.insert(class.resolved.clone(), taint);
            }
            if let Some(text) = &out.text {
                self.scan_written_text(&class, text);
                self.remember_text(&class.resolved, text);
            } else {
                self.written_text.remove(&class.resolved);
            }
        }
    }

    // ------------------------------------------------------------------ words

    /// Expand one raw word as the shell would, statically.
    pub fn expand(&mut self, raw: &str) -> Arg {
        let opts = brush_parser::ParserOptions::default();
        match word::parse(raw, &opts) {
            Ok(pieces) => {
                let mut arg = Arg {
                    literal: true,
                    ..Arg::default()
                };
                self.expand_pieces(&pieces, &mut arg, false);
                if arg.text.len() >= 16 && text::find_token(&arg.text).is_some() {
                    arg.taint.secret = true;
                }
                arg
            }
            Err(_) => Arg {
                text: raw.replace('$', &UNKNOWN.to_string()),
                literal: false,
                expanded: true,
                ..Arg::default()
            },
        }
    }

    fn expand_heredoc(&mut self, raw: &str) -> Arg {
        let opts = brush_parser::ParserOptions::default();
        match word::parse_heredoc(raw, &opts) {
            Ok(pieces) => {
                let mut arg = Arg {
                    literal: true,
                    ..Arg::default()
                };
                self.expand_pieces(&pieces, &mut arg, true);
                arg
            }
            Err(_) => Arg {
                text: raw.to_string(),
                literal: false,
                expanded: true,
                ..Arg::default()
            },
        }
    }

    fn unknown(arg: &mut Arg) {
        arg.text.push(UNKNOWN);
        arg.literal = false;
        arg.expanded = true;
    }

    fn expand_pieces(&mut self, pieces: &[WordPieceWithSource], arg: &mut Arg, quoted: bool) {
        for p in pieces {
            match &p.piece {
                WordPiece::Text(s) => arg.text.push_str(s),
                WordPiece::SingleQuotedText(s) => arg.text.push_str(s),
                WordPiece::AnsiCQuotedText(s) => {
                    let (decoded, coded) = text::decode_escapes(s, false);
                    arg.text.push_str(&decoded);
                    if coded {
                        arg.escapes = true;
                        arg.expanded = true;
                        arg.taint.escaped = true;
                    }
                }
                WordPiece::DoubleQuotedSequence(inner)
                | WordPiece::GettextDoubleQuotedSequence(inner) => {
                    self.expand_pieces(inner, arg, true)
                }
                WordPiece::TildeExpansion(t) => match t {
                    TildeExpr::Home => arg.text.push_str(&self.env.home),
                    TildeExpr::UserHome(u) => {
                        let parent = self.env.home.rsplit_once('/').map_or("/home", |(p, _)| p);
                        arg.text.push_str(&format!("{parent}/{u}"));
                    }
                    TildeExpr::WorkingDir => match self.cwd.clone() {
                        Some(c) => arg.text.push_str(&c),
                        None => Self::unknown(arg),
                    },
                    _ => Self::unknown(arg),
                },
                WordPiece::ParameterExpansion(e) => self.expand_param(e, arg),
                WordPiece::CommandSubstitution(s) => self.substitute(s, arg),
                WordPiece::BackquotedCommandSubstitution(s) => {
                    let src = unescape_backquoted(s);
                    self.substitute(&src, arg)
                }
                WordPiece::EscapeSequence(s) => {
                    let c = s.strip_prefix('\\').unwrap_or(s);
                    if c != "\n" {
                        arg.text.push_str(c);
                    }
                }
                WordPiece::ArithmeticExpression(e) => {
                    self.walk_arith(&e.value);
                    Self::unknown(arg);
                }
            }
        }
        let _ = quoted;
    }

    fn substitute(&mut self, src: &str, arg: &mut Arg) {
        let out = self.walk_source(src, Origin::Substitution, Out::default());
        arg.init = if arg.substitution {
            arg.init && out.init
        } else {
            out.init
        };
        arg.substitution = true;
        arg.expanded = true;
        arg.taint = arg.taint.union(out.taint);
        arg.literal = false;
        match out.text {
            Some(t) => arg.text.push_str(t.trim_end_matches('\n')),
            None => arg.text.push(UNKNOWN),
        }
    }

    fn expand_param(&mut self, e: &ParameterExpr, arg: &mut Arg) {
        use ParameterExpr as P;
        arg.expanded = true;
        let (param, indirect) = match e {
            P::Parameter {
                parameter,
                indirect,
            }
            | P::IndicateErrorIfNullOrUnset {
                parameter,
                indirect,
                ..
            }
            | P::ParameterLength {
                parameter,
                indirect,
            }
            | P::RemoveSmallestSuffixPattern {
                parameter,
                indirect,
                ..
            }
            | P::RemoveLargestSuffixPattern {
                parameter,
                indirect,
                ..
            }
            | P::RemoveSmallestPrefixPattern {
                parameter,
                indirect,
                ..
            }
            | P::RemoveLargestPrefixPattern {
                parameter,
                indirect,
                ..
            }
            | P::Substring {
                parameter,
                indirect,
                ..
            }
            | P::Transform {
                parameter,
                indirect,
                ..
            }
            | P::UppercaseFirstChar {
                parameter,
                indirect,
                ..
            }
            | P::UppercasePattern {
                parameter,
                indirect,
                ..
            }
            | P::LowercaseFirstChar {
                parameter,
                indirect,
                ..
            }
            | P::LowercasePattern {
                parameter,
                indirect,
                ..
            }
            | P::ReplaceSubstring {
                parameter,
                indirect,
                ..
            } => (parameter, *indirect),
            P::UseDefaultValues {
                parameter,
                indirect,
                default_value,
                ..
            }
            | P::AssignDefaultValues {
                parameter,
                indirect,
                default_value,
                ..
            } => {
                if let Some(d) = default_value {
                    let inner = self.expand(d);
                    arg.taint = arg.taint.union(inner.taint);
                }
                (parameter, *indirect)
            }
            P::UseAlternativeValue {
                parameter,
                indirect,
                alternative_value,
                ..
            } => {
                if let Some(d) = alternative_value {
                    let inner = self.expand(d);
                    arg.taint = arg.taint.union(inner.taint);
                }
                (parameter, *indirect)
            }
            P::VariableNames { .. } | P::MemberKeys { .. } => {
                Self::unknown(arg);
                return;
            }
        };
        let name = match param {
            word::Parameter::Named(n)
            | word::Parameter::NamedWithIndex { name: n, .. }
            | word::Parameter::NamedWithAllIndices { name: n, .. } => n.clone(),
            word::Parameter::Positional(_) | word::Parameter::Special(_) => {
                Self::unknown(arg);
                return;
            }
        };
        if indirect {
            arg.indirection = true;
            let target = self
                .vars
                .get(&name)
                .filter(|v| v.literal)
                .map(|v| v.text.clone());
            match target {
                Some(t) => self.push_var(&t, arg),
                None => Self::unknown(arg),
            }
            arg.literal = false;
            return;
        }
        let plain = matches!(
            e,
            P::Parameter { .. }
                | P::IndicateErrorIfNullOrUnset { .. }
                | P::UseDefaultValues { .. }
                | P::AssignDefaultValues { .. }
        );
        if let P::Transform { op, .. } = e {
            self.transform(&name, op, arg);
            return;
        }
        if plain {
            self.push_var(&name, arg);
        } else {
            // A transformed value: its flow facts survive, its text does not.
            let before = arg.text.len();
            self.push_var(&name, arg);
            arg.text.truncate(before);
            Self::unknown(arg);
        }
    }

    /// Push the value of variable `name` (or its environment meaning) into `arg`.
    fn push_var(&mut self, name: &str, arg: &mut Arg) {
        if let Some(v) = self.vars.get(name).cloned() {
            arg.text.push_str(&v.text);
            arg.literal &= v.literal;
            arg.taint = arg.taint.union(v.taint);
            return;
        }
        match name {
            "HOME" => arg.text.push_str(&self.env.home),
            "PWD" => match self.cwd.clone() {
                Some(c) => arg.text.push_str(&c),
                None => Self::unknown(arg),
            },
            "TMPDIR" | "TMP" | "TEMP" => arg.text.push_str("/tmp"),
            _ => {
                Self::unknown(arg);
                if text::is_secret_env_name(name) {
                    arg.taint.secret = true;
                    if !arg.secret_vars.iter().any(|v| v == name) {
                        arg.secret_vars.push(name.to_string());
                    }
                    self.facts.reads_secret_env = true;
                    self.note(format!("secret environment variable `${name}` expanded"));
                }
            }
        }
    }

    fn transform(&mut self, name: &str, op: &ParameterTransformOp, arg: &mut Arg) {
        let val = self.vars.get(name).cloned();
        match op {
            ParameterTransformOp::PromptExpand => {
                arg.indirection = true;
                self.facts.obfuscated = true;
                self.note(format!(
                    "prompt expansion `${{{name}@P}}` executes the variable's text"
                ));
                if let Some(v) = val {
                    // The value's `$(…)` run on expansion: analyse them (tree-sitter cannot see them).
                    let saved = self.syntactic;
                    self.syntactic = false;
                    let inner = self.expand(&v.text);
                    self.syntactic = saved;
                    arg.taint = arg.taint.union(inner.taint).union(v.taint);
                }
                Self::unknown(arg);
            }
            ParameterTransformOp::ExpandEscapeSequences => {
                if let Some(v) = val {
                    let (decoded, coded) = text::decode_escapes(&v.text, false);
                    arg.text.push_str(&decoded);
                    arg.literal &= v.literal;
                    arg.taint = arg.taint.union(v.taint);
                    if coded {
                        arg.escapes = true;
                        arg.taint.escaped = true;
                    }
                } else {
                    Self::unknown(arg);
                }
            }
            _ => {
                let before = arg.text.len();
                self.push_var(name, arg);
                arg.text.truncate(before);
                Self::unknown(arg);
            }
        }
    }

    // ------------------------------------------------------------------ files

    /// Resolve a path argument against the current directory.
    pub fn resolve(&self, text: &str) -> String {
        let cwd = self.cwd.clone().unwrap_or_else(|| format!("/{UNKNOWN}"));
        paths::resolve(text, &self.env.home, &cwd)
    }

    pub fn classify(&self, arg: &Arg) -> Option<PathClass> {
        let t = arg.text.as_str();
        if t.is_empty() || t == "-" {
            return None;
        }
        let cleaned: String = t.chars().filter(|c| *c != UNKNOWN).collect();
        let path = if cleaned.is_empty() {
            t.to_string()
        } else {
            cleaned
        };
        Some(paths::classify_resolved(self.resolve(&path), self.env))
    }

    pub fn display(&self, path: &str) -> String {
        paths::display(path, self.env).replace(UNKNOWN, "…")
    }

    /// Keep the static text written to `path` (bounded), for a later `python x.py` / `sh x.sh`.
    fn remember_text(&mut self, path: &str, text: &str) {
        const MAX_FILES: usize = 16;
        const MAX_TEXT: usize = 64 * 1024;
        let mut text = text.to_string();
        if self.appending
            && let Some(old) = self.written_text.get(path)
        {
            text = format!("{old}{text}");
        }
        if text.len() <= MAX_TEXT
            && (self.written_text.len() < MAX_FILES || self.written_text.contains_key(path))
        {
            self.written_text.insert(path.to_string(), text);
        }
    }

    /// Static text this command wrote to `path` earlier, if any.
    pub fn text_of(&self, arg: &Arg) -> Option<String> {
        if !arg.known() {
            return None;
        }
        self.written_text.get(&self.resolve(&arg.text)).cloned()
    }

    /// A file (or directory) is read. Returns the taint of its content.
    pub fn read_path(&mut self, arg: &Arg) -> Taint {
        if let Some(host) = dev_tcp_host(&arg.text) {
            self.contact_host(&host, false, false, "read from /dev/tcp");
            return Taint {
                download: true,
                ..Taint::default()
            };
        }
        let Some(class) = self.classify(arg) else {
            return Taint::default();
        };
        self.read_class(&class)
    }

    pub fn read_class(&mut self, class: &PathClass) -> Taint {
        let shown = self.display(&class.resolved);
        let f = &mut self.facts;
        f.paths_read.insert(class.resolved.clone());
        let mut taint = self
            .tainted_files
            .get(&class.resolved)
            .copied()
            .unwrap_or_default();
        if let Some(kind) = class.secret {
            self.facts.reads_secret = true;
            taint.secret = true;
            self.note(format!("secret file `{shown}` read ({kind})"));
        } else if class.workspace_env {
            self.facts.reads_workspace_env = true;
            taint.secret = true;
            self.note(format!("workspace env file `{shown}` read"));
        }
        if class.read_outside_workspace() {
            self.facts.reads_outside_workspace = true;
            self.note(format!("`{shown}` read outside the workspace"));
        }
        if class.homoglyph {
            self.facts.homoglyph = true;
            self.note(format!("path `{shown}` mixes scripts or hides characters"));
        }
        taint
    }

    /// A file is written, created or modified. Returns its class (None for `-`/empty).
    pub fn write_path(&mut self, arg: &Arg) -> Option<PathClass> {
        let class = self.classify(arg)?;
        if class.null_device {
            return Some(class);
        }
        self.not_read_only();
        let shown = self.display(&class.resolved);
        self.facts.paths_written.insert(class.resolved.clone());
        if class.is_secret() {
            self.facts.writes_secret = true;
            self.note(format!("secret file `{shown}` written"));
        }
        if class.ci_config {
            self.facts.writes_ci_config = true;
            self.note(format!("CI definition `{shown}` written"));
        }
        if class.agent_config {
            self.facts.writes_agent_config = true;
            self.note(format!("agent configuration `{shown}` written"));
        }
        if class.persistence {
            self.facts.writes_persistence = true;
            self.note(format!("persistence target `{shown}` written"));
        }
        if class.write_outside_workspace() {
            self.facts.writes_outside_workspace = true;
            self.note(format!("`{shown}` written outside the workspace"));
        }
        if class.block_device {
            self.destroys_outside();
            self.note(format!("raw device `{shown}` overwritten"));
        }
        if class.homoglyph {
            self.facts.homoglyph = true;
            self.note(format!("path `{shown}` mixes scripts or hides characters"));
        }
        if let Some(kind) = class.trace
            && !self.appending
            && !self.creating
        {
            self.erase_trace(&format!(
                "{kind} `{shown}` overwritten, truncated or deleted"
            ));
        }
        Some(class)
    }

    /// Something outside the workspace is destroyed (a known path, a disk, the system).
    pub fn destroys_outside(&mut self) {
        self.facts.destroys_outside_workspace = true;
        self.known_destruction = true;
    }

    /// A path known only at run time is deleted recursively (`rm -rf "$DIR"/`).
    fn destroys_computed_path(&mut self) {
        self.facts.destroys_outside_workspace = true;
        self.computed_destruction = true;
    }

    /// Traces of what happened are erased (history, logs, transcripts, audit data).
    pub fn erase_trace(&mut self, what: &str) {
        self.facts.anti_forensics = true;
        self.not_read_only();
        self.note(format!("anti-forensics: {what}"));
    }

    /// A path is deleted (or, with `recursive`, a whole tree).
    pub fn delete_path(&mut self, arg: &Arg, recursive: bool, forced: bool) {
        let Some(class) = self.write_path(arg) else {
            return;
        };
        let shown = self.display(&class.resolved);
        let unknown = !arg.known() && arg.text.starts_with(UNKNOWN);
        let outside = class.write_outside_workspace() && !class.null_device && !class.cache;
        let root = crate::normalize::paths::workspace_root(self.env);
        let everything = class.in_workspace
            && class
                .resolved
                .rsplit_once('/')
                .is_some_and(|(dir, base)| dir == root && matches!(base, "*" | ".*" | "{*,.*}"));
        if (recursive || forced) && (class.workspace_root || everything || class.git_store) {
            self.facts.destroys_workspace = true;
            let what = if class.git_store {
                format!("the repository's git history `{shown}`")
            } else {
                format!("the whole workspace `{}`", self.display(&root))
            };
            self.note(format!("recursive delete of {what}"));
        } else if (recursive || forced) && (class.critical_dir || unknown || outside) {
            if unknown {
                self.destroys_computed_path();
            } else {
                self.destroys_outside();
            }
            let what = if unknown {
                "a computed path".to_string()
            } else {
                format!("`{shown}`")
            };
            self.note(format!(
                "recursive/forced delete of {what} outside the workspace"
            ));
        } else if class.in_workspace && !class.workspace_root {
            self.facts.deletes_in_workspace = true;
        }
    }

    /// A path is listed or inspected (`ls`, `stat`, `find` start points): names, not contents.
    pub fn list_path(&mut self, arg: &Arg) {
        let Some(class) = self.classify(arg) else {
            return;
        };
        let shown = self.display(&class.resolved);
        self.facts.paths_read.insert(class.resolved.clone());
        if let Some(kind) = class.secret {
            self.note(format!(
                "secret location `{shown}` listed ({kind}), contents not read"
            ));
        }
        if class.read_outside_workspace() && !class.is_secret() {
            self.facts.reads_outside_workspace = true;
            self.note(format!("`{shown}` listed outside the workspace"));
        }
        if class.homoglyph {
            self.facts.homoglyph = true;
            self.note(format!("path `{shown}` mixes scripts or hides characters"));
        }
    }

    /// Text written to a file that will run later (rc files, CI, agent config): analyse it too.
    pub fn scan_written_text(&mut self, class: &PathClass, content: &str) {
        if self.depth > 4 {
            return;
        }
        if let Some(sub) = crate::normalize::content::scan_written(class, content, self.env) {
            self.facts.writes_persistence |= sub.writes_persistence;
            self.absorb_later(sub);
        }
    }

    /// Facts of text that will run later (not now): keep what it would do, not its reads.
    pub fn absorb_later(&mut self, sub: Facts) {
        let mut notes = Vec::new();
        std::mem::swap(&mut notes, &mut self.facts.notes);
        crate::normalize::absorb_later(&mut self.facts, sub, "written content");
        let added: Vec<String> = std::mem::take(&mut self.facts.notes);
        self.facts.notes = notes;
        for n in added {
            self.note(n);
        }
    }

    // ------------------------------------------------------------------ network

    /// Contact a URL/remote given as an argument. `send`: data goes out. Returns the host kind.
    pub fn contact_arg(
        &mut self,
        arg: &Arg,
        bare_ok: bool,
        send: bool,
        program: &str,
    ) -> Option<HostKind> {
        let remote = hosts::parse_remote(&arg.text, bare_ok)?;
        if remote.has_credential {
            self.facts.credential_in_url = true;
            self.note(format!(
                "credential embedded in URL for `{}`",
                remote.host.replace(UNKNOWN, "…")
            ));
        }
        if arg.taint.secret {
            self.facts.secret_to_network = true;
            self.facts.network_send = true;
            self.note(format!("secret data placed in a URL sent by `{program}`"));
        }
        Some(self.contact_host(&remote.host, send, false, program))
    }

    /// Contact a host. `data_secret`: secret data goes with it.
    pub fn contact_host(
        &mut self,
        host: &str,
        send: bool,
        data_secret: bool,
        program: &str,
    ) -> HostKind {
        self.not_read_only();
        self.facts.network = true;
        let mut send = send;
        let mut host_text = host.to_string();
        if host.contains(UNKNOWN) {
            // Data built into the name itself (DNS exfiltration); classify what is known.
            send = true;
            self.note(format!("`{program}` builds a host name from run-time data"));
            let known: Vec<&str> = host
                .split('.')
                .filter(|l| !l.contains(UNKNOWN) && !l.is_empty())
                .collect();
            host_text = known.join(".");
        }
        let class = hosts::classify_host(&host_text, self.env);
        let shown = if class.host.is_empty() {
            "an unknown host".to_string()
        } else {
            format!("`{}`", class.host)
        };
        if !class.host.is_empty() {
            self.facts.hosts.insert(class.host.clone());
        }
        let external = class.is_external() || class.host.is_empty();
        if external {
            self.facts.external_host = true;
        }
        if class.kind == HostKind::Metadata {
            self.facts.metadata_host = true;
            self.note(format!("cloud metadata endpoint {shown} contacted"));
        }
        if class.homoglyph {
            self.facts.homoglyph = true;
            self.note(format!(
                "host {shown} mixes scripts or uses look-alike characters"
            ));
        }
        if send {
            self.facts.network_send = true;
            if external {
                self.note(format!("`{program}` sends data to external host {shown}"));
            }
        } else if external {
            self.note(format!("`{program}` contacts external host {shown}"));
        }
        if data_secret {
            self.facts.secret_to_network = true;
            self.facts.network_send = true;
            self.note(format!("secret data flows to {shown} via `{program}`"));
        }
        class.kind
    }
}

/// Variables that decide whether and where the shell records its history.
fn history_var(name: &str) -> bool {
    matches!(name, "HISTFILE" | "HISTSIZE" | "HISTFILESIZE" | "SAVEHIST")
}

/// `/dev/tcp/HOST/PORT` and `/dev/udp/HOST/PORT` (bash network redirections).
fn dev_tcp_host(path: &str) -> Option<String> {
    let rest = path
        .strip_prefix("/dev/tcp/")
        .or_else(|| path.strip_prefix("/dev/udp/"))?;
    Some(rest.split('/').next().unwrap_or(rest).to_string())
}

/// Inside backquotes, `\\`, `` \` `` and `\$` lose their backslash before the text is parsed.
fn unescape_backquoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n) = chars.peek()
            && matches!(n, '\\' | '`' | '$')
        {
            out.push(n);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

/// A short excerpt of a command for notes.
pub(crate) fn short(s: &str) -> String {
    s.chars()
        .map(|c| if c == UNKNOWN { '…' } else { c })
        .filter(|c| !c.is_control())
        .take(60)
        .collect()
}
