//! Cross-cutting HTTP concerns: security headers, origin checks, language, page context and
//! the rendering of error pages.

pub mod client_ip;
pub mod csrf;
pub mod ctx;
pub mod headers;
pub mod origin;

pub use ctx::{html, Ctx};

/// True for paths of this site only, so a `back` or `next` parameter cannot send the user to
/// another host (`//evil.example`, `/\evil.example`, `https://…`).
pub fn is_local_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.starts_with("/\\")
        && !p.chars().any(|c| c.is_control() || c == '\\')
        && p.len() <= 2048
}

#[cfg(test)]
mod tests {
    use super::is_local_path;
    use proptest::prelude::*;

    #[test]
    fn local_paths() {
        assert!(is_local_path("/"));
        assert!(is_local_path("/impressum?x=1"));
        assert!(!is_local_path("//evil.example"));
        assert!(!is_local_path("/\\evil.example"));
        assert!(!is_local_path("https://evil.example"));
        assert!(!is_local_path("/a\r\nSet-Cookie: x"));
        assert!(!is_local_path(""));
    }

    proptest! {
        #[test]
        fn accepted_paths_never_leave_the_site(s in "\\PC{0,40}") {
            if is_local_path(&s) {
                let url = format!("http://portal.example{s}");
                // Whatever the path, a browser resolves it against our host.
                prop_assert!(url.starts_with("http://portal.example/"));
                prop_assert!(!s.starts_with("//"));
            }
        }
    }
}
