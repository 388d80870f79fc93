//! A real HTTP receiver on loopback for the webhook tests, playing another
//! agency's endpoint: it records every request (headers and body) and
//! answers with a status the test chooses. It can be stopped and started
//! again on the same port.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map_or("", String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

pub struct Receiver {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    /// Sent as `Location` with a 3xx answer.
    location: Arc<Mutex<Option<String>>>,
    task: Option<JoinHandle<()>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::start_on(0).await
    }

    pub async fn start_on(port: u16) -> Receiver {
        let mut receiver = Receiver {
            port,
            received: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            location: Arc::default(),
            task: None,
        };
        receiver.listen().await;
        receiver
    }

    async fn listen(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("receiver port");
        self.port = listener.local_addr().expect("bound").port();
        let (received, status, location) = (
            self.received.clone(),
            self.status.clone(),
            self.location.clone(),
        );
        self.task = Some(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (received, status, location) =
                    (received.clone(), status.clone(), location.clone());
                tokio::spawn(async move {
                    if let Some(request) = read_request(stream, &status, &location).await {
                        received.lock().unwrap().push(request);
                    }
                });
            }
        }));
    }

    /// Stops listening: connections are refused until [`Receiver::resume`].
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    pub async fn resume(&mut self) {
        self.stop();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        self.listen().await;
    }

    pub fn answer_with(&self, status: u16, location: Option<&str>) {
        self.status.store(status, Ordering::SeqCst);
        *self.location.lock().unwrap() = location.map(str::to_owned);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn read_request(
    mut stream: TcpStream,
    status: &AtomicU16,
    location: &Mutex<Option<String>>,
) -> Option<Received> {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&chunk[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&chunk[..n]);
    }
    let code = status.load(Ordering::SeqCst);
    let location = location
        .lock()
        .unwrap()
        .as_ref()
        .map(|l| format!("Location: {l}\r\n"))
        .unwrap_or_default();
    let answer =
        format!("HTTP/1.1 {code} Test\r\n{location}Content-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(answer.as_bytes()).await.ok()?;
    let _ = stream.shutdown().await;
    Some(Received {
        path,
        headers,
        body: data[head_end..].to_vec(),
    })
}
