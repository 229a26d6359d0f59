//! Reading a file no further than the string limit allows: `fs::read`, the manifests of
//! `kube::apply` and the files of `helm::values` (issue 23: a read of `/dev/zero` grew until
//! memory ran out). The file is read up to one byte past the limit, so a longer file costs
//! no more than the limit, and the error says where reading stopped and how to raise it.

use std::io::Read;
use std::path::Path;

use crate::limits::{Limits, STRING_FLAG, group};

/// Why [`read_to_string`] returned no text.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read, or is not UTF-8.
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The file is longer than the limit.
    #[error(
        "cannot read {path}: it is longer than the sandbox limit of {} bytes per string (reading stopped there); raise it with {STRING_FLAG} N",
        group(*limit)
    )]
    TooLong { path: String, limit: usize },
}

/// The text of `path`, if it holds at most `limits`' string size in UTF-8.
pub fn read_to_string(path: &Path, limits: &Limits) -> Result<String, ReadError> {
    let io = |source: std::io::Error| ReadError::Io {
        path: path.display().to_string(),
        source,
    };
    let max = limits.string_bytes();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(max.saturating_add(1) as u64)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > max {
        return Err(ReadError::TooLong {
            path: path.display().to_string(),
            limit: limits.max_string_size,
        });
    }
    String::from_utf8(bytes).map_err(|_| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_string_size: usize) -> Limits {
        Limits {
            max_string_size,
            ..Limits::default()
        }
    }

    #[test]
    fn a_file_within_the_limit_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        std::fs::write(&p, "kind: Pod\n").unwrap();
        assert_eq!(read_to_string(&p, &limits(10)).unwrap(), "kind: Pod\n");
    }

    #[test]
    fn an_endless_file_stops_one_byte_past_the_limit_with_the_flag_to_raise_it() {
        let err = read_to_string(Path::new("/dev/zero"), &limits(1000)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read /dev/zero: it is longer than the sandbox limit of 1,000 bytes per string (reading stopped there); raise it with --max-string-size N"
        );
    }

    #[test]
    fn a_missing_file_and_a_binary_one_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bin");
        std::fs::write(&p, [0xff, 0xfe]).unwrap();
        assert_eq!(
            read_to_string(&p, &limits(10)).unwrap_err().to_string(),
            format!(
                "cannot read {}: stream did not contain valid UTF-8",
                p.display()
            )
        );
        let missing = dir.path().join("missing");
        assert!(
            read_to_string(&missing, &limits(10))
                .unwrap_err()
                .to_string()
                .ends_with("No such file or directory (os error 2)")
        );
    }
}
