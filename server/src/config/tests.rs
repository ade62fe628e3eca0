//! The configuration's rules, without the environment: flags stand in for variables.

use std::time::Duration;

use clap::Parser;

use super::*;
use crate::cli::Cli;

fn settings(args: &[&str]) -> Result<Settings, clap::Error> {
    let mut argv = vec!["gatehouse"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv).map(|cli| cli.settings)
}

/// The configuration these settings make, with no provider variables.
fn config(settings: Settings) -> Result<Config, ConfigError> {
    settings.parse_with(|_| None)
}

/// Why these settings make no configuration.
fn refusal(settings: Settings) -> ConfigError {
    config(settings).err().expect("the settings are refused")
}

#[test]
fn defaults_follow_the_design() {
    // Flags stand in for the environment here: tests share one process environment.
    let s = settings(&["--database-url", "postgresql://x@localhost/y"]).unwrap();
    let c = config(s).unwrap();
    assert_eq!(c.bind.to_string(), "127.0.0.1:3000");
    assert_eq!((c.database.pool.min, c.database.pool.max), (2, 10));
    assert_eq!(
        c.database.pool.connection_timeout,
        Duration::from_millis(5000)
    );
    assert_eq!(
        c.database.retry_delays,
        [1, 2, 4].map(Duration::from_secs).to_vec(),
        "three retries, doubling from one second"
    );
    assert_eq!(c.public_url.as_str(), "http://127.0.0.1:3000/");
    assert!(!c.public_url.is_https());
}

#[test]
fn a_bad_number_names_the_variable() {
    let error = settings(&["--db-pool-max", "ten"]).unwrap_err().to_string();
    assert!(error.contains("DB_POOL_MAX"), "{error}");
    let error = settings(&["--db-connection-timeout-ms=-5"])
        .unwrap_err()
        .to_string();
    assert!(error.contains("DB_CONNECTION_TIMEOUT_MS"), "{error}");
}

#[test]
fn related_values_are_checked_together() {
    let s = settings(&["--db-pool-min", "11"]).unwrap();
    assert_eq!(
        refusal(s),
        ConfigError::new("DB_POOL_MIN", "expected at most DB_POOL_MAX (10), got 11")
    );
    let s = settings(&["--db-pool-max", "0", "--db-pool-min", "0"]).unwrap();
    assert_eq!(refusal(s).variable, "DB_POOL_MAX");
    let s = settings(&["--db-connection-timeout-ms", "0"]).unwrap();
    assert_eq!(refusal(s).variable, "DB_CONNECTION_TIMEOUT_MS");
}

#[test]
fn an_https_deployment_mails_and_talks_to_github_over_https() {
    let s = settings(&["--public-url", "https://gatehouse.example"]).unwrap();
    let error = refusal(s);
    assert_eq!(error.variable, "SMTP_URL", "{error:?}");
    let s = settings(&[
        "--public-url",
        "https://gatehouse.example",
        "--smtp-url",
        "smtp://mail.example:25",
    ])
    .unwrap();
    config(s).unwrap();

    let github = [
        "--github-client-id",
        "id",
        "--github-client-secret",
        "secret",
    ];
    for (flag, variable) in [
        ("--github-authorize-url", "GITHUB_AUTHORIZE_URL"),
        ("--github-token-url", "GITHUB_TOKEN_URL"),
        ("--github-api-url", "GITHUB_API_URL"),
    ] {
        let mut args = github.to_vec();
        args.extend([flag, "http://github.example/x"]);
        let error = settings(&args).unwrap().parse_with(|_| None).err().unwrap();
        assert_eq!(error.variable, variable);
        let mut args = github.to_vec();
        args.extend([flag, "http://localhost:9000/x"]);
        assert!(
            settings(&args).unwrap().parse_with(|_| None).is_ok(),
            "{flag}"
        );
    }
}

#[test]
fn public_url_must_be_an_http_origin() {
    for good in [
        "https://gatehouse.example",
        "http://localhost:3000/",
        "https://[::1]:8443",
    ] {
        assert!(good.parse::<PublicUrl>().is_ok(), "{good}");
    }
    for bad in [
        "gatehouse.example",
        "ftp://gatehouse.example",
        "https://gatehouse.example/portal",
        "https://gatehouse.example/?x=1",
        "https://user:pw@gatehouse.example",
    ] {
        let error = bad.parse::<PublicUrl>().unwrap_err();
        assert!(
            error.starts_with("expected an http:// or https:// address"),
            "{bad}: {error}"
        );
    }
    let url: PublicUrl = "https://Gatehouse.Example:443/".parse().unwrap();
    assert_eq!(url.origin(), "https://gatehouse.example");
    assert!(url.is_https());
}

