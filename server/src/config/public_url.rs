//! The address people open, as Gatehouse checks it.

use std::str::FromStr;

use url::Url;

/// The address people open: an http or https URL with a host and nothing after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(pub(crate) Url);

impl PublicUrl {
    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }

    /// The origin browsers send in the Origin header, e.g. `https://gatehouse.example`.
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl FromStr for PublicUrl {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str =
            "expected an http:// or https:// address such as https://gatehouse.example";
        let url = Url::parse(value.trim()).map_err(|e| format!("{EXPECTED} ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(EXPECTED.to_string());
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "{EXPECTED}, with no path, query or fragment (Gatehouse is served from the root)"
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("{EXPECTED}, without a user name or password"));
        }
        Ok(Self(url))
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}
