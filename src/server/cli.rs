//! The `smart2fa` command line. Bootstrap commands print one JSON line on success; errors go
//! to stderr with a non-zero exit.
use super::clock::{Clock, SystemClock};
use super::config::Settings;
use super::db::Db;
use super::services::accounts::{self, NewAccount};
use super::services::users::{self, NewUser};
use super::services::{demo, ServiceError};
use crate::domain::{AccountSid, Role};
use clap::{Args, Parser, Subcommand};
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "smart2fa",
    version,
    about = "Self-hosted one-time-password service with an admin console"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (the default when no command is given).
    Serve {
        /// Make sure the demo account exists and print its login before serving.
        #[arg(long, env = "SMART2FA_DEMO")]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Make sure the demo account exists and print the console URL, login and API credentials.
    Demo,
    /// Accounts and sub-accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Console users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Usage counters.
    Usage {
        #[command(subcommand)]
        command: UsageCommand,
    },
    /// Fill an account (default: the demo account) with a realistic OTP history, in bulk.
    Seed {
        /// How many OTPs.
        #[arg(long, default_value_t = 100_000)]
        otps: i64,
        /// Over how many days (ending today).
        #[arg(long, default_value_t = 400)]
        days: i64,
        /// The account to fill (AC…); the demo account when omitted.
        #[arg(long)]
        account: Option<String>,
    },
    /// Seed a new account with OTPs and time the usage records API.
    BenchUsage {
        #[arg(long, default_value_t = 10_000_000)]
        otps: i64,
        #[arg(long, default_value_t = 400)]
        days: i64,
    },
    /// Fill a fresh account with synthetic OTPs and time the OTPs page and its CSV export.
    BenchSearch {
        /// How many OTPs to create.
        #[arg(long, default_value_t = 1_000_000)]
        otps: i64,
        /// Over how many days (ending now).
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
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
        /// Seconds (at most 600).
        #[arg(long, default_value_t = 20)]
        duration: u64,
        /// Named limits charged on every send (0–2).
        #[arg(long, default_value_t = 0)]
        limits: usize,
    },
}

#[derive(Subcommand)]
enum UsageCommand {
    /// Recompute every usage counter from the OTP table; prints {"rows","differences"} (how many
    /// counters had disagreed with the OTPs before).
    Rebuild,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account; prints {"accountSid","authToken","userSid"} (the token is shown once).
    Create(AccountCreate),
}

#[derive(Args)]
struct AccountCreate {
    #[arg(long)]
    name: String,
    /// Make it a sub-account of this account.
    #[arg(long)]
    parent: Option<String>,
    /// Also create a console admin with this email.
    #[arg(long, requires = "admin_password")]
    admin_email: Option<String>,
    #[arg(long, requires = "admin_email")]
    admin_password: Option<String>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a console user; prints {"userSid","accountSid","email","role"}.
    Create(UserCreate),
}

#[derive(Args)]
struct UserCreate {
    #[arg(long)]
    account: String,
    #[arg(long)]
    email: String,
    #[arg(long)]
    password: String,
    /// admin, developer or support.
    #[arg(long)]
    role: String,
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("smart2fa: {e:#}");
            return ExitCode::from(2);
        }
    };
    super::telemetry::init(&settings);
    let mut out = std::io::stdout();
    match run(cli, settings, &mut out).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smart2fa: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn open(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(settings).await?;
    db.migrate().await?;
    Ok(db)
}

fn service_err(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Rule {
            message,
            field: Some(f),
            ..
        } => anyhow::anyhow!("{message} ({f})"),
        ServiceError::Rule { message, .. } | ServiceError::RuleWith { message, .. } => {
            anyhow::anyhow!("{message}")
        }
        ServiceError::Internal(e) => e,
    }
}

/// Runs a bootstrap command as if typed (`args` without the program name) and returns what it
/// printed. Used by tests; `serve` is not allowed here.
pub async fn execute(args: &[&str], settings: Settings) -> anyhow::Result<String> {
    let cli = Cli::try_parse_from(std::iter::once("smart2fa").chain(args.iter().copied()))?;
    if matches!(cli.command, None | Some(Command::Serve { .. })) {
        anyhow::bail!("execute() does not serve");
    }
    let mut out = Vec::new();
    run(cli, settings, &mut out).await?;
    Ok(String::from_utf8(out)?)
}

