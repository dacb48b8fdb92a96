//! A real SMTP server for the email tests: `smtp_server.py` (aiosmtpd) on 127.0.0.1, one per
//! test in its own temporary directory (with its own self-signed certificate when it speaks
//! TLS), killed when dropped. What it received is read back from the files it writes there.
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/tests/smtp_server.py");

/// How long the server may take to start, and a message to arrive.
const WAIT: Duration = Duration::from_secs(15);

/// Whether python3 with aiosmtpd and openssl are here. In CI a missing one fails the test;
/// elsewhere the test is skipped with a message.
pub fn available() -> bool {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let runs = |program: &str, args: &[&str]| {
            std::process::Command::new(program)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !runs("python3", &["-c", "import aiosmtpd"]) {
            return Err("python3 with aiosmtpd is missing".into());
        }
        if !runs("openssl", &["version"]) {
            return Err("openssl (to make a test certificate) is missing".into());
        }
        Ok(())
    });
    match found {
        Ok(()) => true,
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{why}: the SMTP tests need it in CI (.ci/setup-tools.sh --test installs it)")
        }
        Err(why) => {
            eprintln!("skipping SMTP test: {why} (.ci/setup-tools.sh --test installs it)");
            false
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No TLS.
    Plain,
    /// STARTTLS offered, and required before a message.
    Starttls,
    /// TLS from the first byte.
    Tls,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Starttls => "starttls",
            Mode::Tls => "tls",
        }
    }
}

pub struct SmtpServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: tokio::process::Child,
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The session was encrypted.
    pub tls: bool,
    /// Who logged in (AUTH), if anyone.
    pub auth_login: Option<String>,
    /// Every header, in order, with encoded words decoded.
    pub headers: Vec<(String, String)>,
    /// The leaf MIME parts: (content type, content with its transfer encoding undone).
    pub parts: Vec<(String, String)>,
    /// The message exactly as it came (CRLF line ends).
    pub raw: String,
}

impl Received {
    /// Every value of a header (names compared without case).
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The one value of a header.
    pub fn header(&self, name: &str) -> &str {
        match self.headers_named(name).as_slice() {
            [one] => one,
            other => panic!("{name}: {other:?} in {:?}", self.headers),
        }
    }

    /// The content of the one part of this type.
    pub fn part(&self, content_type: &str) -> &str {
        let found: Vec<&str> = self
            .parts
            .iter()
            .filter(|(t, _)| t == content_type)
            .map(|(_, c)| c.as_str())
            .collect();
        match found.as_slice() {
            [one] => one,
            other => panic!("{content_type}: {other:?} in {:?}", self.parts),
        }
    }

    fn from_json(v: &Value) -> Received {
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let str_at = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let list = |k: &str| v[k].as_array().cloned().unwrap_or_default();
        Received {
            mail_from: text("mail_from"),
            rcpt_tos: list("rcpt_tos").iter().map(str_at).collect(),
            tls: v["tls"].as_bool().unwrap_or(false),
            auth_login: v["auth_login"].as_str().map(str::to_owned),
            headers: list("headers")
                .iter()
                .map(|h| (str_at(&h[0]), str_at(&h[1])))
                .collect(),
            parts: list("parts")
                .iter()
                .map(|p| (str_at(&p["type"]), str_at(&p["content"])))
                .collect(),
            raw: text("data"),
        }
    }
}

impl SmtpServer {
    /// A server without TLS or login.
    pub async fn plain() -> SmtpServer {
        Self::start(Mode::Plain, None).await
    }

    /// A server in `mode`; with a login it requires AUTH (after TLS, when it speaks TLS).
    pub async fn start(mode: Mode, login: Option<(&str, &str)>) -> SmtpServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = tokio::process::Command::new("python3");
        cmd.arg(SCRIPT)
            .arg("--dir")
            .arg(dir.path().join("received"))
            .args(["--port", "0", "--mode", mode.as_str()]);
        if mode != Mode::Plain {
            let (cert, key) = make_certificate(dir.path()).await;
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        if let Some((user, password)) = login {
            cmd.args(["--user", user, "--password", password]);
        }
        let stderr = std::fs::File::create(dir.path().join("stderr.txt")).expect("stderr file");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("start python3 smtp_server.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        let mut stdout = tokio::io::BufReader::new(stdout);
        let read = tokio::time::timeout(WAIT, stdout.read_line(&mut first)).await;
        let port = first
            .strip_prefix("LISTENING ")
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.start_kill();
            let said = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap_or_default();
            panic!("the SMTP server did not start ({read:?}, stdout {first:?}): {said}");
        };
        SmtpServer { port, dir, child }
    }

    /// The server's certificate (PEM): what the app must trust (`tls_extra_roots`).
    pub fn certificate(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The messages received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("received"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        files
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).expect("read a received message");
                Received::from_json(&serde_json::from_str(&text).expect("message JSON"))
            })
            .collect()
    }

    /// Waits (boundedly) until `n` messages have arrived; all of them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "{n} message(s) expected, {} arrived within {WAIT:?}: {got:?}\nserver log: {}",
                    got.len(),
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the server wrote on stderr (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.txt")).unwrap_or_default()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.try_wait();
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost in `dir` (EC P-256; CA:FALSE, which
/// rustls requires of a certificate it is given as a trusted end entity).
async fn make_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = tokio::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .output();
    let out = tokio::time::timeout(WAIT, out)
        .await
        .expect("openssl in time")
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

/// Runs a test body, failing it if it takes longer than `secs`.
pub async fn within(secs: u64, body: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(secs), body)
        .await
        .unwrap_or_else(|_| panic!("the test took longer than {secs} s"));
}
