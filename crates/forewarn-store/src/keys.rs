//! Where the master key comes from: `FOREWARN_MASTER_KEY` (base64 of 32 bytes), or `master.key` in the data
//! directory, created with mode 0600 by `forewarn init`.
//!
//! Rotation writes the new key to `master.key.next` first, re-wraps every data key in one transaction, then
//! renames the file over `master.key`. If the process dies in between, [`load`] finds whichever of the two files
//! holds the key that the database was wrapped with.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

use crate::crypto::MasterKey;

pub const KEY_FILE: &str = "master.key";
pub const NEXT_KEY_FILE: &str = "master.key.next";
pub const KEY_ENV: &str = "FOREWARN_MASTER_KEY";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no master key: set {KEY_ENV} or run `forewarn init` to create {0}")]
    Missing(PathBuf),
    #[error("{0} is not a master key: expected base64 of 32 bytes on one line")]
    Malformed(String),
    #[error("{path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`")]
    Permissions { path: String, mode: u32 },
    #[error("{path} already exists; refusing to overwrite a master key")]
    Exists { path: String },
    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Crypto(#[from] crate::CryptoError),
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> KeyError + 'a {
    move |source| KeyError::Io { action, path: path.display().to_string(), source }
}

pub fn encode(key: &MasterKey) -> Zeroizing<String> {
    Zeroizing::new(STANDARD.encode(key.expose_bytes()))
}

pub fn decode(text: &str, origin: &str) -> Result<MasterKey, KeyError> {
    let bytes = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| KeyError::Malformed(origin.to_owned()))?);
    let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| KeyError::Malformed(origin.to_owned()))?;
    Ok(MasterKey::from_bytes(arr))
}

fn read_file(path: &Path) -> Result<Option<MasterKey>, KeyError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("read", path)(e)),
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions { path: path.display().to_string(), mode });
    }
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io("read", path))?);
    decode(&text, &path.display().to_string()).map(Some)
}

/// Writes a key file that must not exist yet, readable only by its owner, and syncs it to disk.
pub fn write_new(path: &Path, key: &MasterKey) -> Result<(), KeyError> {
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists { path: path.display().to_string() }
        } else {
            io("create", path)(e)
        }
    })?;
    let mut text = encode(key);
    text.push('\n');
    file.write_all(text.as_bytes()).map_err(io("write", path))?;
    file.sync_all().map_err(io("sync", path))?;
    Ok(())
}

/// The key candidates, in order of preference: the environment, then `master.key`, then a `master.key.next`
/// left by an interrupted rotation.
pub fn candidates(data_dir: &Path) -> Result<Vec<MasterKey>, KeyError> {
    if let Ok(text) = std::env::var(KEY_ENV) {
        return Ok(vec![decode(&text, KEY_ENV)?]);
    }
    let mut keys = Vec::new();
    keys.extend(read_file(&data_dir.join(KEY_FILE))?);
    keys.extend(read_file(&data_dir.join(NEXT_KEY_FILE))?);
    if keys.is_empty() {
        return Err(KeyError::Missing(data_dir.join(KEY_FILE)));
    }
    Ok(keys)
}

/// Completes an interrupted rotation: once the database is known to use the `next` key, it becomes `master.key`.
pub fn promote_next(data_dir: &Path) -> Result<(), KeyError> {
    let next = data_dir.join(NEXT_KEY_FILE);
    let current = data_dir.join(KEY_FILE);
    fs::rename(&next, &current).map_err(io("rename", &next))?;
    if let Ok(dir) = fs::File::open(data_dir) {
        // Make the rename durable; failure here only weakens durability, it does not lose the key.
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_private_and_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let key = MasterKey::generate().unwrap();
        write_new(&path, &key).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(matches!(write_new(&path, &key), Err(KeyError::Exists { .. })));
        let back = read_file(&path).unwrap().unwrap();
        assert_eq!(back.id(), key.id());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(read_file(&path), Err(KeyError::Permissions { .. })));
        assert!(decode("c2hvcnQ=", "test").is_err());
    }
}