async fn run(cli: Cli, settings: Settings, out: &mut (dyn Write + Send)) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // With no command (as cargo-leptos starts it), SMART2FA_DEMO still asks for the demo login.
    let default_demo =
        std::env::var("SMART2FA_DEMO").is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
    match cli.command.unwrap_or(Command::Serve { demo: default_demo }) {
        Command::Serve { demo } => {
            let state = super::app::prepare(settings, clock).await?;
            if demo {
                let login = demo::ensure(state.db(), state.clock(), &state.settings().data_dir)
                    .await
                    .map_err(service_err)?;
                print_demo(out, state.settings(), &login)?;
            }
            super::app::serve_state(state).await
        }
        Command::Loadgen {
            url,
            account,
            token,
            concurrency,
            duration,
            limits,
        } => {
            let report = super::loadgen::run(super::loadgen::LoadConfig {
                url: url.trim_end_matches('/').to_owned(),
                account_sid: account,
                auth_token: token,
                concurrency,
                duration: std::time::Duration::from_secs(duration),
                limits,
            })
            .await?;
            write!(out, "{report}")?;
            Ok(())
        }
        Command::Usage {
            command: UsageCommand::Rebuild,
        } => {
            let db = open(&settings).await?;
            let r = crate::server::services::usage::rebuild(&db)
                .await
                .map_err(service_err)?;
            writeln!(
                out,
                "{}",
                json!({"rows": r.rows, "differences": r.differences})
            )?;
            db.close().await;
            Ok(())
        }
        Command::Seed {
            otps,
            days,
            account,
        } => {
            let db = open(&settings).await?;
            let account = match account {
                Some(a) => AccountSid::parse(&a)
                    .map_err(|e| anyhow::anyhow!("--account {e}"))?
                    .to_string(),
                None => {
                    demo::ensure(&db, clock.as_ref(), &settings.data_dir)
                        .await
                        .map_err(service_err)?
                        .account_sid
                }
            };
            let started = std::time::Instant::now();
            let mut last = 0;
            let rows = super::seed::seed(&db, &account, otps, days, &mut |n| {
                if n - last >= (otps / 20).max(1) || n == otps {
                    last = n;
                    eprintln!("seeded {n}/{otps} OTPs");
                }
            })
            .await?;
            writeln!(
                out,
                "{}",
                json!({"accountSid": account, "otps": rows, "seconds": started.elapsed().as_secs()})
            )?;
            db.close().await;
            Ok(())
        }
        Command::BenchUsage { otps, days } => {
            let db = open(&settings).await?;
            let report = super::bench_search::run_usage(&db, &settings, otps, days).await?;
            write!(out, "{report}")?;
            db.close().await;
            Ok(())
        }
        Command::BenchSearch { otps, days } => {
            let db = open(&settings).await?;
            let report = super::bench_search::run(&db, otps, days).await?;
            write!(out, "{report}")?;
            db.close().await;
            Ok(())
        }
        Command::Migrate => {
            let db = open(&settings).await?;
            db.close().await;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Demo => {
            let db = open(&settings).await?;
            let login = demo::ensure(&db, clock.as_ref(), &settings.data_dir)
                .await
                .map_err(service_err)?;
            print_demo(out, &settings, &login)?;
            db.close().await;
            Ok(())
        }
        Command::Account {
            command: AccountCommand::Create(a),
        } => {
            let db = open(&settings).await?;
            let parent = a
                .parent
                .as_deref()
                .map(AccountSid::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--parent {e}"))?;
            let admin = match (a.admin_email, a.admin_password) {
                (Some(email), Some(password)) => Some(NewUser {
                    email,
                    password,
                    role: Role::Admin,
                }),
                _ => None,
            };
            let created = accounts::create(
                &db,
                clock.as_ref(),
                NewAccount {
                    friendly_name: a.name,
                    parent,
                    admin,
                },
            )
            .await
            .map_err(service_err)?;
            writeln!(
                out,
                "{}",
                json!({
                    "accountSid": created.account.sid,
                    "authToken": created.auth_token,
                    "userSid": created.admin_user,
                })
            )?;
            db.close().await;
            Ok(())
        }
        Command::User {
            command: UserCommand::Create(u),
        } => {
            let db = open(&settings).await?;
            let account =
                AccountSid::parse(&u.account).map_err(|e| anyhow::anyhow!("--account {e}"))?;
            let role = Role::parse(&u.role).map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let email = u.email.clone();
            let sid = users::create(
                &db,
                clock.as_ref(),
                &account,
                NewUser {
                    email: u.email,
                    password: u.password,
                    role,
                },
            )
            .await
            .map_err(service_err)?;
            writeln!(
                out,
                "{}",
                json!({"userSid": sid, "accountSid": account, "email": email.trim(), "role": role})
            )?;
            db.close().await;
            Ok(())
        }
    }
}

fn print_demo(
    out: &mut (dyn Write + Send),
    settings: &Settings,
    login: &demo::DemoLogin,
) -> std::io::Result<()> {
    let url = format!("http://{}", settings.site_addr);
    writeln!(
        out,
        "\n  smart2fa is starting on {url}\n\n  Console login   {url}/login\n    email         {}\n    password      {}\n\n  REST API (HTTP Basic)\n    AccountSid    {}\n    AuthToken     {}\n    try           curl -u {}:{} {url}/2fa/accounts/{}\n",
        login.email, login.password, login.account_sid, login.auth_token, login.account_sid, login.auth_token, login.account_sid
    )?;
    out.flush()
}
