//! A real SMTP server on loopback for the email tests: aiosmtpd (from PyPI)
//! in its own process, writing what it receives to a maildir. It can be
//! stopped and started again on the same port. If Python lacks aiosmtpd it
//! is installed once into the test build's own folder.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static INSTALL: Mutex<Option<PathBuf>> = Mutex::new(None);

/// A folder to put on PYTHONPATH so `import aiosmtpd` works.
fn python_path() -> PathBuf {
    let mut installed = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(path) = installed.as_ref() {
        return path.clone();
    }
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-aiosmtpd");
    let importable = |path: &Path| {
        Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .env("PYTHONPATH", path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !importable(&target) {
        let status = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
            ])
            .arg(&target)
            .arg("aiosmtpd>=1.4,<2")
            .status()
            .expect("python3 runs");
        assert!(
            status.success(),
            "installing aiosmtpd for the email tests failed"
        );
    }
    *installed = Some(target.clone());
    target
}

pub struct SmtpServer {
    pub port: u16,
    maildir: tempfile::TempDir,
    child: Option<Child>,
    /// While this file exists a stalling server holds every MAIL FROM.
    stall_flag: Option<PathBuf>,
}

/// One email as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub raw: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.raw
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }

    pub fn to(&self) -> String {
        self.header("To").unwrap_or_default()
    }

    pub fn event(&self) -> String {
        self.header("X-NRU-Event").unwrap_or_default()
    }

    /// The message with quoted-printable soft line breaks joined, for searching.
    pub fn text(&self) -> String {
        self.raw.replace("=\r\n", "").replace("=\n", "")
    }
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        SmtpServer::start_with(false)
    }

    /// A server that holds each sender at MAIL FROM until
    /// [`SmtpServer::release`] (tests/fixtures/stalling_mailbox.py).
    pub fn start_stalling() -> SmtpServer {
        SmtpServer::start_with(true)
    }

    fn start_with(stalling: bool) -> SmtpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let maildir = tempfile::tempdir().expect("maildir");
        let stall_flag = stalling.then(|| {
            let flag = maildir.path().join("stall");
            std::fs::write(&flag, "").expect("stall flag");
            flag
        });
        let mut server = SmtpServer {
            port,
            maildir,
            child: None,
            stall_flag,
        };
        server.resume();
        server
    }

    /// Whether a sender is being held at MAIL FROM now or was before.
    pub fn has_held_a_sender(&self) -> bool {
        self.stall_flag
            .as_ref()
            .is_some_and(|flag| flag.with_extension("held").exists())
    }

    /// Lets held and later senders through.
    pub fn release(&self) {
        if let Some(flag) = &self.stall_flag {
            let _ = std::fs::remove_file(flag);
        }
    }

    /// The maildir itself: a folder the server creates, with its tmp, new and cur.
    fn mail_path(&self) -> PathBuf {
        self.maildir.path().join("mail")
    }

    /// Starts the server (again) on its port.
    pub fn resume(&mut self) {
        let mut command = Command::new("python3");
        command
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port));
        let mut path = python_path().into_os_string();
        match &self.stall_flag {
            Some(flag) => {
                path.push(":");
                path.push(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"));
                command
                    .args(["-c", "stalling_mailbox.StallingMailbox"])
                    .arg(self.mail_path())
                    .arg(flag);
            }
            None => {
                command
                    .args(["-c", "aiosmtpd.handlers.Mailbox"])
                    .arg(self.mail_path());
            }
        }
        let child = command
            .env("PYTHONPATH", path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        self.child = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server; connections are refused until [`SmtpServer::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn received(&self) -> Vec<Received> {
        let mut found = Vec::new();
        for folder in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.mail_path().join(folder)) else {
                continue;
            };
            for entry in entries.flatten() {
                if let Ok(raw) = std::fs::read_to_string(entry.path()) {
                    found.push(Received { raw });
                }
            }
        }
        found
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
