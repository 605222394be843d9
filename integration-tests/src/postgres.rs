//! A real PostgreSQL (Debian's `postgresql` package) for one test process: a cluster initialised in
//! a temporary directory with password authentication, on a loopback port, bound to the test
//! process through `scripts/bound` so that it stops when the test does, and stopped (fast
//! shutdown) on drop. `initdb` and `postgres` refuse to run as root: as root they run as the
//! package's `postgres` user (`setpriv`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's PostgreSQL binaries.
pub const BIN: &str = "/usr/lib/postgresql/15/bin";
/// The cluster's superuser, who owns the test databases.
pub const USER: &str = "maturity";

/// The uid and gid of the `postgres` user, when this process is root (else `None`: run as is).
fn run_as() -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user.
    if std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(1)
        != 0
    {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    let line = passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .expect("no postgres user: install Debian's PostgreSQL with `apt-get install postgresql` (scripts/install-test-deps does)");
    let fields: Vec<&str> = line.split(':').collect();
    Some((
        fields[2].parse().expect("postgres uid"),
        fields[3].parse().expect("postgres gid"),
    ))
}

fn give(path: &Path, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown to postgres");
    }
}

/// A running PostgreSQL cluster; stopped on drop.
pub struct Postgres {
    child: Option<Child>,
    pub port: u16,
    /// The superuser's password (`USER`).
    pub password: String,
    data: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Postgres {
    /// Initialises a cluster and starts it on a free loopback port. Panics, saying how to install
    /// it, when PostgreSQL is missing. `tls` is a certificate and key (PEM) the server presents.
    pub fn start(tls: Option<(&Path, &Path)>) -> Postgres {
        let initdb = Path::new(BIN).join("initdb");
        assert!(
            initdb.exists(),
            "{} is missing: install Debian's PostgreSQL 15 with `apt-get install postgresql` (scripts/install-test-deps does)",
            initdb.display()
        );
        let owner = run_as();
        let dir = tempfile::Builder::new()
            .prefix("pg")
            .tempdir()
            .expect("temp dir");
        give(dir.path(), owner);
        let data = dir.path().join("data");
        let password = format!("pw-{}", fastrand::u64(..));
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, &password).expect("write pwfile");
        give(&pwfile, owner);
        let log = dir.path().join("postgres.log");
        let mut init = Command::new(&initdb);
        init.arg("-D")
            .arg(&data)
            .args(["-U", USER, "-A", "scram-sha-256", "--no-sync", "-E", "UTF8"])
            .arg(format!("--pwfile={}", pwfile.display()));
        if let Some((uid, gid)) = owner {
            use std::os::unix::process::CommandExt;
            init.uid(uid).gid(gid);
        }
        let out = init.output().expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut args: Vec<String> = vec![
            "-D".into(),
            data.display().to_string(),
            "-c".into(),
            "listen_addresses=127.0.0.1".into(),
            "-k".into(),
            dir.path().display().to_string(),
            "-c".into(),
            "fsync=off".into(),
            "-c".into(),
            "max_connections=60".into(),
        ];
        if let Some((cert, key)) = tls {
            // The server refuses a key that others can read.
            let (c, k) = (dir.path().join("server.crt"), dir.path().join("server.key"));
            std::fs::copy(cert, &c).expect("copy certificate");
            std::fs::copy(key, &k).expect("copy key");
            std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o600)).expect("chmod");
            give(&c, owner);
            give(&k, owner);
            args.extend([
                "-c".into(),
                "ssl=on".into(),
                "-c".into(),
                format!("ssl_cert_file={}", c.display()),
                "-c".into(),
                format!("ssl_key_file={}", k.display()),
            ]);
        }
        let port = crate::free_port();
        args.extend(["-p".into(), port.to_string()]);
        // A shell between `bound` and the server turns bound's SIGTERM into a fast shutdown
        // (SIGINT) and removes the cluster's directory once the server is gone, also when the
        // test process died without dropping this (a static cluster is never dropped).
        let mut server: Vec<String> = Vec::new();
        if owner.is_some() {
            server.extend(
                [
                    "setpriv",
                    "--reuid=postgres",
                    "--regid=postgres",
                    "--init-groups",
                ]
                .map(String::from),
            );
        }
        server.push(Path::new(BIN).join("postgres").display().to_string());
        server.extend(args);
        let script = r#"dir=$1; shift; "$@" & pid=$!; trap 'kill -INT $pid' TERM INT; wait $pid; wait $pid; rm -rf "$dir""#;
        let child = Command::new(crate::project_root().join("scripts/bound"))
            .args([
                &std::process::id().to_string(),
                "3600",
                "--",
                "sh",
                "-c",
                script,
                "sh",
            ])
            .arg(dir.path())
            .args(&server)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("postgres log"))
            .spawn()
            .expect("start postgres");
        let pg = Postgres {
            child: Some(child),
            port,
            password,
            data,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let ready = Command::new(Path::new(BIN).join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return pg;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "PostgreSQL did not get ready on port {port}; its log:\n{}",
            pg.log()
        );
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The URL of database `db` (without password), with `params` (e.g. `sslmode=disable`).
    pub fn url(&self, db: &str, params: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{db}?{params}", self.port)
    }

    /// Runs SQL with `psql` in database `db`; returns its output (unaligned, tuples only).
    pub fn psql(&self, db: &str, sql: &str) -> String {
        self.try_psql(db, sql)
            .unwrap_or_else(|e| panic!("psql {sql}: {e}"))
    }

    /// Like [`Postgres::psql`], with psql's error instead of a panic (a table not created yet).
    pub fn try_psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let out = Command::new(Path::new(BIN).join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .args(["-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
            .env("PGPASSWORD", &self.password)
            .output()
            .expect("run psql");
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// The state's cycles in database `db`: for each audit run, how many accounts it saved.
    pub fn cycles(&self, db: &str) -> Vec<(i64, usize)> {
        self.try_psql(
            db,
            "SELECT r.id, COUNT(a.account_id) FROM runs r LEFT JOIN account_runs a ON a.run_id = r.id
             WHERE r.kind = 'audit' GROUP BY r.id ORDER BY r.id",
        )
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let (id, n) = l.split_once('|').unwrap();
            (id.trim().parse().unwrap(), n.trim().parse().unwrap())
        })
        .collect()
    }

    /// A new, empty database with a unique name; returns the name.
    pub fn create_database(&self) -> String {
        let name = format!("t{}", fastrand::u64(..));
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        name
    }

    /// The postmaster's process id.
    pub fn postmaster(&self) -> Option<i32> {
        std::fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Fast shutdown (SIGINT): sessions are ended, the cluster stops at once.
        if let Some(pid) = self.postmaster() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGINT,
            );
        }
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
