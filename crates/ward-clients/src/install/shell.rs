//! Just enough POSIX shell word handling to build and recognise hook command lines.

/// Quotes `word` for `sh -c` unless it is made only of characters that need no quoting.
pub(crate) fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Splits a command line into words: blanks separate words; single quotes, double quotes and
/// backslashes work as in `sh`. Expansions are not performed. An unterminated quote ends the word.
pub(crate) fn split(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => word.push(e),
                            Some('\n') => {}
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                            None => word.push('\\'),
                        },
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(e) => word.push(e),
                    None => {}
                }
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_round_trips_through_split() {
        for w in [
            "/usr/local/bin/ward",
            "/home/a b/ward",
            "/it's/ward",
            "",
            "C:\\x",
        ] {
            assert_eq!(split(&quote(w)), vec![w.to_string()], "{w:?}");
        }
        assert_eq!(quote("/usr/bin/ward"), "/usr/bin/ward");
        assert_eq!(quote("/a b/ward"), "'/a b/ward'");
    }

    #[test]
    fn split_handles_quotes_and_escapes() {
        assert_eq!(
            split(r#"  "/a b/ward" hook 'claude code' x\ y "q\"r"  "#),
            vec!["/a b/ward", "hook", "claude code", "x y", "q\"r"]
        );
        assert_eq!(split(""), Vec::<String>::new());
        assert_eq!(split("''"), vec![String::new()]);
    }
}
