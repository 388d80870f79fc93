//! Faults: the service killed mid-request and mid-send, and its PostgreSQL
//! restarted under it. Nothing acknowledged is lost, nothing is half
//! written, no email is lost or sent twice, and the service recovers by
//! itself.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::smtp::SmtpServer;
use crate::world::submission;

/// Signs in the admin and makes a practitioner; returns both tokens.
async fn admin_and_practitioner(server: &ServerProcess) -> (String, String) {
    let admin = server.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    server
        .call(
            Method::POST,
            "/api/v1/users",
            &admin,
            Some(
                json!({"email": "p@test.local", "display_name": "P", "role": "practitioner",
                        "password": PASSWORD, "organisation": "police", "region": "london"}),
            ),
        )
        .await
        .created();
    let practitioner = server.sign_in("p@test.local", PASSWORD).await;
    (admin, practitioner)
}

#[tokio::test]
async fn a_server_killed_mid_submission_keeps_every_acknowledged_request_and_no_half_written_one() {
    let (_db, url) = TestDb::create();
    let env = [("APP__LOG__LEVEL", "error"), ("APP__SERVER__WORKERS", "2")];
    let mut server = ServerProcess::start(&url, &env).await;
    let (admin, practitioner) = admin_and_practitioner(&server).await;

    // Submissions without pause from several callers; the process is
    // killed while some are in flight.
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (client, base, token) = (
            server.client.clone(),
            server.base.clone(),
            practitioner.clone(),
        );
        callers.spawn(async move {
            let mut acknowledged = Vec::new();
            loop {
                let sent = client
                    .post(format!("{base}/api/v1/requests"))
                    .bearer_auth(&token)
                    .json(&submission())
                    .send()
                    .await;
                let Ok(response) = sent else {
                    return (acknowledged, true);
                };
                let reply = read(response).await;
                if reply.status != StatusCode::CREATED {
                    return (acknowledged, true);
                }
                acknowledged.push(reply.id());
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill();
    let mut acknowledged = BTreeSet::new();
    let mut cut_off = 0;
    for (ids, interrupted) in callers.join_all().await {
        acknowledged.extend(ids);
        cut_off += usize::from(interrupted);
    }
    assert!(
        !acknowledged.is_empty(),
        "submissions went through before the kill"
    );
    assert_eq!(cut_off, 6, "every caller was cut off by the kill");

    let server = ServerProcess::start(&url, &env).await;
    let admin = {
        let _ = admin;
        server.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await
    };
    let practitioner = server.sign_in("p@test.local", PASSWORD).await;
    let stored = server.all("/api/v1/requests", &practitioner).await;
    let stored_ids: BTreeSet<String> = stored.iter().map(|r| r.id()).collect();
    assert!(
        stored_ids.is_superset(&acknowledged),
        "an acknowledged request was lost"
    );
    // Whatever was stored is whole: its final reference (gapless, so no
    // counter was taken by a request that was not stored), its audit row
    // and its confirmation email.
    let numbers: BTreeSet<usize> = stored
        .iter()
        .map(|r| {
            let reference = r["reference"].as_str().unwrap();
            assert!(reference.starts_with("NRU-"), "{reference}");
            reference.rsplit('-').next().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(numbers, (1..=stored.len()).collect());
    let mut created = BTreeMap::new();
    for entry in server
        .all("/api/v1/audit?action=request.created", &admin)
        .await
    {
        *created
            .entry(entry["request_id"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    let mut received = BTreeMap::new();
    for email in server.all("/api/v1/admin/outbox", &admin).await {
        if email["event"] == "request_received" {
            *received
                .entry(email["request_id"].as_str().unwrap().to_owned())
                .or_insert(0) += 1;
        }
    }
    for id in &stored_ids {
        assert_eq!(created.get(id), Some(&1), "{id} has its audit row");
        assert_eq!(received.get(id), Some(&1), "{id} has its email");
    }
    assert_eq!(
        created.len(),
        stored_ids.len(),
        "no trail without a request"
    );
    assert_eq!(
        received.len(),
        stored_ids.len(),
        "no email without a request"
    );
}

#[tokio::test]
async fn a_server_killed_mid_send_has_each_email_sent_once_after_restart() {
    let (_db, url) = TestDb::create();
    let smtp = SmtpServer::start_stalling();
    let port = smtp.port.to_string();
    let env = [
        ("APP__LOG__LEVEL", "error"),
        ("APP__EMAIL__TRANSPORT", "smtp"),
        ("APP__EMAIL__SMTP__HOST", "127.0.0.1"),
        ("APP__EMAIL__SMTP__PORT", port.as_str()),
        ("APP__EMAIL__SMTP__SECURITY", "none"),
        ("APP__EMAIL__WORKER_INTERVAL_SECONDS", "1"),
        ("APP__EMAIL__LEASE_SECONDS", "10"),
    ];
    let mut server = ServerProcess::start(&url, &env).await;
    let (_, practitioner) = admin_and_practitioner(&server).await;
    for _ in 0..3 {
        server
            .call(
                Method::POST,
                "/api/v1/requests",
                &practitioner,
                Some(submission()),
            )
            .await
            .created();
    }
    // The mailer has taken the emails and is in the middle of the SMTP
    // conversation when the process dies.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !smtp.has_held_a_sender() {
        assert!(
            Instant::now() < deadline,
            "the mailer never started sending"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill();
    smtp.release();

    let server = ServerProcess::start(&url, &env).await;
    let admin = server.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let outbox = loop {
        let outbox = server.all("/api/v1/admin/outbox", &admin).await;
        if outbox.iter().all(|e| e["status"] == "sent") {
            break outbox;
        }
        assert!(Instant::now() < deadline, "the outbox did not drain");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(outbox.len(), 3, "one confirmation per submission");
    let received: Vec<String> = smtp
        .received()
        .iter()
        .map(|m| m.header("Message-ID").unwrap_or_default())
        .collect();
    let expected: BTreeSet<String> = outbox
        .iter()
        .map(|e| format!("<{}@nru-helpdesk>", e["id"].as_str().unwrap()))
        .collect();
    assert_eq!(received.len(), 3, "each email once: {received:?}");
    assert_eq!(received.into_iter().collect::<BTreeSet<_>>(), expected);
}

/// A PostgreSQL server of the test's own, so stopping it disturbs nothing
/// else. As root, its commands run as the `postgres` user.
struct PrivatePostgres {
    _dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn start() -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries under /usr/lib/postgresql")
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("pg_ctl").exists())
            .max()
            .expect("pg_ctl");
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let server = PrivatePostgres {
            _dir: dir,
            data,
            bin,
            port,
        };
        if is_root() {
            run(Command::new("chmod")
                .arg("755")
                .arg(server.data.parent().unwrap()));
            run(Command::new("chown").arg("postgres:").arg(&server.data));
        }
        run(&mut server.as_owner(
            "initdb",
            &[
                "-D",
                path_str(&server.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        ));
        server.pg_ctl_start();
        server
    }

    fn as_owner(&self, program: &str, args: &[&str]) -> Command {
        let program = self.bin.join(program);
        if is_root() {
            let mut command = Command::new("runuser");
            command
                .args(["-u", "postgres", "--"])
                .arg(program)
                .args(args);
            command
        } else {
            let mut command = Command::new(program);
            command.args(args);
            command
        }
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            path_str(&self.data)
        );
        let log = self.data.join("server.log");
        run(&mut self.as_owner(
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data),
                "-o",
                &options,
                "-l",
                path_str(&log),
                "-w",
                "start",
            ],
        ));
    }

    fn pg_ctl_stop(&self) {
        run(&mut self.as_owner(
            "pg_ctl",
            &["-D", path_str(&self.data), "-m", "fast", "-w", "stop"],
        ));
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .as_owner(
                "pg_ctl",
                &["-D", path_str(&self.data), "-m", "immediate", "stop"],
            )
            .output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

fn run(command: &mut Command) {
    let out = command.output().expect("command runs");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn while_postgresql_restarts_calls_get_503_problems_and_then_the_service_recovers_by_itself()
{
    let postgres = PrivatePostgres::start();
    {
        use diesel::{Connection, PgConnection, RunQueryDsl};
        let mut admin = PgConnection::establish(&postgres.url("postgres")).expect("connects");
        diesel::sql_query("CREATE DATABASE nru")
            .execute(&mut admin)
            .expect("create database");
    }
    let url = postgres.url("nru");
    let env = [
        ("APP__LOG__LEVEL", "off"),
        ("APP__DATABASE__CONNECT_TIMEOUT_SECONDS", "1"),
    ];
    let server = ServerProcess::start(&url, &env).await;
    let (_, practitioner) = admin_and_practitioner(&server).await;
    let made = server
        .call(
            Method::POST,
            "/api/v1/requests",
            &practitioner,
            Some(submission()),
        )
        .await
        .created();
    let path = format!("/api/v1/requests/{}", made.id());

    postgres.pg_ctl_stop();
    server
        .call(Method::GET, &path, &practitioner, None)
        .await
        .problem(503);
    let refused = server
        .call(
            Method::POST,
            "/api/v1/requests",
            &practitioner,
            Some(submission()),
        )
        .await;
    refused.problem(503);
    let ready = call_at(
        &server.client,
        &server.base,
        Method::GET,
        "/readyz",
        None,
        None,
    )
    .await;
    ready.problem(503);

    postgres.pg_ctl_start();
    let deadline = Instant::now() + Duration::from_secs(30);
    let back = loop {
        let reply = server.call(Method::GET, &path, &practitioner, None).await;
        if reply.status == StatusCode::OK {
            break reply;
        }
        reply.problem(503);
        assert!(Instant::now() < deadline, "the service did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(back.body["reference"], made.body["reference"]);
    let list = server.all("/api/v1/requests", &practitioner).await;
    assert_eq!(
        list.len(),
        1,
        "the submission refused while down was not stored"
    );
    server
        .call(
            Method::POST,
            "/api/v1/requests",
            &practitioner,
            Some(submission()),
        )
        .await
        .created();
}
