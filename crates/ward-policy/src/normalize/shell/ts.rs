//! tree-sitter-bash as the second opinion: the static program names and redirect targets it
//! sees, to compare with brush's, and a plain-words view for commands only it can parse.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::time::Instant;
use tree_sitter::{Node, ParseOptions, ParseState, Parser};

/// Static program names and redirect targets seen at the syntactic level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SyntaxView {
    pub programs: BTreeSet<String>,
    pub redirects: BTreeSet<String>,
}

impl SyntaxView {
    /// Builtins that tree-sitter models as their own node kinds; left out of the comparison.
    fn comparable(name: &str) -> bool {
        !matches!(
            name,
            "[" | "[["
                | "test"
                | "declare"
                | "export"
                | "local"
                | "readonly"
                | "typeset"
                | "unset"
                | "unsetenv"
                | "time"
                | "!"
        )
    }

    /// Names and targets present in one view and missing from the other.
    pub fn difference(&self, other: &SyntaxView) -> Vec<String> {
        let progs = |v: &SyntaxView| -> BTreeSet<String> {
            v.programs
                .iter()
                .filter(|p| Self::comparable(p))
                .cloned()
                .collect()
        };
        let (a, b) = (progs(self), progs(other));
        let mut out: Vec<String> = a
            .symmetric_difference(&b)
            .map(|p| format!("program `{p}`"))
            .collect();
        out.extend(
            self.redirects
                .symmetric_difference(&other.redirects)
                .map(|r| format!("redirect `{r}`")),
        );
        out
    }
}

/// What tree-sitter made of a command.
#[derive(Debug, Clone, Default)]
pub(crate) struct TsView {
    pub syntax: SyntaxView,
    /// ERROR or MISSING nodes anywhere.
    pub has_error: bool,
    /// Only simple commands of plain words (no expansions, redirects, substitutions, assignments).
    pub plain: bool,
}

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parse with tree-sitter, giving up at `deadline`.
pub(crate) fn parse(src: &str, deadline: Instant) -> Option<TsView> {
    PARSER.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if slot.is_none() {
            let mut p = Parser::new();
            p.set_language(&tree_sitter_bash::LANGUAGE.into()).ok()?;
            *slot = Some(p);
        }
        let parser = slot.as_mut()?;
        let bytes = src.as_bytes();
        let mut progress = |_: &ParseState| Instant::now() > deadline;
        let options = ParseOptions::new().progress_callback(&mut progress);
        let tree = parser.parse_with_options(
            &mut |offset, _| bytes.get(offset..).unwrap_or_default(),
            None,
            Some(options),
        );
        parser.reset();
        let tree = tree?;
        Some(view(tree.root_node(), bytes))
    })
}

fn view(root: Node<'_>, src: &[u8]) -> TsView {
    let mut out = TsView {
        plain: true,
        ..TsView::default()
    };
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            out.has_error = true;
        }
        match node.kind() {
            "command" => {
                if let Some(name) = node
                    .child_by_field_name("name")
                    .and_then(|n| n.named_child(0).or(Some(n)))
                    && let Some(t) = static_text(name, src)
                    && !t.starts_with('~')
                {
                    if t == "time" {
                        // bash reads `time` as a keyword: the program is its first argument.
                        let mut cursor = node.walk();
                        let next = node
                            .children_by_field_name("argument", &mut cursor)
                            .filter_map(|a| static_text(a, src))
                            .find(|a| !a.starts_with('-'));
                        if let Some(n) = next {
                            out.syntax.programs.insert(n);
                        }
                    }
                    out.syntax.programs.insert(t);
                }
            }
            "file_redirect" => {
                if let Some(dest) = node.child_by_field_name("destination")
                    && let Some(t) = static_text(dest, src)
                {
                    let dup = (text(node, src).contains('&')
                        && (t.chars().all(|c| c.is_ascii_digit()) || t == "-"))
                        || t.starts_with('~');
                    if !dup {
                        out.syntax.redirects.insert(t);
                    }
                }
                out.plain = false;
            }
            "program" | "command_name" | "word" | "raw_string" | "string_content" | "number"
            | "list" | "pipeline" | "comment" | "&&" | "||" | "|" | ";" | "'" | "\"" => {}
            "string" => {}
            _ => out.plain = false,
        }
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            stack.push(child);
        }
    }
    out
}

fn text<'a>(node: Node<'_>, src: &'a [u8]) -> &'a str {
    node.utf8_text(src).unwrap_or("")
}

/// The literal value of a word-like node, quotes removed; `None` when it has expansions.
fn static_text(node: Node<'_>, src: &[u8]) -> Option<String> {
    match node.kind() {
        "word" | "number" => Some(unescape(text(node, src))),
        "raw_string" => {
            let t = text(node, src);
            Some(
                t.strip_prefix('\'')
                    .and_then(|t| t.strip_suffix('\''))
                    .unwrap_or(t)
                    .to_string(),
            )
        }
        "string" => {
            let mut cursor = node.walk();
            if node
                .named_children(&mut cursor)
                .any(|c| c.kind() != "string_content")
            {
                return None;
            }
            let t = text(node, src);
            let inner = t
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(t);
            Some(unescape_dq(inner))
        }
        "concatenation" => {
            let mut cursor = node.walk();
            let parts: Option<Vec<String>> = node
                .named_children(&mut cursor)
                .map(|c| static_text(c, src))
                .collect();
            parts.map(|p| p.concat())
        }
        _ => None,
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('\n') | None => {}
                Some(n) => out.push(n),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn unescape_dq(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n) = chars.peek()
            && matches!(n, '\\' | '"' | '$' | '`' | '\n')
        {
            chars.next();
            if n != '\n' {
                out.push(n);
            }
            continue;
        }
        out.push(c);
    }
    out
}
