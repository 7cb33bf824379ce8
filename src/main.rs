//! The `anist` command-line tool.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anist::check::{check_csv_column, check_lines, CheckOptions};
use anist::inspect::{inspect, InspectOptions};
use anist_core::cf::{
    AnyCodiceFiscale, CodiceFiscale, MostRecentNotFuture, PersonData, PlaceFinding, PlacePart, Sex,
};
use anist_core::ErrorCode;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};

/// Exit status for usage and I/O errors (clap uses 2 for usage errors too).
const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "anist",
    version,
    about = "Italian school, welfare and population registries over PDND"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Codici fiscali: check, decode, encode.
    #[command(subcommand)]
    Cf(CfCommand),
    /// CSV files: inspect.
    #[command(subcommand)]
    Csv(CsvCommand),
    /// RSA keys for PDND: create, show the public key and kid.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The configuration file (anist.toml): check it offline.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check the configuration offline: ids, URLs, audiences, keys, operator,
    /// services, and the pre-flight diagnosis of a client assertion signed
    /// with the configured key for each purpose. Nothing is sent.
    ///
    /// Prints one `ok`/`warn`/`fail` line per check with its rule and fix.
    /// Exit status: 0 if every check passes, 1 if one fails, 2 on usage
    /// errors or an unreadable file.
    Check {
        /// The configuration file (default: $ANIST_CONFIG, else ./anist.toml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// The environment variable holding the password of an encrypted key.
const KEY_PASSWORD_ENV: &str = "ANIST_KEY_PASSWORD";

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key pair: the private key goes to --out (mode 0600, never
    /// overwritten); the public key PEM to upload to PDND and its kid are printed.
    New {
        /// Modulus size: 2048, 3072 or 4096.
        #[arg(long, default_value_t = 2048)]
        bits: usize,
        /// Where to write the private key (PEM PKCS#8).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key PEM and the kid of a private key (PEM, DER or JWK;
    /// the password of an encrypted key is read from ANIST_KEY_PASSWORD).
    Show {
        /// The private key file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum CsvCommand {
    /// Describe a CSV file: encoding, delimiter, header mapping, rows, bad
    /// rows, invalid codici fiscali and birth dates by error code.
    ///
    /// Prints counts, header names and error codes only, never a field value.
    /// Exit status: 0, or 2 on usage or I/O errors (or a file that cannot be
    /// read as CSV at all: empty, UTF-16).
    Inspect {
        /// The CSV file; `-` reads standard input.
        file: PathBuf,
        /// Check the codici fiscali of this column (header name or alias)
        /// instead of the one mapped to codice_fiscale.
        #[arg(long)]
        column: Option<String>,
    },
}

#[derive(Subcommand)]
enum CfCommand {
    /// Validate codes (one per line, or a CSV column) and write a CSV report to stdout.
    ///
    /// Exit status: 0 if every code is valid, 1 if any is invalid, 2 on usage or I/O errors.
    Check {
        /// Input file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
        /// Read this column of a CSV file with a header (delimiter sniffed) instead of one code per line.
        #[arg(long)]
        column: Option<String>,
        /// Reference date for the century of two-digit birth years (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<NaiveDate>,
        /// Do not print the summary line on standard error.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Decode one code: sex, birth date, place, omocodia.
    Decode {
        /// The codice fiscale (16 characters or 11 digits).
        code: String,
        /// Reference date for the century of the birth year (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<NaiveDate>,
    },
    /// Build the code of a person.
    Encode {
        /// Surname(s).
        #[arg(long)]
        surname: String,
        /// Given name(s).
        #[arg(long)]
        name: String,
        /// Date of birth.
        #[arg(long, value_name = "YYYY-MM-DD")]
        born: NaiveDate,
        /// M or F.
        #[arg(long)]
        sex: Sex,
        /// Belfiore code (H501) or place name ("Roma", "Calliano (AT)", "Francia").
        #[arg(long)]
        place: String,
        /// Omocodia level 0-7.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=7))]
        omocodia: u8,
    },
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Cf(cmd) => run_cf(cmd),
        Command::Csv(cmd) => run_csv(cmd),
        Command::Keys(cmd) => run_keys(cmd),
        Command::Config(ConfigCommand::Check { config }) => config_check(config),
    }
}

fn config_check(config: Option<PathBuf>) -> ExitCode {
    use anist::client::clock::{Clock, SystemClock};
    use anist::client::config::process_env;
    use anist::config_cmd::{check_file, config_path, exit_code, render};
    let path = config_path(config, &process_env);
    match check_file(&path, &process_env, SystemClock.now()) {
        Ok(report) => {
            print!("{}", render(&path, &report));
            ExitCode::from(exit_code(&report))
        }
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run_keys(cmd: KeysCommand) -> ExitCode {
    let result = match cmd {
        KeysCommand::New { bits, out } => {
            anist::keys::generate_key_file(&out, bits).inspect(|_| {
                eprintln!("private key written to {} (keep it secret)", out.display());
            })
        }
        KeysCommand::Show { file } => {
            let password = std::env::var_os(KEY_PASSWORD_ENV).map(|p| p.into_encoded_bytes());
            anist::keys::describe_key_file(&file, password.as_deref())
        }
    };
    match result {
        Ok(s) => {
            println!("kid:  {}", s.kid);
            println!("bits: {}", s.bits);
            print!("{}", s.public_pem);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run_csv(cmd: CsvCommand) -> ExitCode {
    match cmd {
        CsvCommand::Inspect { file, column } => csv_inspect(file, column),
    }
}

fn csv_inspect(file: PathBuf, column: Option<String>) -> ExitCode {
    let input = match open_input(Some(file)) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut opts = InspectOptions::new();
    opts.column = column;
    match inspect(input, &opts) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            if e.code() == "csv_missing_column" {
                eprintln!("run `anist csv inspect FILE` without --column to see the columns");
            }
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run_cf(cmd: CfCommand) -> ExitCode {
    match cmd {
        CfCommand::Check {
            file,
            column,
            today: reference,
            quiet,
        } => cf_check(file, column, reference.unwrap_or_else(today), quiet),
        CfCommand::Decode {
            code,
            today: reference,
        } => cf_decode(&code, reference.unwrap_or_else(today)),
        CfCommand::Encode {
            surname,
            name,
            born,
            sex,
            place,
            omocodia,
        } => cf_encode(&surname, &name, born, sex, &place, omocodia),
    }
}

fn open_input(file: Option<PathBuf>) -> io::Result<Box<dyn Read>> {
    match file {
        None => Ok(Box::new(io::stdin().lock())),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(io::stdin().lock())),
        Some(p) => File::open(&p)
            .map(|f| Box::new(f) as Box<dyn Read>)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot open {}: {e}", p.display()))),
    }
}

fn cf_check(
    file: Option<PathBuf>,
    column: Option<String>,
    reference: NaiveDate,
    quiet: bool,
) -> ExitCode {
    let input = match open_input(file) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let opts = CheckOptions::new(reference);
    let stdout = io::stdout().lock();
    let result = match column {
        Some(col) => check_csv_column(input, stdout, &col, &opts),
        None => check_lines(input, stdout, &opts),
    };
    match result {
        Ok(s) => {
            if !quiet {
                eprintln!(
                    "checked {} codes: {} valid ({} with warnings), {} invalid",
                    s.valid + s.invalid,
                    s.valid,
                    s.with_warnings,
                    s.invalid
                );
            }
            if s.invalid == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn cf_decode(code: &str, reference: NaiveDate) -> ExitCode {
    let cf = match AnyCodiceFiscale::parse(code) {
        Ok(AnyCodiceFiscale::Persona(cf)) => cf,
        Ok(AnyCodiceFiscale::Numerico(n)) => {
            println!("kind:           {}", n.kind().as_str());
            println!("may be person:  {}", n.kind().may_be_person());
            println!("office:         {:03}", n.office());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("invalid [{}]: {e}", e.code());
            return ExitCode::from(1);
        }
    };
    let policy = MostRecentNotFuture::new(reference);
    let birth = cf
        .birth_date(&policy)
        .map_or_else(|| String::from("?"), |d| d.to_string());
    let [y1, y2] = cf.possible_birth_years();
    println!("canonical:      {}", cf.canonical());
    println!("omocodia level: {}", cf.omocodia_level());
    println!("sex:            {}", cf.sex().as_str());
    println!("birth date:     {birth} (possible years {y1} or {y2})");
    let code = cf.belfiore_code();
    match cf.place_finding(&policy) {
        PlaceFinding::ExistedAtBirth(era) => {
            println!("place:          {code} {} ({})", era.name(), era.province())
        }
        PlaceFinding::OutOfPeriod | PlaceFinding::Undetermined => {
            let name = anist_core::place::latest(code.as_bytes())
                .map_or_else(String::new, |e| format!(" {} ({})", e.name(), e.province()));
            println!("place:          {code}{name}");
            println!("warning:        cf_place_out_of_period: no recorded era of {code} covers the birth date (advisory: the code may still be genuine)");
        }
    }
    ExitCode::SUCCESS
}

fn cf_encode(
    surname: &str,
    name: &str,
    born: NaiveDate,
    sex: Sex,
    place: &str,
    omocodia: u8,
) -> ExitCode {
    let place = if anist_core::cf::BelfioreCode::parse(place).is_some() {
        PlacePart::Code(place)
    } else {
        PlacePart::Name(place)
    };
    match CodiceFiscale::encode(&PersonData {
        surname,
        name,
        birth_date: born,
        sex,
        place,
        omocodia_level: omocodia,
    }) {
        Ok(cf) => {
            println!("{cf}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot encode [{}]: {e}", e.code());
            ExitCode::from(1)
        }
    }
}
