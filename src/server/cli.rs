//! The `smart2fa` command line. Bootstrap commands print one JSON line on success; errors go
//! to stderr with a non-zero exit.
use super::app::Site;
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
    /// Also create a console admin with this email (its password: --admin-password,
    /// SMART2FA_ADMIN_PASSWORD or --admin-password-stdin).
    #[arg(long)]
    admin_email: Option<String>,
    /// The admin's password (visible to other users in `ps`: prefer the variable or stdin).
    #[arg(long, env = "SMART2FA_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
    /// Read the admin's password from the first line of standard input.
    #[arg(long, conflicts_with = "admin_password")]
    admin_password_stdin: bool,
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
    /// The user's password (visible to other users in `ps`: prefer the variable or stdin).
    #[arg(long, env = "SMART2FA_USER_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, conflicts_with = "password")]
    password_stdin: bool,
    /// admin, developer or support.
    #[arg(long)]
    role: String,
}

/// A password from its flag (or variable), or the first line of standard input.
fn password(given: Option<String>, stdin: bool, what: &str) -> anyhow::Result<Option<String>> {
    if !stdin {
        return Ok(given);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    if line.is_empty() {
        anyhow::bail!("{what}: standard input held no password");
    }
    Ok(Some(line))
}

pub async fn main(site: Site) -> ExitCode {
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
    match run(cli, settings, &mut out, Some(site)).await {
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
        ServiceError::Rule { message, .. } => anyhow::anyhow!("{message}"),
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
    run(cli, settings, &mut out, None).await?;
    Ok(String::from_utf8(out)?)
}

type Out<'a> = &'a mut (dyn Write + Send);

async fn run(cli: Cli, settings: Settings, out: Out<'_>, site: Option<Site>) -> anyhow::Result<()> {
    // With no command (as cargo-leptos starts it), SMART2FA_DEMO still asks for the demo login.
    let default_demo =
        std::env::var("SMART2FA_DEMO").is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
    match cli.command.unwrap_or(Command::Serve { demo: default_demo }) {
        Command::Serve { demo } => {
            let site = site.ok_or_else(|| anyhow::anyhow!("serve needs the console site"))?;
            serve(settings, demo, out, site).await
        }
        Command::Usage {
            command: UsageCommand::Rebuild,
        } => usage_rebuild(settings, out).await,
        Command::Seed {
            otps,
            days,
            account,
        } => seed(settings, out, otps, days, account).await,
        Command::Migrate => {
            let db = open(&settings).await?;
            db.close().await;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Demo => demo(settings, out).await,
        Command::Account {
            command: AccountCommand::Create(a),
        } => account_create(settings, out, a).await,
        Command::User {
            command: UserCommand::Create(u),
        } => user_create(settings, out, u).await,
    }
}

fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// `serve [--demo]`.
async fn serve(settings: Settings, demo: bool, out: Out<'_>, site: Site) -> anyhow::Result<()> {
    if demo {
        // Before anything starts: a production server does not serve with a demo login.
        demo::allowed(settings.environment).map_err(service_err)?;
    }
    let state = super::app::prepare(settings, clock()).await?;
    if demo {
        let s = state.settings();
        let login = demo::ensure(state.db(), state.clock(), s.environment, &s.data_dir)
            .await
            .map_err(service_err)?;
        print_demo(out, state.settings(), &login)?;
    }
    super::app::serve_state(state, site).await
}

/// `usage rebuild`.
async fn usage_rebuild(settings: Settings, out: Out<'_>) -> anyhow::Result<()> {
    let db = open(&settings).await?;
    let r = crate::server::services::usage::rebuild(&db).await?;
    writeln!(
        out,
        "{}",
        json!({"rows": r.rows, "differences": r.differences})
    )?;
    db.close().await;
    Ok(())
}

/// `seed [--otps N] [--days D] [--account AC…]`.
async fn seed(
    settings: Settings,
    out: Out<'_>,
    otps: i64,
    days: i64,
    account: Option<String>,
) -> anyhow::Result<()> {
    let db = open(&settings).await?;
    let account = match account {
        Some(a) => AccountSid::parse(&a)
            .map_err(|e| anyhow::anyhow!("--account {e}"))?
            .to_string(),
        None => {
            demo::ensure(
                &db,
                clock().as_ref(),
                settings.environment,
                &settings.data_dir,
            )
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

/// `demo`.
async fn demo(settings: Settings, out: Out<'_>) -> anyhow::Result<()> {
    demo::allowed(settings.environment).map_err(service_err)?;
    let db = open(&settings).await?;
    let login = demo::ensure(
        &db,
        clock().as_ref(),
        settings.environment,
        &settings.data_dir,
    )
    .await
    .map_err(service_err)?;
    print_demo(out, &settings, &login)?;
    db.close().await;
    Ok(())
}

/// `account create`.
async fn account_create(settings: Settings, out: Out<'_>, a: AccountCreate) -> anyhow::Result<()> {
    let parent = a
        .parent
        .as_deref()
        .map(AccountSid::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--parent {e}"))?;
    let pass = password(
        a.admin_password,
        a.admin_password_stdin,
        "--admin-password-stdin",
    )?;
    let admin = match (a.admin_email, pass) {
        (Some(email), Some(password)) => Some(NewUser {
            email,
            password,
            role: Role::Admin,
        }),
        (Some(_), None) => anyhow::bail!(
            "--admin-email needs a password: --admin-password, SMART2FA_ADMIN_PASSWORD or --admin-password-stdin"
        ),
        (None, Some(_)) => anyhow::bail!("a password was given without --admin-email"),
        (None, None) => None,
    };
    let db = open(&settings).await?;
    let created = accounts::create(
        &db,
        clock().as_ref(),
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

/// `user create`.
async fn user_create(settings: Settings, out: Out<'_>, u: UserCreate) -> anyhow::Result<()> {
    let account = AccountSid::parse(&u.account).map_err(|e| anyhow::anyhow!("--account {e}"))?;
    let role = Role::parse(&u.role).map_err(|e| anyhow::anyhow!("--role: {e}"))?;
    let password =
        password(u.password, u.password_stdin, "--password-stdin")?.ok_or_else(|| {
            anyhow::anyhow!(
                "a password is required: --password, SMART2FA_USER_PASSWORD or --password-stdin"
            )
        })?;
    let db = open(&settings).await?;
    let email = u.email.clone();
    let sid = users::create(
        &db,
        clock().as_ref(),
        &account,
        NewUser {
            email: u.email,
            password,
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
