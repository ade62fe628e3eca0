//! The Content-Security-Policy. Scripts run only from Gatehouse's own files and, on a page,
//! inline where they carry that answer's nonce (Leptos writes a few into every page, and the
//! client's start script is one). Forms post only to Gatehouse, except that the provider
//! buttons' POST is answered with a redirect to the provider's authorization page, and
//! browsers apply `form-action` to that redirect too: so the providers' origins are listed.

use axum::http::HeaderValue;

/// The policy, made once; a page's nonce is put in for each answer.
pub struct ContentSecurityPolicy {
    /// For answers that are not pages: no inline script at all.
    plain: HeaderValue,
    /// A page's policy up to its nonce, and after it.
    page: (String, String),
}

impl ContentSecurityPolicy {
    /// `client`: the wasm client is served, so pages may compile WebAssembly.
    pub fn new(provider_origins: &[String], client: bool) -> Self {
        let mut form_action = vec!["'self'".to_string()];
        form_action.extend(provider_origins.iter().cloned());
        let rest = format!(
            "style-src 'self'; img-src 'self' https: http: data:; object-src 'none'; \
             base-uri 'none'; form-action {}; frame-ancestors 'none'",
            form_action.join(" ")
        );
        let plain = format!("default-src 'self'; script-src 'self'; {rest}");
        let wasm = if client { " 'wasm-unsafe-eval'" } else { "" };
        Self {
            plain: HeaderValue::from_str(&plain).expect("origins are ASCII"),
            page: (
                "default-src 'self'; script-src 'self' 'nonce-".to_string(),
                format!("'{wasm}; {rest}"),
            ),
        }
    }

    /// For an answer that is not a page.
    pub fn plain(&self) -> HeaderValue {
        self.plain.clone()
    }

    /// For a page whose inline scripts carry `nonce`.
    pub fn for_page(&self, nonce: &str) -> HeaderValue {
        let (before, after) = &self.page;
        let policy = [before.as_str(), nonce, after.as_str()].concat();
        // A nonce is base64 (leptos's, or one the page cache made the same way).
        HeaderValue::from_str(&policy).unwrap_or_else(|_| self.plain())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_may_run_its_own_nonce_and_wasm_only_when_there_is_a_client() {
        let policy = ContentSecurityPolicy::new(&["https://github.com".into()], false);
        let page = policy.for_page("abc123");
        let page = page.to_str().unwrap();
        assert!(
            page.contains("script-src 'self' 'nonce-abc123'; "),
            "{page}"
        );
        assert!(!page.contains("unsafe"));
        assert!(page.contains("form-action 'self' https://github.com;"));
        let plain = policy.plain();
        assert!(plain.to_str().unwrap().contains("script-src 'self'; "));
        let with_client = ContentSecurityPolicy::new(&[], true).for_page("n");
        let with_client = with_client.to_str().unwrap();
        assert!(with_client.contains("script-src 'self' 'nonce-n' 'wasm-unsafe-eval'; "));
        assert!(!with_client.contains("unsafe-inline"));
    }
}
