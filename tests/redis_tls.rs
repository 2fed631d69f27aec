//! TLS to Redis against a real redis-server started with `--tls-port` and certificates
//! made here with openssl: `rediss://` with BACKEND_TLS_CA, BACKEND_TLS=true for a bare
//! host, BACKEND_PASS/BACKEND_USER applied to full URLs, and an untrusted certificate as
//! exit 6 with a message that says what to do.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct TlsRedis {
    port: u16,
    ca: PathBuf,
    other_ca: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate it signs for 127.0.0.1/localhost, and an unrelated CA.
fn certificates(dir: &Path) {
    for ca in ["ca", "other-ca"] {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.pem"),
                "-subj",
                &format!("/CN=aws-jit test {ca}"),
            ],
        );
    }
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
}

impl TlsRedis {
    /// `extra`: more redis-server arguments (a password, ACL users).
    fn start(extra: &[&str]) -> TlsRedis {
        let dir = tempfile::tempdir().expect("dir");
        certificates(dir.path());
        let port = closed_port();
        let d = |f: &str| dir.path().join(f).display().to_string();
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--tls-cert-file",
                &d("server.pem"),
                "--tls-key-file",
                &d("server.key"),
                "--tls-ca-cert-file",
                &d("ca.pem"),
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                &d(""),
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (make test installs it)");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "TLS redis did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        TlsRedis {
            port,
            ca: dir.path().join("ca.pem"),
            other_ca: dir.path().join("other-ca.pem"),
            child,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}/0", self.port)
    }
}

fn jit_on(server: &TlsRedis) -> Jit {
    let mut jit = Jit::new(Backend::Redis);
    jit.set("BACKEND_URL", &server.url())
        .set("BACKEND_TLS_CA", &server.ca.display().to_string());
    jit
}

/// A request, its approval and the listing work over TLS.
fn round_trip(jit: &Jit) {
    let id = jit.request_user("alice", &[]);
    jit.run(&["approve", &id, "--approver", APPROVER]).ok();
    assert_eq!(jit.state(&id), "approved");
}

#[test]
fn rediss_with_a_ca_file_works_and_the_password_applies_to_full_urls() {
    let server = TlsRedis::start(&["--requirepass", "s3cret-pass"]);
    let mut jit = jit_on(&server);
    // No password anywhere: refused by the server.
    let r = jit.run(&["status"]).code(6);
    assert!(r.stderr.contains("cannot reach Redis"), "{}", r.stderr);
    // BACKEND_PASS applies although BACKEND_URL is a full URL.
    jit.set("BACKEND_PASS", "s3cret-pass");
    round_trip(&jit);
    // And it is never printed.
    jit.set("BACKEND_PASS", "wrong-pass");
    let r = jit.run(&["status"]).code(6);
    assert!(!r.stderr.contains("wrong-pass"), "{}", r.stderr);
}

#[test]
fn backend_tls_turns_a_bare_host_into_tls() {
    let server = TlsRedis::start(&[]);
    let mut jit = jit_on(&server);
    jit.set("BACKEND_URL", "127.0.0.1")
        .set("BACKEND_PORT", &server.port.to_string())
        .set("BACKEND_TLS", "true");
    round_trip(&jit);
    // Without it, a plain connection to the TLS port is not Redis.
    jit.set("BACKEND_TLS", "false").unset("BACKEND_TLS_CA");
    jit.run(&["status"]).code(6);
    // Contradictions are usage errors.
    jit.set(
        "BACKEND_URL",
        &format!("redis://127.0.0.1:{}/0", server.port),
    )
    .set("BACKEND_TLS", "true");
    jit.run(&["status"]).code(2);
    jit.set("BACKEND_TLS", "false")
        .set("BACKEND_TLS_CA", &server.ca.display().to_string());
    let r = jit.run(&["status"]).code(2);
    assert!(r.stderr.contains("BACKEND_TLS_CA"), "{}", r.stderr);
}

#[test]
fn an_untrusted_certificate_is_exit_6_with_what_to_do() {
    let server = TlsRedis::start(&[]);
    let mut jit = jit_on(&server);
    // The system roots do not know the test CA.
    jit.unset("BACKEND_TLS_CA");
    let r = jit.run(&["status"]).code(6);
    assert!(
        r.stderr.contains("certificate") && r.stderr.contains("BACKEND_TLS_CA"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    // A CA that did not sign the server's certificate.
    jit.set("BACKEND_TLS_CA", &server.other_ca.display().to_string());
    let r = jit.run(&["status"]).code(6);
    assert!(r.stderr.contains("certificate"), "{}", r.stderr);
    // A CA file that is not there.
    jit.set("BACKEND_TLS_CA", "/nonexistent/ca.pem");
    let r = jit.run(&["status"]).code(2);
    assert!(r.stderr.contains("BACKEND_TLS_CA"), "{}", r.stderr);
}

#[test]
fn backend_user_selects_an_acl_user() {
    let server = TlsRedis::start(&[
        "--user",
        "default",
        "off",
        "--user",
        "jit",
        "on",
        ">jit-pass",
        "~*",
        "&*",
        "+@all",
    ]);
    let mut jit = jit_on(&server);
    jit.set("BACKEND_PASS", "jit-pass");
    // The default user is off: the password alone does not get in.
    jit.run(&["status"]).code(6);
    jit.set("BACKEND_USER", "jit");
    round_trip(&jit);
}
