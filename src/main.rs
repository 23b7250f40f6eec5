//! The `auto-train` binary: everything lives in the library; see `auto_train::main_exit_code`.

/// mimalloc: the many small allocations of loading and of the logistic fits (ndarray
/// temporaries), made from two threads, cost about 15% of a run with glibc's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(auto_train::main_exit_code());
}
