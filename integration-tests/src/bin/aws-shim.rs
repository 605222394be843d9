//! The shim of `integration_tests::shim` as a process, for the demo: serves on `--listen` in front
//! of the moto server at `--upstream` until killed.
//!
//! `aws-shim --upstream http://127.0.0.1:MOTO_PORT --listen 127.0.0.1:PORT`

use clap::Parser;

#[derive(Parser)]
#[command(about = "Serve the operations moto lacks in front of a moto server (loopback only)")]
struct Args {
    /// The moto server's endpoint URL.
    #[arg(long)]
    upstream: String,
    /// The loopback address to serve on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "aws-shim: --listen must be a loopback address, not {}",
            args.listen
        );
        return std::process::ExitCode::from(64);
    }
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("aws-shim: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Ok(addr) = listener.local_addr() {
        eprintln!(
            "aws-shim: serving http://{addr} in front of {}",
            args.upstream
        );
    }
    match integration_tests::shim::serve(listener, &args.upstream).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aws-shim: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
