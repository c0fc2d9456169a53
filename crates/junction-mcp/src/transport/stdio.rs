//! The stdio transport: an MCP server as a child process speaking JSON-RPC lines.
//!
//! `rmcp`'s child-process transport does the framing and the shutdown sequence of the spec
//! (close stdin, wait, SIGTERM, wait, SIGKILL, and wait again, so the child is reaped). This
//! module starts the child the way the configuration says (command, arguments, environment,
//! working directory), makes sure it dies with us (`kill_on_drop`, a second line of defence
//! behind `rmcp`'s own drop guard), and turns its stderr, the only place a stdio server can
//! log to, into `tracing` events (target `junction_mcp::stderr`, field `server`), one per line.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use rmcp::transport::TokioChildProcess;
use tokio::io::AsyncReadExt;
use tokio::process::{ChildStderr, Command};

use crate::McpError;

/// A longer stderr line is logged in pieces of this size, so a server that never writes a
/// newline cannot make us buffer without bound.
const MAX_LINE_BYTES: usize = 16 * 1024;

/// Starts the server process. Spawning is synchronous: a missing command fails here.
pub(crate) fn spawn(
    server: &str,
    command: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
    cwd: Option<&Path>,
) -> Result<TokioChildProcess, McpError> {
    let mut cmd = Command::new(command);
    cmd.args(args).envs(env).kill_on_drop(true);
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let (child, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| McpError::Connect {
            server: server.to_owned(),
            message: spawn_error(command, cwd, &e),
        })?;
    tracing::debug!(
        server,
        command,
        pid = child.id(),
        "started MCP server process"
    );
    if let Some(stderr) = stderr {
        tokio::spawn(log_stderr(server.to_owned(), stderr));
    }
    Ok(child)
}

fn spawn_error(command: &str, cwd: Option<&Path>, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => match cwd {
            Some(cwd) if !cwd.is_dir() => {
                format!(
                    "cannot start {command:?}: the working directory {} does not exist",
                    cwd.display()
                )
            }
            _ => format!(
                "cannot start {command:?}: command not found (is it installed and on PATH?)"
            ),
        },
        std::io::ErrorKind::PermissionDenied => {
            format!("cannot start {command:?}: permission denied (is it executable?)")
        }
        _ => format!("cannot start {command:?}: {e}"),
    }
}

/// Forwards the child's stderr to the logs until it closes (the child exited).
async fn log_stderr(server: String, mut stderr: ChildStderr) {
    let mut pending = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let read = match stderr.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&chunk[..read]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            emit(&server, &line);
        }
        if pending.len() >= MAX_LINE_BYTES {
            emit(&server, &pending);
            pending.clear();
        }
    }
    if !pending.is_empty() {
        emit(&server, &pending);
    }
}

fn emit(server: &str, line: &[u8]) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\n', '\r']);
    if !text.is_empty() {
        tracing::info!(target: "junction_mcp::stderr", server, "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_command_is_a_connect_error_naming_it() {
        let result = spawn("s", "junction-no-such-command", &[], &BTreeMap::new(), None);
        match result {
            Err(McpError::Connect { message, .. }) => {
                assert!(message.contains("junction-no-such-command"), "{message}");
                assert!(message.contains("not found"), "{message}");
            }
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("a missing command started"),
        }
    }
}
