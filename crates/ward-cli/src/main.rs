//! The `ward` binary: a thin main over the library.

fn main() {
    std::process::exit(ward_cli::run());
}
