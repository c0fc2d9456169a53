//! Build script: exists only so that adding or editing a file in
//! `migrations/` recompiles the crate. `sqlx::migrate!` embeds the migrations
//! at compile time, and on stable Rust it cannot tell Cargo to watch them.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
