//! Embeds the stylesheet and public files with content-hashed names, pre-compressed with brotli
//! and gzip, so that one binary is the whole deployment and assets can be cached for a year.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("..");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed={}", root.join("style").display());
    println!("cargo:rerun-if-changed={}", root.join("public").display());

    let mut assets: Vec<(String, Vec<u8>)> = Vec::new();

    // All stylesheets concatenated in file-name order into one request.
    let mut css_files = list(&root.join("style"), "css");
    css_files.sort();
    let mut css = Vec::new();
    for f in &css_files {
        println!("cargo:rerun-if-changed={}", f.display());
        css.extend(std::fs::read(f).unwrap());
        css.push(b'\n');
    }
    assets.push(("app.css".into(), minify_css(&css)));

    let mut public = list(&root.join("public"), "");
    public.sort();
    for f in public {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assets.push((name, std::fs::read(&f).unwrap()));
    }

    let mut table = String::from("pub static ASSETS: &[Asset] = &[\n");
    for (name, bytes) in &assets {
        let hash = hex(&Sha256::digest(bytes)[..6]);
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name.as_str(), ""));
        let hashed = format!("{stem}.{hash}.{ext}");
        let raw = out.join(&hashed);
        std::fs::write(&raw, bytes).unwrap();
        let br = out.join(format!("{hashed}.br"));
        let mut enc = brotli::CompressorWriter::new(Vec::new(), 4096, 11, 22);
        enc.write_all(bytes).unwrap();
        std::fs::write(&br, enc.into_inner()).unwrap();
        let gz = out.join(format!("{hashed}.gz"));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(bytes).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        writeln!(
            table,
            "    Asset {{ name: {name:?}, hashed: {hashed:?}, raw: include_bytes!({raw:?}), br: include_bytes!({br:?}), gzip: include_bytes!({gz:?}) }},"
        )
        .unwrap();
    }
    table.push_str("];\n");
    std::fs::write(out.join("assets.rs"), table).unwrap();
}

fn list(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .filter(|p| ext.is_empty() || p.extension().is_some_and(|e| e == ext))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Drops comments and collapses white space; enough to keep the budget without a CSS toolchain.
fn minify_css(input: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(input);
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut last_space = false;
    while let Some(c) = chars.next() {
        if c == '/' && chars.peek() == Some(&'*') {
            chars.next();
            let mut prev = ' ';
            for c2 in chars.by_ref() {
                if prev == '*' && c2 == '/' {
                    break;
                }
                prev = c2;
            }
            continue;
        }
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
            continue;
        }
        if matches!(c, '{' | '}' | ';' | ',' | '>') && out.ends_with(' ') {
            out.pop();
        }
        out.push(c);
        last_space = matches!(c, '{' | '}' | ';' | ',' | '>');
    }
    out.trim().as_bytes().to_vec()
}
