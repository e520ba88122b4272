//! Feature `tls`: HTTPS with certificate and key files from config, checked
//! with a real rustls client that trusts only that certificate.
#![cfg(feature = "tls")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use robustmq_log_metrics::{Error, LogMetrics, LogMetricsConfig};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

#[test]
fn serves_https_from_config_files_and_rejects_bad_files() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("metrics.crt");
    let key_path = dir.path().join("metrics.key");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();

    let cfg = LogMetricsConfig::from_toml(&format!(
        "[log_metrics]\nlisten = \"127.0.0.1:0\"\n[log_metrics.tls]\ncert_path = {:?}\nkey_path = {:?}\n",
        cert_path.display().to_string(),
        key_path.display().to_string()
    ))
    .unwrap();
    let (_layer, handle) = LogMetrics::from_config(&cfg).unwrap().build().unwrap();
    let server = handle
        .spawn_server_with(cfg.server_options().unwrap())
        .unwrap();

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert.cert.der().to_vec()))
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let sock = TcpStream::connect(server.local_addr()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains("# TYPE robustmq_log_events_total counter"),
        "{text}"
    );

    // Plain HTTP to the TLS port gets no HTTP answer, and is closed at once.
    let mut plain = TcpStream::connect(server.local_addr()).unwrap();
    plain
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    plain
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    match plain.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    assert!(
        !String::from_utf8_lossy(&answer).contains("HTTP/"),
        "{answer:?}"
    );
    server.shutdown().unwrap();

    // A missing or bad file is a TLS error naming the file, before serving.
    let mut bad = cfg.server_options().unwrap();
    bad.tls = Some(robustmq_log_metrics::TlsFiles {
        cert_path: dir.path().join("missing.crt"),
        key_path,
    });
    let e = handle.spawn_server_with(bad).unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e:?}");
    assert!(e.to_string().contains("missing.crt"), "{e}");
}
