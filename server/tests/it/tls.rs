//! TLS to PostgreSQL as libpq's sslmode has it, against a PostgreSQL that takes TLS
//! connections only (hostssl), with a CA this test makes: verify-full works with that CA,
//! another CA is refused with a message that says what to set, require works without one,
//! and a plain connection is refused.

use std::path::Path;
use std::process::Command;

use gatehouse::local_postgres::{Durability, Installation, LocalPostgres};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use crate::local_postgres::passable_tempdir;

/// A CA: its certificate (PEM) and what signs with it.
fn authority(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(params, key))
}

/// Writes `text` to `path`, readable only by the user PostgreSQL runs as.
fn private_file(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    if nix::unistd::Uid::effective().is_root() {
        let postgres = nix::unistd::User::from_name("postgres").unwrap().unwrap();
        std::os::unix::fs::chown(
            path,
            Some(postgres.uid.as_raw()),
            Some(postgres.gid.as_raw()),
        )
        .unwrap();
    }
}

fn gatehouse_migrate(cwd: &Path, database_url: &str) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("DB_MAX_RETRIES", "0")
        .arg("migrate")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    (output.status.success(), said)
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_to_postgresql_follows_sslmode_and_sslrootcert() {
    let dir = passable_tempdir();
    let (ca, issuer) = authority("Gatehouse test CA");
    let (other_ca, _) = authority("Someone else's CA");
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let tls = dir.path().join("tls");
    std::fs::create_dir(&tls).unwrap();
    private_file(&tls.join("server.crt"), &server.pem());
    private_file(&tls.join("server.key"), &server_key.serialize_pem());
    private_file(
        &tls.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
    );
    std::fs::write(tls.join("ca.pem"), &ca).unwrap();
    std::fs::write(tls.join("other-ca.pem"), &other_ca).unwrap();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let setting = |name: &str, value: &Path| format!("{name}={}", value.display());
    let postgres = LocalPostgres::start_with(
        &Installation::find().unwrap(),
        &dir.path().join("data"),
        Durability::Throwaway,
        &[
            "listen_addresses=127.0.0.1".to_string(),
            format!("port={port}"),
            "ssl=on".to_string(),
            setting("ssl_cert_file", &tls.join("server.crt")),
            setting("ssl_key_file", &tls.join("server.key")),
            setting("hba_file", &tls.join("pg_hba.conf")),
        ],
    )
    .await
    .unwrap_or_else(|e| panic!("PostgreSQL with TLS starts: {e}"));

    let url = |query: &str| format!("postgresql://gatehouse@localhost:{port}/gatehouse?{query}");
    let ca_path = tls.join("ca.pem");
    let other_path = tls.join("other-ca.pem");

    let (ok, said) = gatehouse_migrate(
        dir.path(),
        &url(&format!(
            "sslmode=verify-full&sslrootcert={}",
            ca_path.display()
        )),
    );
    assert!(ok, "verify-full with the CA that signed it: {said}");

    let (ok, said) = gatehouse_migrate(
        dir.path(),
        &url(&format!(
            "sslmode=verify-full&sslrootcert={}",
            other_path.display()
        )),
    );
    assert!(!ok, "another CA is refused");
    assert!(
        said.contains("TLS") && said.contains("sslrootcert"),
        "{said}"
    );

    // The certificate names localhost: by address, verify-ca holds, verify-full does not.
    let by_address = |mode: &str| {
        format!(
            "postgresql://gatehouse@127.0.0.1:{port}/gatehouse?sslmode={mode}&sslrootcert={}",
            ca_path.display()
        )
    };
    let (ok, said) = gatehouse_migrate(dir.path(), &by_address("verify-ca"));
    assert!(ok, "verify-ca checks the chain, not the name: {said}");
    let (ok, said) = gatehouse_migrate(dir.path(), &by_address("verify-full"));
    assert!(!ok, "verify-full checks the name");
    assert!(said.contains("TLS"), "{said}");

    let (ok, said) = gatehouse_migrate(dir.path(), &url("sslmode=require"));
    assert!(ok, "require encrypts without a root: {said}");

    let (ok, said) = gatehouse_migrate(dir.path(), &url("sslmode=disable"));
    assert!(!ok, "hostssl only: a plain connection is refused");
    assert!(
        said.contains("no encryption") || said.contains("pg_hba"),
        "{said}"
    );

    let (ok, said) = gatehouse_migrate(dir.path(), &url("sslmode=sometimes"));
    assert!(!ok);
    assert!(said.contains("sslmode: expected disable, prefer"), "{said}");
    let (ok, said) = gatehouse_migrate(
        dir.path(),
        &url("sslmode=verify-ca&sslrootcert=/no/such/ca.pem"),
    );
    assert!(!ok);
    assert!(
        said.contains("sslrootcert: cannot read /no/such/ca.pem"),
        "{said}"
    );
    postgres.stop();
}
