//! The `ward` binary: a thin main over the library.

/// mimalloc instead of the system allocator: under `ward serve` load glibc's malloc, free and
/// consolidation were about 15% of the daemon's samples (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(ward_cli::run());
}
