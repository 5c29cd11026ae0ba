//! One style for what people read: `error[CODE]: message` then `help: …`.

use ward_core::WardError;

pub fn print_error(e: &WardError) {
    eprintln!("error[{}]: {}", e.code, e.message);
    eprintln!("  help: {}", e.code.help());
}

/// Pad a cell to a width (by characters), cutting with `…`.
pub fn cell(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        format!("{s}{}", " ".repeat(width - n))
    } else {
        let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
