//! The wasm client, as `.ci/client` built it: read once at start and served from memory
//! under content-hashed names, so browsers keep each file for good and a new build is new
//! names. Each file comes precompressed (brotli, gzip); the best the browser accepts is sent.

use std::collections::HashMap;
use std::path::Path;

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_app::ClientScripts;
use serde::Deserialize;

use crate::state::AppState;

/// Where the client's files are served.
pub const PKG: &str = "/pkg";

/// The files of one build, and the page scripts that start it.
pub struct ClientBuild {
    pub scripts: ClientScripts,
    files: HashMap<String, ClientFile>,
}

struct ClientFile {
    content_type: &'static str,
    /// The file as it is, brotli and gzip.
    plain: Bytes,
    brotli: Option<Bytes>,
    gzip: Option<Bytes>,
}

/// `client.json`, the build's manifest: the file names of its module and its wasm.
#[derive(Deserialize)]
struct Manifest {
    js: String,
    wasm: String,
}

impl ClientBuild {
    /// The build in `dir`; an error says what is missing, for the log.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let manifest = dir.join("client.json");
        let text = std::fs::read_to_string(&manifest)
            .map_err(|e| format!("{}: {e}", manifest.display()))?;
        let Manifest { js, wasm } =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest.display()))?;
        let mut files = HashMap::new();
        for (name, content_type) in [(&js, "text/javascript"), (&wasm, "application/wasm")] {
            let read = |suffix: &str| std::fs::read(dir.join(format!("{name}{suffix}")));
            let plain = read("").map_err(|e| format!("{}: {e}", dir.join(name).display()))?;
            let file = ClientFile {
                content_type,
                plain: plain.into(),
                brotli: read(".br").ok().map(Bytes::from),
                gzip: read(".gz").ok().map(Bytes::from),
            };
            files.insert(name.clone(), file);
        }
        Ok(Self {
            scripts: ClientScripts::new(&format!("{PKG}/{js}"), &format!("{PKG}/{wasm}")),
            files,
        })
    }

    /// The wasm module's size as sent to a browser that takes brotli (or gzip).
    pub fn wasm_on_the_wire(&self) -> usize {
        self.files
            .values()
            .filter(|f| f.content_type == "application/wasm")
            .map(|f| {
                f.brotli
                    .as_ref()
                    .or(f.gzip.as_ref())
                    .unwrap_or(&f.plain)
                    .len()
            })
            .sum()
    }
}

/// `/pkg/{file}`.
pub async fn file(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    request_headers: HeaderMap,
) -> Response {
    let Some(file) = state.client.as_ref().and_then(|c| c.files.get(&name)) else {
        return (StatusCode::NOT_FOUND, "No such file.").into_response();
    };
    let accepts = |coding: &str| {
        request_headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|c| c.split(';').next().map(str::trim) == Some(coding))
    };
    let (body, coding) = match (&file.brotli, &file.gzip) {
        (Some(brotli), _) if accepts("br") => (brotli.clone(), Some("br")),
        (_, Some(gzip)) if accepts("gzip") => (gzip.clone(), Some("gzip")),
        _ => (file.plain.clone(), None),
    };
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    if let Some(coding) = coding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    // The name is the content's hash: it never changes under this name.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
