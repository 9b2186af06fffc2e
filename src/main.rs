//! The `bindscope` binary: parse the command line, run the command, turn errors into a
//! message and exit status 2. Everything else lives in the library.

// `unsafe` here and in collect::linux::sockopt only (Cargo.toml denies it elsewhere): a
// global allocator is an unsafe trait, and `_exit` an unsafe call.
#![allow(unsafe_code)]

use bindscope::cli::{Cli, Command};
use bindscope::commands;
use bindscope::text::clean_lines;
use clap::Parser;
use std::alloc::{GlobalAlloc, Layout, System};
use std::io;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Out of memory (a small `ulimit -v`, a container's limit) ends bindscope with a message
/// and exit status 2, like any other error, instead of Rust's abort (status 134): the
/// terminal is restored first if the dashboard has it.
struct ExitOnOom;

// SAFETY: every method forwards to the system allocator with the same arguments, so the
// GlobalAlloc contract is System's; a null result never returns (the process ends).
unsafe impl GlobalAlloc for ExitOnOom {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` and `layout` come from this allocator, which is System's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            out_of_memory(new_size);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` and `layout` come from this allocator, which is System's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: ExitOnOom = ExitOnOom;

/// Says how much could not be allocated and exits 2, allocating nothing itself (the message
/// is put together on the stack).
fn out_of_memory(size: usize) -> ! {
    static ONCE: AtomicBool = AtomicBool::new(false);
    if !ONCE.swap(true, Ordering::SeqCst) {
        // Best effort: restoring may itself need a little memory, which is usually there
        // after a large request failed.
        bindscope::ui::run::restore_terminal_if_taken();
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = size;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 || at == 0 {
                break;
            }
        }
        let stderr = rustix::stdio::stderr();
        for part in [
            &b"bindscope: out of memory (could not allocate "[..],
            &digits[at..],
            &b" bytes): raise the memory limit (ulimit -v, the container's or unit's), \
               or narrow the run (--netns, without --all, a smaller file)\n"[..],
        ] {
            let _ = rustix::io::write(stderr, part);
        }
    }
    // SAFETY: _exit ends the process at once; nothing here relies on destructors or atexit
    // handlers, which could allocate again.
    unsafe { libc::_exit(2) }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and --version go to stdout as clap writes them; errors quote the user's
        // arguments, which can carry escape sequences: they are printed sanitized.
        Err(e) if e.use_stderr() => {
            eprint!("{}", clean_lines(&e.render().to_string()));
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
        Err(e) => e.exit(),
    };
    let result = match &cli.command {
        None => commands::dashboard::run(&cli.dashboard),
        Some(Command::Snapshot(args)) => commands::snapshot::run(args),
        Some(Command::Findings(args)) => commands::findings::run(args),
        Some(Command::CanBind(args)) => commands::can_bind::run(args),
        Some(Command::Record(args)) => commands::record::run(args),
        Some(Command::Serve(args)) => commands::serve::run(args),
        Some(Command::Open(args)) => commands::open::run(args),
        Some(Command::Diff(args)) => commands::diff::run(args),
        Some(Command::Rules(args)) => commands::rules::run(args),
        Some(Command::Ports(args)) => commands::ports::run(args),
        Some(Command::Who(args)) => commands::who::run(args),
        Some(Command::Completions(args)) => commands::completions::run(args.shell),
        Some(Command::Man(args)) => commands::man::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`bindscope snapshot | head`) is the reader's choice, not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Names from the host and the user's own arguments can carry escape sequences.
            eprintln!("bindscope: {}", clean_lines(&message(&e)));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, `: `-joined, leaving out a cause whose text the message
/// already carries (errors that name their source in their own text).
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                .is_some_and(|k| k == io::ErrorKind::BrokenPipe)
    })
}
