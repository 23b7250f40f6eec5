//! Model artifacts as real Python pickles of plain data (dicts, lists, floats, strings), so the
//! Python service and data scientists can `pickle.load` them with no imports, and this tool can
//! read them back.

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Pickles `value` (structs become dicts with string keys).
pub fn to_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_pickle::to_vec(value, serde_pickle::SerOptions::new()).context("pickling a model")
}

/// Reads a pickle written by `to_bytes`.
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_pickle::from_slice(bytes, serde_pickle::DeOptions::new()).context("reading a pickle")
}

/// Reads and unpickles a file, naming it in the error.
pub fn read_file<T: DeserializeOwned>(path: &std::path::Path) -> Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    from_bytes(&bytes).with_context(|| format!("{} is not a model this tool wrote", path.display()))
}

/// What a file that this tool cannot load as its own model is, judged from its bytes alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickleKind {
    /// A complete pickle stream that references Python classes (`module.name`, the first one
    /// here), or a joblib file: another tool's model (e.g. the old service's scikit-learn or
    /// LightGBM objects).
    OtherTool(String),
    /// A complete pickle of plain data only (dicts, lists, numbers, strings): this tool's kind
    /// of file, so one that does not load as a model is damaged.
    PlainData,
    /// Not a complete pickle stream (truncated, empty, an opcode Python does not know ...).
    NotAPickle(String),
}

/// joblib's array wrapper: its unpickler reads raw array bytes from the file right after it, so
/// the stream that follows is not plain pickle opcodes.
const JOBLIB_ARRAY_WRAPPERS: &[&str] = &[
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
];

/// Magic numbers of the compressed files `joblib.dump(..., compress=...)` writes.
const JOBLIB_COMPRESSED: &[(&[u8], &str)] = &[
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"ZF", "joblib zlib"),
];

/// Walks a pickle's opcodes (protocols 0 to 5) without running them: whether the stream is
/// complete and which globals it names. Never allocates more than the names it reports.
pub fn classify(bytes: &[u8]) -> PickleKind {
    if !bytes.starts_with(b"\x80") {
        if let Some((_, kind)) = JOBLIB_COMPRESSED.iter().find(|(m, _)| bytes.starts_with(m)) {
            return PickleKind::OtherTool(format!("a {kind}-compressed joblib file"));
        }
    }
    let mut walker = Walker {
        bytes,
        at: 0,
        globals: Vec::new(),
        strings: Vec::new(),
        values: 0,
    };
    match walker.walk() {
        Ok(()) if walker.values == 0 => PickleKind::NotAPickle("an empty pickle".into()),
        Ok(()) => match walker.globals.first() {
            Some(g) => PickleKind::OtherTool(g.clone()),
            None => PickleKind::PlainData,
        },
        Err(reason) => match walker
            .globals
            .iter()
            .find(|g| JOBLIB_ARRAY_WRAPPERS.contains(&g.as_str()))
        {
            Some(_) => PickleKind::OtherTool(
                walker
                    .globals
                    .iter()
                    .find(|g| !JOBLIB_ARRAY_WRAPPERS.contains(&g.as_str()))
                    .cloned()
                    .unwrap_or_else(|| "a joblib file".into()),
            ),
            None => PickleKind::NotAPickle(reason),
        },
    }
}

struct Walker<'a> {
    bytes: &'a [u8],
    at: usize,
    /// `module.name` of every GLOBAL, STACK_GLOBAL or INST, in order.
    globals: Vec<String>,
    /// The last two strings pushed (STACK_GLOBAL takes its names from them).
    strings: Vec<String>,
    /// Opcodes that push a value (a stream of only PROTO and STOP holds nothing).
    values: usize,
}