#[test]
fn providers_come_from_their_variables_and_gaps_are_named() {
    let vars: std::collections::HashMap<&str, &str> = [
        ("OIDC_ACME_ID_ISSUER", "https://id.acme.example"),
        ("OIDC_ACME_ID_CLIENT_ID", "gatehouse"),
        ("OIDC_ACME_ID_CLIENT_SECRET", "s3cret"),
        ("OIDC_ACME_ID_NAME", "Acme"),
        ("OIDC_OKTA_ISSUER", "https://okta.example"),
        ("OIDC_PLAIN_ISSUER", "http://id.example"),
        ("OIDC_PLAIN_CLIENT_ID", "id"),
        ("OIDC_PLAIN_CLIENT_SECRET", "secret"),
        ("OIDC_OKTA_CLIENT_ID", "id"),
    ]
    .into();
    let var = |name: &str| vars.get(name).map(|v| v.to_string());
    let s = settings(&["--github-client-id", "abc", "--github-client-secret", "xyz"]).unwrap();
    let providers = s.parse_with(var).map(|c| c.providers).unwrap();
    let names: Vec<_> = providers
        .all()
        .iter()
        .map(|p| (p.id().to_string(), p.name().to_string()))
        .collect();
    assert_eq!(names, [("github".to_string(), "GitHub".to_string())]);

    let s = settings(&["--oidc-providers", "Acme-ID"]).unwrap();
    let providers = s.parse_with(var).map(|c| c.providers).unwrap();
    assert_eq!(providers.find("acme-id").unwrap().name(), "Acme");
    assert!(
        providers.find("github").is_none(),
        "no GitHub without a client id"
    );

    let missing = settings(&["--oidc-providers", "acme-id,okta"]).unwrap();
    let error = missing.parse_with(var).err().unwrap();
    assert_eq!(error.variable, "OIDC_OKTA_CLIENT_SECRET");
    for bad in ["github", "credential", "no_underscores", "acme-id,acme-id"] {
        let s = settings(&["--oidc-providers", bad]).unwrap();
        assert_eq!(
            s.parse_with(var).err().unwrap().variable,
            "OIDC_PROVIDERS",
            "{bad}"
        );
    }
    let plain = settings(&["--oidc-providers", "plain"]).unwrap();
    let error = plain.parse_with(var).err().unwrap();
    assert_eq!(
        error.variable, "OIDC_PLAIN_ISSUER",
        "http off this machine is refused"
    );
    let half = settings(&["--github-client-id", "abc"]).unwrap();
    assert_eq!(refusal(half).variable, "GITHUB_CLIENT_SECRET");
    assert!(settings(&["--github-authorize-url", "not a url"]).is_err());
}

#[test]
fn webhooks_need_http_addresses_and_a_standard_secret() {
    let secret = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let none = config(settings(&[]).unwrap()).unwrap();
    assert!(none.webhooks.is_none(), "off unless WEBHOOK_URLS is set");

    let s = settings(&[
        "--webhook-urls",
        "https://backend.example/hooks, http://10.0.0.5:8080/gatehouse",
        "--webhook-secret",
        secret,
    ])
    .unwrap();
    let hooks = config(s).unwrap().webhooks.unwrap();
    assert_eq!(hooks.endpoints.len(), 2);
    assert_eq!(
        hooks.endpoints[1].as_str(),
        "http://10.0.0.5:8080/gatehouse"
    );

    for (urls, named) in [
        (
            "ftp://backend.example/hooks",
            "not an http:// or https:// address",
        ),
        (
            "https://backend.example/a, backend.example/b",
            "is not an address",
        ),
        ("https://user:pw@backend.example/", "user name or password"),
    ] {
        let s = settings(&["--webhook-urls", urls, "--webhook-secret", secret]).unwrap();
        let error = refusal(s);
        assert_eq!(error.variable, "WEBHOOK_URLS", "{urls}");
        assert!(error.problem.contains(named), "{urls}: {error}");
        assert!(!error.problem.contains("pw@"), "{error}");
    }
    for bad in [
        "0123456789abcdef0123456789abcdef",
        "whsec_tooshort",
        "whsec_not base64 at all!",
    ] {
        let s = settings(&[
            "--webhook-urls",
            "https://backend.example/hooks",
            "--webhook-secret",
            bad,
        ])
        .unwrap();
        let error = refusal(s);
        assert_eq!(error.variable, "WEBHOOK_SECRET", "{bad}");
        assert!(error.problem.starts_with("expected `whsec_`"), "{error}");
        assert!(
            !error.to_string().contains(bad),
            "the secret is not repeated"
        );
    }
    let s = settings(&["--webhook-urls", "https://backend.example/hooks"]).unwrap();
    assert_eq!(
        refusal(s),
        ConfigError::new(
            "WEBHOOK_SECRET",
            "required with WEBHOOK_URLS: events are always signed"
        )
    );
}
