//! The one way tests check that model files load in Python: run a python3 script on them. When
//! python3 is missing the test FAILS, naming what is missing (a check that silently passes
//! without its tool proves nothing; every machine that runs the suite has python3).

use std::path::Path;
use std::process::Command;

/// Python source defining `load(path)`: unpickles with an Unpickler that refuses every global,
/// which proves the pickle needs no import (plain dicts, lists, floats and strings only).
pub const LOAD_WITHOUT_IMPORTS: &str = r#"
import pickle, sys
class NoGlobals(pickle.Unpickler):
    def find_class(self, module, name):
        raise RuntimeError("pickle needs an import: %s.%s" % (module, name))
def load(path):
    with open(path, "rb") as f:
        return NoGlobals(f).load()
"#;

/// Runs `python3 -c script` with `files` as arguments, panics unless it exits 0, and returns its
/// trimmed stdout. `script` follows [`LOAD_WITHOUT_IMPORTS`], so it can call `load(path)`.
pub fn run_on_files(script: &str, files: &[&Path]) -> String {
    let source = format!("{LOAD_WITHOUT_IMPORTS}\n{script}");
    let out = match Command::new("python3")
        .arg("-c")
        .arg(&source)
        .args(files)
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!(
            "python3 is required to check that model files load in Python, and it could not be \
             run ({e}): install python3 (no packages needed)"
        ),
    };
    assert!(
        out.status.success(),
        "python3 check failed on {files:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs `python3 -c script args...` with the repository's `python/` directory on `PYTHONPATH`
/// (where `auto_train_models` lives), panics unless it exits 0, and returns its trimmed stdout.
/// Fails, naming what is missing, when python3 cannot be run.
pub fn run_with_reader(script: &str, args: &[&str]) -> String {
    let python_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("python");
    let out = match Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .env("PYTHONPATH", &python_dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!(
            "python3 is required to check the Python reader (python/auto_train_models.py), and \
             it could not be run ({e}): install python3 (no packages needed)"
        ),
    };
    assert!(
        out.status.success(),
        "python3 reader check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
