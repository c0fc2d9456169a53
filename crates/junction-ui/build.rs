//! Builds the admin UI (`ui/` at the workspace root: TypeScript + Preact, bundled by esbuild)
//! into `OUT_DIR/ui` and writes `OUT_DIR/assets.rs`, the table `src/lib.rs` embeds.
//!
//! The committed TypeScript is the source of truth; built files never enter the repository.
//! `npm ci` runs when `ui/node_modules` is missing or older than `ui/package-lock.json`.
//! Without Node.js on the `PATH`, or with `JUNCTION_UI_SKIP_BUILD=1`, the binary is built with
//! a one-page placeholder that says how to get the UI, and cargo prints a warning.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let ui = manifest.join("../../ui");
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    let dist = out.join("ui");

    for input in [
        "src",
        "index.html",
        "build.mjs",
        "package.json",
        "package-lock.json",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", ui.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=JUNCTION_UI_SKIP_BUILD");

    let _ = fs::remove_dir_all(&dist);
    if let Err(err) = fs::create_dir_all(&dist) {
        panic!("cannot create {}: {err}", dist.display());
    }

    let skip = env::var("JUNCTION_UI_SKIP_BUILD").is_ok_and(|v| v == "1" || v == "true");
    let built = if skip {
        println!("cargo:warning=JUNCTION_UI_SKIP_BUILD is set: the admin UI is left out");
        false
    } else if !has_node() {
        println!(
            "cargo:warning=Node.js (node and npm) is not on the PATH: the admin UI is left out \
             of this build; install Node.js 18 or newer and rebuild to get /ui"
        );
        false
    } else {
        install_packages(&ui);
        run(
            Command::new("node")
                .arg("build.mjs")
                .arg(&dist)
                .current_dir(&ui),
            "node build.mjs (the admin UI's esbuild build)",
        );
        true
    };
    if !built {
        write(&dist.join("index.html"), PLACEHOLDER.as_bytes());
    }
    write_table(&dist, &out.join("assets.rs"), built);
}

fn has_node() -> bool {
    ["node", "npm"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// `npm ci` unless `node_modules` was installed from this very lock file.
fn install_packages(ui: &Path) {
    let lock = fs::read(ui.join("package-lock.json")).unwrap_or_default();
    let stamp = ui.join("node_modules/.junction-lock.json");
    if fs::read(&stamp).ok().as_deref() == Some(lock.as_slice()) {
        return;
    }
    run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(ui),
        "npm ci in ui/ (set JUNCTION_UI_SKIP_BUILD=1 to build without the admin UI)",
    );
    write(&stamp, &lock);
}

fn run(command: &mut Command, what: &str) {
    match command.output() {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "{what} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(err) => panic!("{what} could not start: {err}"),
    }
}

fn write(path: &Path, bytes: &[u8]) {
    if let Err(err) = fs::write(path, bytes) {
        panic!("cannot write {}: {err}", path.display());
    }
}

/// `assets.rs`: one `Asset` per built file, its bytes included, its ETag a hash of them.
fn write_table(dist: &Path, table: &Path, built: bool) {
    let mut files: Vec<PathBuf> = match fs::read_dir(dist) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect(),
        Err(err) => panic!("cannot list {}: {err}", dist.display()),
    };
    files.sort();
    let mut code = format!("pub(crate) const BUILT: bool = {built};\n");
    code.push_str("pub(crate) static ASSETS: &[Asset] = &[\n");
    for file in files {
        let Some(name) = file.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let bytes = fs::read(&file).unwrap_or_default();
        let mut hasher = DefaultHasher::new();
        hasher.write(&bytes);
        let _ = writeln!(
            code,
            "    Asset {{ path: {name:?}, content_type: {:?}, etag: \"\\\"{:016x}\\\"\", body: include_bytes!({:?}) }},",
            content_type(name),
            hasher.finish(),
            file.display().to_string(),
        );
    }
    code.push_str("];\n");
    write(table, code.as_bytes());
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

const PLACEHOLDER: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Junction</title>
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>
<body style=\"font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem\">
<h1>Junction</h1>
<p>This binary was built without its admin UI, because Node.js was not found (or
<code>JUNCTION_UI_SKIP_BUILD</code> was set) when it was compiled.</p>
<p>Install Node.js 18 or newer and run <code>cargo build --release -p junction</code> again.
The gateway's API works as usual.</p>
</body></html>
";
