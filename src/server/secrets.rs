//! Server secrets: the session-cookie signing key and the key that HMACs OTP codes.
//! In production they must be configured; for the embedded default they are generated once
//! and kept in the data directory with mode 0600, so the first start just works.
use super::config::{Environment, Settings};
use anyhow::{bail, Context};
use base64::Engine;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Key material; never `Debug`-printed or serialized.
pub struct Secrets {
    pub session_key: [u8; 64],
    pub code_hash_key: Vec<u8>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

const SESSION_FILE: &str = "session.key";
const CODE_FILE: &str = "code-hash.key";

impl Secrets {
    pub fn load(settings: &Settings) -> anyhow::Result<Self> {
        let session = resolve(
            settings,
            settings.session_secret.as_deref(),
            SESSION_FILE,
            "session_secret",
            64,
        )?;
        let code = resolve(
            settings,
            settings.code_hash_key.as_deref(),
            CODE_FILE,
            "code_hash_key",
            32,
        )?;
        let mut session_key = [0u8; 64];
        session_key.copy_from_slice(&session[..64]);
        Ok(Self {
            session_key,
            code_hash_key: code,
        })
    }
}

fn resolve(
    settings: &Settings,
    configured: Option<&str>,
    file: &str,
    name: &str,
    min_len: usize,
) -> anyhow::Result<Vec<u8>> {
    if let Some(value) = configured.filter(|v| !v.trim().is_empty()) {
        let bytes = decode(value.trim())
            .with_context(|| format!("SMART2FA_{} must be hex or base64", name.to_uppercase()))?;
        if bytes.len() < min_len {
            bail!(
                "SMART2FA_{} must hold at least {min_len} bytes, it holds {}",
                name.to_uppercase(),
                bytes.len()
            );
        }
        return Ok(bytes);
    }
    if settings.environment == Environment::Production {
        bail!(
            "SMART2FA_{} is required in production (generate one with `openssl rand -hex {min_len}`)",
            name.to_uppercase()
        );
    }
    load_or_generate(&settings.data_dir.join(file), min_len)
}

fn decode(value: &str) -> anyhow::Result<Vec<u8>> {
    if value.len() % 2 == 0 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(hex::decode(value)?);
    }
    Ok(base64::engine::general_purpose::STANDARD.decode(value)?)
}

fn load_or_generate(path: &Path, len: usize) -> anyhow::Result<Vec<u8>> {
    if path.exists() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let bytes =
            hex::decode(text.trim()).with_context(|| format!("{} is not hex", path.display()))?;
        if bytes.len() < len {
            bail!(
                "{} is too short; delete it to generate a new one",
                path.display()
            );
        }
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        return Ok(bytes);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // Written whole under a private name, then linked into place: the key file appears complete
    // or not at all, so another process starting at the same moment (instances sharing a data
    // directory) never reads it half-written, and both end up with the same key.
    let hex_key = super::crypto::random_hex(len);
    let tmp = path.with_extension(format!("tmp-{}", super::crypto::random_hex(6)));
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(hex_key.as_bytes())?;
        f.sync_all()
    })();
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(hex::decode(hex_key)?),
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_generate(path, len),
        Err(e) => Err(anyhow::anyhow!("creating {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Instances starting together on one data directory all get the same, whole keys (a
    /// second process used to read the file between its creation and its content).
    #[test]
    fn concurrent_first_starts_agree_on_whole_keys() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let settings = Settings {
                data_dir: dir.path().join("data"),
                ..Settings::default()
            };
            let barrier = std::sync::Barrier::new(8);
            let keys: Vec<(Vec<u8>, Vec<u8>)> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            let k = Secrets::load(&settings).expect("every start succeeds");
                            (k.session_key.to_vec(), k.code_hash_key.to_vec())
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert!(
                keys.windows(2).all(|w| w[0] == w[1]),
                "everyone uses the same keys"
            );
            let leftovers = std::fs::read_dir(&settings.data_dir).unwrap().count();
            assert_eq!(leftovers, 2, "only the two key files remain");
        }
    }

    #[test]
    fn generates_once_with_private_mode_and_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: dir.path().join("nested"),
            ..Settings::default()
        };
        let a = Secrets::load(&settings).unwrap();
        let b = Secrets::load(&settings).unwrap();
        assert_eq!(a.session_key, b.session_key);
        assert_eq!(a.code_hash_key, b.code_hash_key);
        let mode = std::fs::metadata(settings.data_dir.join(SESSION_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn production_requires_configured_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings {
            data_dir: dir.path().into(),
            environment: Environment::Production,
            ..Settings::default()
        };
        let err = Secrets::load(&settings).unwrap_err().to_string();
        assert!(err.contains("SMART2FA_SESSION_SECRET is required"), "{err}");
        settings.session_secret = Some("ab".repeat(64));
        settings.code_hash_key = Some("short".into());
        assert!(Secrets::load(&settings).is_err());
        settings.code_hash_key = Some("cd".repeat(32));
        let s = Secrets::load(&settings).unwrap();
        assert_eq!(s.code_hash_key, vec![0xcd; 32]);
        assert!(!settings.data_dir.join(SESSION_FILE).exists());
    }
}
