use clap::Parser;

fn main() {
    tune_allocator();
    let outcome = actix_web::rt::System::new()
        .block_on(nru_helpdesk::cli::run(nru_helpdesk::cli::Cli::parse()));
    if let Err(error) = outcome {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

/// glibc raises its mmap threshold each time a large block is freed, after
/// which a report's large vectors come from per-thread arenas that keep the
/// memory: resident memory climbed by tens of MB per report and stayed. A
/// fixed threshold sends large blocks to mmap, returned when freed, and two
/// arenas bound what small allocations keep (docs/benchmarks.md).
#[cfg(target_env = "gnu")]
fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters; it runs before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(target_env = "gnu"))]
fn tune_allocator() {}
