//! The `smart2fa-bench` command line: `loadgen` against a running server, `search` and `usage`
//! on a database of their own (the same settings as the server: `DATABASE_URL`, data dir…).
use crate::server::config::Settings;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "smart2fa-bench",
    version,
    about = "Load generator and benchmarks of smart2fa (measure; never fail on time)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drive the full OTP lifecycle against a server on loopback and print throughput and latency.
    Loadgen {
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        url: String,
        #[arg(long)]
        account: String,
        #[arg(long)]
        token: String,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds (at most 3600).
        #[arg(long, default_value_t = 20)]
        duration: u64,
        /// Named limits charged on every send (0–2).
        #[arg(long, default_value_t = 0)]
        limits: usize,
        /// Start at most this many lifecycles per second (default: as fast as possible).
        #[arg(long)]
        rate: Option<f64>,
        /// Print a line every this many seconds: lifecycles, errors, p99, the server's RSS and
        /// the database files' growth (the soak).
        #[arg(long)]
        every: Option<u64>,
        /// The server's process id, for the RSS in those lines.
        #[arg(long)]
        watch_pid: Option<u32>,
        /// Database files whose size those lines show (repeatable).
        #[arg(long)]
        watch_file: Vec<std::path::PathBuf>,
    },
    /// One tenant floods the server (slow callbacks, huge reports, wrong passwords) while another
    /// runs lifecycles: the honest tenant's latency alone and under abuse.
    Abuse {
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        url: String,
        #[arg(long)]
        account: String,
        #[arg(long)]
        token: String,
        #[arg(long)]
        abuser_account: String,
        #[arg(long)]
        abuser_token: String,
        /// The abusive tenant's console login (wrong-password bursts).
        #[arg(long)]
        abuser_email: String,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Seconds of each phase (alone, under abuse); at most 300.
        #[arg(long, default_value_t = 20)]
        duration: u64,
        #[arg(long)]
        watch_pid: Option<u32>,
    },
    /// Fill a fresh account with synthetic OTPs and time the OTPs page and its CSV export.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        otps: i64,
        /// Over how many days (ending now).
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
    /// Seed a new account with OTPs and time the usage records and the console's pages.
    Usage {
        #[arg(long, default_value_t = 10_000_000)]
        otps: i64,
        #[arg(long, default_value_t = 400)]
        days: i64,
    },
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("smart2fa-bench: {e:#}");
            return ExitCode::from(2);
        }
    };
    crate::server::telemetry::init(&settings);
    match run(cli.command, settings).await {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("smart2fa-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<String> {
    match command {
        Command::Loadgen {
            url,
            account,
            token,
            concurrency,
            duration,
            limits,
            rate,
            every,
            watch_pid,
            watch_file,
        } => {
            super::loadgen::run(super::loadgen::LoadConfig {
                url: url.trim_end_matches('/').to_owned(),
                account_sid: account,
                auth_token: token,
                concurrency,
                duration: std::time::Duration::from_secs(duration),
                limits,
                rate,
                every: every.map(|s| std::time::Duration::from_secs(s.max(1))),
                watch_pid,
                watch_files: watch_file,
            })
            .await
        }
        Command::Abuse {
            url,
            account,
            token,
            abuser_account,
            abuser_token,
            abuser_email,
            concurrency,
            duration,
            watch_pid,
        } => {
            super::abuse::run(super::abuse::AbuseConfig {
                url: url.trim_end_matches('/').to_owned(),
                honest: (account, token),
                abuser: (abuser_account, abuser_token),
                abuser_email,
                honest_concurrency: concurrency,
                duration: std::time::Duration::from_secs(duration),
                watch_pid,
            })
            .await
        }
        Command::Search { otps, days } => {
            let db = crate::server::db::Db::connect(&settings).await?;
            db.migrate().await?;
            let report = super::search::run(&db, otps, days).await;
            db.close().await;
            report
        }
        Command::Usage { otps, days } => {
            let db = crate::server::db::Db::connect(&settings).await?;
            db.migrate().await?;
            let report = super::search::run_usage(&db, &settings, otps, days).await;
            db.close().await;
            report
        }
    }
}
