//! The stylesheet and the files in `public/`, embedded in the binary.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../public/"]
pub struct PublicFiles;

#[derive(Embed)]
#[folder = "../style/"]
struct StyleFiles;

/// `/style/{file}`.
pub async fn style(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve::<StyleFiles>(&file, &headers).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

/// A file from `public/` at `path` (with its leading slash), if there is one.
pub fn public_file(path: &str, headers: &HeaderMap) -> Option<Response> {
    serve::<PublicFiles>(path.trim_start_matches('/'), headers)
}

fn serve<Files: Embed>(path: &str, request_headers: &HeaderMap) -> Option<Response> {
    let file = Files::get(path)?;
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let fresh = request_headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tag| tag.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(file.data.into_owned()))
    };
    let headers = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(file.metadata.mimetype()) {
        headers.insert(header::CONTENT_TYPE, mime);
    }
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    // Names carry no hash, so browsers revalidate after an hour (cheap, thanks to the ETag).
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Some(response)
}
