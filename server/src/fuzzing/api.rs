//! API request bodies, cursors and idempotency keys.

use super::*;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
    })
}

/// Reads a JSON body as the API's `ApiJson` extractor does; a refusal must render as a
/// problem-details response with a 4xx status.
fn body<T: serde::de::DeserializeOwned>(data: &[u8]) -> Option<T> {
    let req = axum::http::Request::builder()
        .method("POST")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(data.to_vec()))
        .expect("a request");
    match runtime().block_on(ApiJson::<T>::from_request(req, &())) {
        Ok(ApiJson(v)) => Some(v),
        Err(e) => {
            problem(e);
            None
        }
    }
}

fn problem(e: crate::api::problem::ApiError) {
    let response = e.into_response();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(
        response.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/problem+json"[..])
    );
}

/// A text the API accepted: trimmed, no control characters but line feeds and tabs.
fn plain(t: &str, max: usize) {
    assert!(t.chars().count() <= max, "{} characters", t.chars().count());
    assert_eq!(t.trim(), t);
    assert!(
        !t.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{t:?}"
    );
}

/// API request bodies (`/api/v1`), cursors and idempotency keys: the first byte picks which;
/// the rest is the body. A body is either refused as problem details or deserialised, and
/// then either refused by validation as problem details or accepted within every limit.
pub fn api_body(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    match pick % 7 {
        0 => {
            if let Some(req) = body::<actions::AckRequest>(rest) {
                match actions::ack_reason(&req) {
                    Ok(Some(r)) => plain(&r, 10_000),
                    Ok(None) => assert!(req.reason.as_deref().unwrap_or("").is_empty()),
                    Err(p) => problem(crate::api::problem::ApiError::invalid(vec![p])),
                }
            }
        }
        1 => {
            if let Some(req) = body::<actions::MessageRequest>(rest) {
                match actions::check_message(&req) {
                    Ok((text, what, files)) => {
                        assert!(!text.is_empty());
                        plain(&text, 10_000);
                        assert!(files.len() <= 5);
                        if let Outgoing::Request { deadline } = what {
                            assert!(deadline > crate::time::now_ms());
                        }
                        for (_, bytes) in &files {
                            let mut check =
                                UploadCheck::new(&["pdf", "jpeg", "png"], 1 << 20, 0, i64::MAX);
                            if check.feed(bytes).is_ok() {
                                let _ = check.finish();
                            }
                        }
                    }
                    Err(problems) => {
                        assert!(!problems.is_empty());
                        problem(crate::api::problem::ApiError::invalid(problems));
                    }
                }
            }
        }
        2 => {
            let _ = body::<actions::StateRequest>(rest);
        }
        3 => {
            if let Some(req) = body::<fees::FeeNoticeRequest>(rest) {
                match fees::read(&req, 30, "Widerspruch binnen eines Monats.") {
                    Ok(n) => {
                        assert!((1..=6).contains(&n.items.len()));
                        let total: i64 = n.items.iter().map(|(_, m)| m.0).sum();
                        assert!(total > 0 && total <= crate::payments::notices::MAX_TOTAL_CENTS);
                        for (label, m) in &n.items {
                            assert!(m.0 > 0 && !label.is_empty());
                            plain(label, 200);
                        }
                        plain(&n.legal_basis, crate::payments::notices::MAX_LEGAL_BASIS);
                        let now = time::OffsetDateTime::now_utc().date();
                        assert!(crate::payments::notices::due_date_allowed(n.due_date, now));
                    }
                    Err(e) => problem(e),
                }
            }
        }
        4 => {
            if let Some(req) = body::<fees::CancelRequest>(rest) {
                match fees::cancel_reason(&req) {
                    Ok(r) => {
                        assert!(!r.is_empty());
                        plain(&r, crate::payments::notices::MAX_REASON);
                    }
                    Err(e) => problem(e),
                }
            }
        }
        5 => {
            let text = String::from_utf8_lossy(rest);
            match cases::decode_cursor(&text) {
                Ok((t, id)) => {
                    assert!(id.len() <= 64);
                    let again = cases::decode_cursor(&cases::encode_cursor(t, &id))
                        .unwrap_or_else(|_| panic!("cursor {text:?} does not round-trip"));
                    assert_eq!(again, (t, id));
                }
                Err(e) => problem(e),
            }
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            if idempotency::valid(&text) {
                assert!((1..=255).contains(&text.len()));
                assert!(text.bytes().all(|b| b.is_ascii_graphic()));
            }
        }
    }
}