impl Walker<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn uint(&mut self, n: usize) -> Result<usize, String> {
        let b = self.take(n)?;
        let mut v: u64 = 0;
        for (i, byte) in b.iter().enumerate() {
            v |= (*byte as u64) << (8 * i);
        }
        usize::try_from(v).map_err(|_| "length out of range".to_string())
    }

    fn line(&mut self) -> Result<&[u8], String> {
        let rest = &self.bytes[self.at..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| format!("truncated at byte {}", self.at))?;
        self.at += n + 1;
        Ok(&rest[..n])
    }

    fn string(&mut self, len_bytes: usize) -> Result<(), String> {
        let n = self.uint(len_bytes)?;
        let s = String::from_utf8_lossy(self.take(n)?).into_owned();
        self.remember(s);
        Ok(())
    }

    fn remember(&mut self, s: String) {
        if self.strings.len() == 2 {
            self.strings.remove(0);
        }
        // Only names matter here; a long string is never a module or class name.
        self.strings
            .push(if s.len() > 200 { String::new() } else { s });
    }

    fn global_from_lines(&mut self) -> Result<(), String> {
        let module = String::from_utf8_lossy(self.line()?).into_owned();
        let name = String::from_utf8_lossy(self.line()?).into_owned();
        self.globals.push(format!("{module}.{name}"));
        Ok(())
    }

    fn walk(&mut self) -> Result<(), String> {
        loop {
            let op = *self.take(1)?.first().unwrap_or(&0);
            if !matches!(op, 0x80 | 0x95 | b'.') {
                self.values += 1;
            }
            match op {
                b'.' => return Ok(()),
                // No argument.
                b'(' | b'0' | b'1' | b'2' | b'N' | b'R' | b']' | b'a' | b'b' | b'd' | b'}'
                | b'e' | b'l' | b'o' | b's' | b't' | b')' | b'u' | b'Q' | 0x81 | 0x85 | 0x86
                | 0x87 | 0x88 | 0x89 | 0x8f | 0x90 | 0x91 | 0x92 | 0x94 | 0x97 | 0x98 => {}
                0x93 => {
                    let name = self.strings.pop().unwrap_or_default();
                    let module = self.strings.pop().unwrap_or_default();
                    self.globals.push(format!("{module}.{name}"));
                }
                // Fixed-size arguments.
                b'K' | b'h' | b'q' | 0x80 | 0x82 => {
                    self.take(1)?;
                }
                b'M' | 0x83 => {
                    self.take(2)?;
                }
                b'J' | b'j' | b'r' | 0x84 => {
                    self.take(4)?;
                }
                b'G' | 0x95 => {
                    self.take(8)?;
                }
                // Length-prefixed strings and bytes.
                b'U' | b'C' | 0x8c => self.string(1)?,
                b'T' | b'X' | b'B' => self.string(4)?,
                0x8d | 0x8e | 0x96 => self.string(8)?,
                0x8a => {
                    let n = self.uint(1)?;
                    self.take(n)?;
                }
                0x8b => {
                    let n = self.uint(4)?;
                    self.take(n)?;
                }
                // Text arguments ending at a newline.
                b'S' | b'V' => {
                    let s = String::from_utf8_lossy(self.line()?).into_owned();
                    self.remember(s.trim_matches(|c| c == '\'' || c == '"').to_string());
                }
                b'I' | b'L' | b'F' | b'P' | b'g' | b'p' => {
                    self.line()?;
                }
                b'c' | b'i' => self.global_from_lines()?,
                other => {
                    return Err(format!(
                        "byte {} is not a pickle opcode (0x{other:02x})",
                        self.at - 1
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_plain_data_other_tools_and_junk() {
        let ours = to_bytes(&std::collections::BTreeMap::from([(
            "a",
            vec![1.0f64, 2.0],
        )]))
        .unwrap();
        assert_eq!(classify(&ours), PickleKind::PlainData);
        // pickle.dumps({}) (protocol 4) and protocol 0.
        assert_eq!(classify(b"\x80\x04}\x94."), PickleKind::PlainData);
        assert_eq!(classify(b"(dp0\n."), PickleKind::PlainData);
        // An object of another tool's class (protocol 2) and a STACK_GLOBAL one (protocol 4).
        let sklearn = b"\x80\x02csklearn.linear_model._logistic\nLogisticRegression\nq\x00)\x81q\x01}q\x02X\x01\x00\x00\x00Cq\x03G?\xf0\x00\x00\x00\x00\x00\x00sb.";
        assert_eq!(
            classify(sklearn),
            PickleKind::OtherTool("sklearn.linear_model._logistic.LogisticRegression".into())
        );
        let lgbm = b"\x80\x04\x95\x21\x00\x00\x00\x00\x00\x00\x00\x8c\x0elightgbm.basic\x94\x8c\x07Booster\x94\x93\x94)\x81\x94.";
        assert_eq!(
            classify(lgbm),
            PickleKind::OtherTool("lightgbm.basic.Booster".into())
        );
        // Truncated, a lone STOP, not a pickle, empty.
        for junk in [&sklearn[..40], b".".as_slice(), b"foreign pickle", b""] {
            assert!(
                matches!(classify(junk), PickleKind::NotAPickle(_)),
                "{junk:?}: {:?}",
                classify(junk)
            );
        }
        assert!(matches!(
            classify(&ours[..ours.len() - 1]),
            PickleKind::NotAPickle(_)
        ));
        // joblib: raw array bytes follow its wrapper; compressed files.
        let joblib = b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}b\xff\xfe\x00\x01";
        assert!(matches!(classify(joblib), PickleKind::OtherTool(_)));
        assert!(matches!(
            classify(b"\x1f\x8b\x08\x00junk"),
            PickleKind::OtherTool(_)
        ));
    }
}
