//! The `auto-train` binary: everything lives in the library; see `auto_train::main_exit_code`.

fn main() {
    std::process::exit(auto_train::main_exit_code());
}
