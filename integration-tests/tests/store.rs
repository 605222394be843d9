//! The state store's suite, run against both backends: SQLite in a temporary file and a real
//! PostgreSQL (Debian's, a cluster of this test process; each test has its own database). Then
//! `state copy` between them, and the errors that name the database.

use chrono::{Duration, Utc};
use integration_tests::postgres::Postgres;
use integration_tests::sample;
use maturity_agent::alerts::detect::{self, Rules};
use maturity_agent::state::{self, Database, PgTarget, Store};
use maturity_checks::model::{Severity, Status, Verdict};
use maturity_checks::report::Report;
use std::sync::OnceLock;

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

fn cluster() -> &'static Postgres {
    static PG: OnceLock<Postgres> = OnceLock::new();
    PG.get_or_init(|| Postgres::start(None))
}

/// A new, empty database of the backend (the temporary directory lives as long as the test).
fn database(backend: Backend, dir: &tempfile::TempDir) -> Database {
    match backend {
        Backend::Sqlite => Database::Sqlite(dir.path().join("state/state.db")),
        Backend::Postgres => {
            let pg = cluster();
            let db = pg.create_database();
            Database::Postgres(Box::new(
                PgTarget::new(
                    &pg.url(&db, "sslmode=disable"),
                    Some(pg.password.clone()),
                    None,
                )
                .unwrap(),
            ))
        }
    }
}

/// One account's run: the check iam_root_mfa_enabled (identity, level 1) with one verdict.
fn run(id: &str, status: Status, at: chrono::DateTime<Utc>) -> Report {
    let verdict = Verdict::new(format!("arn:aws:iam::{id}:root"), None, status, "why");
    let check = sample::check(sample::meta("iam_root_mfa_enabled"), status, vec![verdict]);
    sample::report(
        at,
        vec![sample::audited(id, &format!("name-{id}"), vec![check])],
    )
}

fn rules() -> Rules {
    Rules {
        new_failing_resources_min_severity: Severity::Low,
        audit_failing_after_runs: 3,
        agent_url: None,
    }
}

/// Saves `report` the way the daemon does: the alert rules against the stored history, the plans
/// in the run's transaction. Returns the run's id and its plans.
fn audit(store: &Store, report: &Report) -> (i64, Vec<detect::Plan>) {
    let now = report.started_at;
    let active = store.active_alerts().unwrap();
    let plans: Vec<detect::Plan> = report
        .accounts
        .iter()
        .map(|a| {
            let history = store.history_for_alerts(&a.account_id).unwrap();
            let mine: Vec<detect::Alert> = active
                .iter()
                .filter(|x| x.account_id == a.account_id)
                .cloned()
                .collect();
            detect::plan(a, &history, &mine, &rules(), now)
        })
        .collect();
    let id = store
        .save_run_with(report, |db, run_id| {
            maturity_agent::alerts::store::write_plans(db, run_id, now, &plans, &|_| {
                vec![("am".to_owned(), "http://am.example".to_owned())]
            })
        })
        .unwrap();
    (id, plans)
}

/// A saved run comes back as the latest report, with history and last known statuses; an unknown
/// status does not overwrite the last known one; reopening keeps everything; retention keeps each
/// account's baseline.
fn runs_history_and_retention(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, &dir);
    let store = Store::connect(&db).unwrap();
    let t0 = Utc::now() - Duration::days(100);
    store
        .save_run(&run("111111111111", Status::Pass, t0))
        .unwrap();
    store
        .save_run(&run(
            "111111111111",
            Status::Unknown,
            t0 + Duration::hours(1),
        ))
        .unwrap();
    let latest = store.latest_report().unwrap().unwrap();
    assert_eq!(latest.accounts[0].checks[0].status, Status::Unknown);
    assert_eq!(latest.duration_seconds, 1.5);
    assert_eq!(
        latest.accounts[0].checks[0].title,
        sample::meta("iam_root_mfa_enabled").title
    );
    assert_eq!(
        latest.started_at.timestamp(),
        (t0 + Duration::hours(1)).timestamp()
    );
    let known = store.last_known("111111111111").unwrap();
    assert_eq!(known["iam_root_mfa_enabled"].0, Status::Pass);
    assert_eq!(known["iam_root_mfa_enabled"].1.timestamp(), t0.timestamp());
    let history = store.history("111111111111", 10).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].practices["identity"], 1);
    assert_eq!(history[0].status, "audited");
    store.write_probe().unwrap();
    drop(store);
    let store = Store::connect(&db).unwrap();
    assert_eq!(store.run_count().unwrap(), 2);

    store
        .save_run(&run("111111111111", Status::Fail, t0 + Duration::days(1)))
        .unwrap();
    store
        .save_run(&run("222222222222", Status::Pass, Utc::now()))
        .unwrap();
    // The first two runs are old and not a baseline; the third is 111's baseline, the fourth the newest.
    assert_eq!(store.prune(90, Utc::now()).unwrap(), 2);
    assert_eq!(
        store.last_audited("111111111111").unwrap().unwrap().checks[0].status,
        Status::Fail
    );
    assert_eq!(store.run_count().unwrap(), 2);
    assert_eq!(store.history("111111111111", 10).unwrap().len(), 1);
}

/// A pass then a fail: three regressions (the check, its practice, the account), three active
/// alerts, three notifications in the outbox of the one destination, which move through retry,
/// delivery in order and rejection as the delivery task drives them.
fn regressions_alerts_and_outbox(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&database(backend, &dir)).unwrap();
    let t0 = Utc::now() - Duration::hours(2);
    let (_, plans) = audit(&store, &run("111111111111", Status::Pass, t0));
    assert!(
        plans.iter().all(|p| p.regressions.is_empty()),
        "a first run raises nothing"
    );
    let (_, plans) = audit(
        &store,
        &run("111111111111", Status::Fail, t0 + Duration::hours(1)),
    );
    assert_eq!(plans[0].regressions.len(), 3, "{plans:?}");
    let regressions = store.recent_regressions(10).unwrap();
    assert_eq!(regressions.len(), 3);
    let check = regressions
        .iter()
        .find(|r| r.check.as_deref() == Some("iam_root_mfa_enabled"))
        .unwrap();
    assert_eq!(check.resources, vec!["arn:aws:iam::111111111111:root"]);
    let account = regressions
        .iter()
        .find(|r| r.kind == "account_level_dropped")
        .unwrap();
    assert_eq!((account.from_level, account.to_level), (Some(1), Some(0)));
    assert_eq!(store.active_alerts().unwrap().len(), 3);
    assert_eq!(store.outbox_depth().unwrap()["am"], 3);

    let now = Utc::now().timestamp_millis();
    let due = store.outbox_due(now).unwrap();
    assert_eq!(due.len(), 1, "one destination: in order, one at a time");
    assert_eq!((due[0].attempts, due[0].sink.as_str()), (0, "am"));
    store.outbox_retry(due[0].id, now + 60_000, "down").unwrap();
    assert!(
        store.outbox_due(now).unwrap().is_empty(),
        "backing off holds the others"
    );
    assert!(
        store.outbox_next_due().unwrap().unwrap() <= now,
        "the two behind are due"
    );
    // A restart makes configured sinks due at once and parks the others.
    assert!(store
        .outbox_park_unconfigured(&["am".into()], now)
        .unwrap()
        .is_empty());
    assert_eq!(store.outbox_due(now).unwrap()[0].attempts, 1);
    assert_eq!(
        store.outbox_park_unconfigured(&[], now).unwrap(),
        vec![("am".to_owned(), 3)]
    );
    assert_eq!(store.outbox_next_due().unwrap(), Some(i64::MAX));
    store.outbox_park_unconfigured(&["am".into()], now).unwrap();
    let mut delivered = Vec::new();
    while let Some(q) = store.outbox_due(now).unwrap().pop() {
        delivered.push(q.notice.id.clone());
        store.outbox_delivered(q.id).unwrap();
    }
    assert_eq!(delivered.len(), 3);
    assert!(store.outbox_depth().unwrap().is_empty());
    assert_eq!(store.outbox_next_due().unwrap(), None);

    // Back to pass: the alerts resolve; a notification refused for good is kept and no longer
    // holds up the next one.
    audit(
        &store,
        &run("111111111111", Status::Pass, t0 + Duration::hours(2)),
    );
    assert!(store.active_alerts().unwrap().is_empty());
    let due = store.outbox_due(Utc::now().timestamp_millis()).unwrap();
    assert_eq!(due.len(), 1);
    store.outbox_rejected(due[0].id, "400", Utc::now()).unwrap();
    let next = store.outbox_due(Utc::now().timestamp_millis()).unwrap();
    assert_eq!(next.len(), 1);
    assert!(next[0].id > due[0].id);
    assert_eq!(store.outbox_depth().unwrap()["am"], 2);
}

/// A re-check replaces its account in the latest report, not the run.
fn rechecks_replace_their_account(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&database(backend, &dir)).unwrap();
    let t0 = Utc::now() - Duration::hours(1);
    let mut two = run("111111111111", Status::Pass, t0);
    two.accounts
        .extend(run("222222222222", Status::Pass, t0).accounts);
    store.save_run(&two).unwrap();
    store
        .save_run_with(&run("222222222222", Status::Fail, Utc::now()), |db, id| {
            state::mark_recheck(db, id)
        })
        .unwrap();
    let latest = store.latest_report().unwrap().unwrap();
    assert_eq!(
        latest.started_at.timestamp(),
        t0.timestamp(),
        "the full audit's"
    );
    let ids: Vec<(&str, Status)> = latest
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.checks[0].status))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("111111111111", Status::Pass),
            ("222222222222", Status::Fail)
        ],
        "in the audit's order, the re-check's verdict"
    );
}

/// A schema a newer agent migrated is refused by `connect` and by `check_usable`, naming the
/// database (the URL without password for PostgreSQL).
fn newer_schema_is_refused(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, &dir);
    drop(Store::connect(&db).unwrap());
    state::check_usable(&db).unwrap();
    match &db {
        Database::Sqlite(path) => rusqlite::Connection::open(path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap(),
        Database::Postgres(t) => {
            let name = t
                .name()
                .split('/')
                .nth(3)
                .unwrap()
                .split('?')
                .next()
                .unwrap();
            cluster().psql(name, "UPDATE maturity_schema SET version = 99");
        }
    }
    let e = Store::connect(&db).err().unwrap().to_string();
    assert!(
        e.starts_with(&format!(
            "state database {} has schema version 99, newer than this agent's",
            db.name()
        )),
        "{e}"
    );
    assert_eq!(state::check_usable(&db).unwrap_err(), e);
}

/// A lease is held by one owner at a time, renewed without a new epoch, taken over (epoch + 1)
/// only once expired or released; a write fenced with a lost epoch or on standby is refused and
/// changes nothing, the holder's goes through.
fn leases_fence_writes(backend: Backend) {
    use maturity_agent::state::Fence;
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, &dir);
    let (a, b) = (Store::connect(&db).unwrap(), Store::connect(&db).unwrap());
    let now = Utc::now().timestamp_millis();
    assert_eq!(a.acquire_lease("daemon", "a", now, 1000).unwrap(), Some(1));
    assert_eq!(
        b.acquire_lease("daemon", "b", now + 10, 1000).unwrap(),
        None
    );
    assert_eq!(
        a.acquire_lease("daemon", "a", now + 500, 1000).unwrap(),
        Some(1),
        "renewed"
    );
    assert_eq!(
        b.acquire_lease("daemon", "b", now + 1200, 1000).unwrap(),
        None,
        "renewal counts"
    );
    assert_eq!(
        b.acquire_lease("daemon", "b", now + 1501, 1000).unwrap(),
        Some(2),
        "expired"
    );
    assert_eq!(
        a.acquire_lease("daemon", "a", now + 1600, 1000).unwrap(),
        None
    );

    let held = |owner: &str, epoch| Fence::Held {
        name: "daemon".into(),
        owner: owner.into(),
        epoch,
    };
    a.set_fence(held("a", 1));
    let e = a
        .save_run(&run("111111111111", Status::Pass, Utc::now()))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "state database {}: lease daemon of epoch 1 was taken over",
            db.name()
        )),
        "{e}"
    );
    a.set_fence(Fence::Standby);
    let e = a
        .save_run(&run("111111111111", Status::Pass, Utc::now()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not hold the lease"), "{e}");
    assert_eq!(
        a.run_count().unwrap(),
        0,
        "nothing of a refused write is kept"
    );
    b.set_fence(held("b", 2));
    b.save_run(&run("111111111111", Status::Pass, Utc::now()))
        .unwrap();
    assert_eq!(a.run_count().unwrap(), 1);

    b.release_lease("daemon", "b").unwrap();
    assert_eq!(
        a.acquire_lease("daemon", "a", now + 1700, 1000).unwrap(),
        Some(3),
        "released"
    );
    let e = b
        .save_run(&run("111111111111", Status::Pass, Utc::now()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("taken over"), "{e}");
}

/// IAM's service last-accessed reports kept between runs (`state::access`, the collector's cache):
/// per account and principal, replaced by newer ones, dropped once expired (text order is time
/// order on both engines), a row in another shape skipped; a replica without the lease keeps its
/// reports too (it audits the accounts it claims).
fn last_accessed_reports_are_kept(backend: Backend) {
    use maturity_agent::state::Fence;
    use maturity_checks::last_accessed::AccessCache;
    use maturity_checks::snapshot::{ServiceAccess, ServiceLastAccessed};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::connect(&database(backend, &dir)).unwrap());
    let cache = maturity_agent::state::access::StoreCache::new(store.clone(), |s| s);
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let hours = |h| now - Duration::hours(h);
    let report = |arn: &str, at: chrono::DateTime<Utc>| ServiceLastAccessed {
        arn: arn.into(),
        generated_at: at,
        services: vec![ServiceAccess {
            namespace: "s3".into(),
            last_authenticated: Some(at - Duration::days(3)),
        }],
    };
    let (a, b) = ("arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b");
    cache
        .save("1", &[report(a, hours(30)), report(b, hours(2))], hours(48))
        .unwrap();
    cache.save("2", &[report(a, hours(1))], hours(48)).unwrap();
    assert_eq!(
        cache.load("1").unwrap(),
        [report(a, hours(30)), report(b, hours(2))]
    );
    // A newer report replaces a's; the 24-hour expiry drops nothing else of account 1.
    cache.save("1", &[report(a, hours(0))], hours(24)).unwrap();
    assert_eq!(
        cache.load("1").unwrap(),
        [report(a, hours(0)), report(b, hours(2))]
    );
    // Expiry takes b (2 h old against a 1-hour limit, a few seconds' difference counts), and
    // leaves account 2 alone.
    cache.save("1", &[], hours(1)).unwrap();
    assert_eq!(cache.load("1").unwrap(), [report(a, hours(0))]);
    assert_eq!(cache.load("2").unwrap().len(), 1);
    // Every replica audits the accounts it claims, so every replica keeps reports, whatever it
    // holds of the lease: a report is a fact from AWS, and a newer one replaces it.
    store.set_fence(Fence::Standby);
    cache.save("3", &[report(a, hours(0))], hours(24)).unwrap();
    store.set_fence(Fence::Off);
    assert_eq!(cache.load("3").unwrap(), [report(a, hours(0))]);
    // A row another version wrote in another shape is skipped: its principal gets a new job.
    store
        .read(|db| {
            db.execute(
                "UPDATE service_last_accessed SET report = '{}' WHERE account_id = '2'",
                &[],
            )
        })
        .unwrap();
    assert!(cache.load("2").unwrap().is_empty());
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(super::Backend::Sqlite)
            }
            #[test]
            fn postgres() {
                super::$name(super::Backend::Postgres)
            }
        }
    )*};
}

/// The shared schedule: a cycle makes every target due; two replicas claiming at once get
/// different accounts, in order; a save goes through only while its claim holds (an expired and
/// re-claimed account is saved by its new claimer only); what is saved is served in the schedule's
/// order; an account no longer targeted leaves the schedule; a re-check claims an account only
/// while nobody else does.
fn claims_share_the_schedule(backend: Backend) {
    use maturity_agent::state::schedule::SaveTo;
    use maturity_checks::audit::Target;
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, &dir);
    let (a, b) = (Store::connect(&db).unwrap(), Store::connect(&db).unwrap());
    let ids: Vec<String> = (1..=6).map(|i| format!("{i:012}")).collect();
    let targets: Vec<Target> = ids
        .iter()
        .map(|id| Target {
            account_id: id.clone(),
            account_name: format!("name-{id}"),
            role_arn: Some(format!("arn:aws:iam::{id}:role/audit")),
            external_id: None,
        })
        .collect();
    let t0 = Utc::now();
    let started = a.start_cycle(&targets, t0, |_, _, _| Ok(())).unwrap();
    assert!(started.gone.is_empty());
    let cycle = a.latest_cycle().unwrap().unwrap();
    assert_eq!((cycle.run_id, cycle.pending), (started.run_id, 6));

    // Two replicas claim at once, from two threads: disjoint, and all six between them.
    let now = Utc::now().timestamp_millis();
    let (ca, cb) = std::thread::scope(|s| {
        let ta = s.spawn(|| a.claim_due("a", now, 1000, 3).unwrap());
        let tb = s.spawn(|| b.claim_due("b", now, 1000, 3).unwrap());
        (ta.join().unwrap(), tb.join().unwrap())
    });
    let mut all: Vec<&str> = ca
        .iter()
        .chain(&cb)
        .map(|c| c.target.account_id.as_str())
        .collect();
    all.sort();
    assert_eq!(all, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        ca[0].target,
        targets[ids
            .iter()
            .position(|i| *i == ca[0].target.account_id)
            .unwrap()]
    );
    assert!(
        a.claim_due("a", now + 10, 1000, 10).unwrap().is_empty(),
        "every due account is claimed"
    );
    assert!(
        a.claim_account(&ids[0], "events", now + 10, 1000)
            .unwrap()
            .is_none(),
        "a re-check waits for the audit's claim"
    );

    // b's claims run out; a takes them over (new epochs); b's late save keeps nothing.
    assert_eq!(a.renew_claims("a", now + 900, 1000).unwrap(), 3);
    let taken = a.claim_due("a", now + 1500, 1000, 10).unwrap();
    let mut taken_ids: Vec<&str> = taken.iter().map(|c| c.target.account_id.as_str()).collect();
    taken_ids.sort();
    let mut b_ids: Vec<&str> = cb.iter().map(|c| c.target.account_id.as_str()).collect();
    b_ids.sort();
    assert_eq!(
        taken_ids, b_ids,
        "only b's expired claims (a renewed its own)"
    );
    let at = Utc::now();
    let report = |subset: &[&str]| {
        sample::report(
            at,
            subset
                .iter()
                .map(|id| {
                    let v =
                        Verdict::new(format!("arn:aws:iam::{id}:root"), None, Status::Pass, "why");
                    sample::audited(
                        id,
                        &format!("name-{id}"),
                        vec![sample::check(
                            sample::meta("iam_root_mfa_enabled"),
                            Status::Pass,
                            vec![v],
                        )],
                    )
                })
                .collect(),
        )
    };
    let late: Vec<(String, i64)> = cb
        .iter()
        .map(|c| (c.target.account_id.clone(), c.epoch))
        .collect();
    let lost = b
        .save_claimed(
            SaveTo::Cycle(started.run_id),
            "b",
            &late,
            &report(&b_ids),
            |_, _, _| panic!("nothing held"),
        )
        .unwrap();
    assert!(lost.held.is_empty(), "{lost:?}");
    assert_eq!(
        lost.completed, None,
        "a save that held nothing ends no cycle"
    );
    let mine: Vec<(String, i64)> = ca
        .iter()
        .chain(&taken)
        .map(|c| (c.target.account_id.clone(), c.epoch))
        .collect();
    let everyone: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut written = vec![];
    let saved = a
        .save_claimed(
            SaveTo::Cycle(started.run_id),
            "a",
            &mine,
            &report(&everyone),
            |_, _, h| {
                written = h.to_vec();
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(saved.held.len(), 6);
    // The save of the cycle's last accounts ends it, once.
    let end = saved.completed.expect("the cycle's last save");
    assert_eq!(
        (end.run_id, end.accounts, end.failed),
        (started.run_id, 6, 0)
    );
    assert_eq!(end.result(), "success");
    assert_eq!(written.len(), 6);
    assert_eq!(a.latest_cycle().unwrap().unwrap().pending, 0);
    assert!(
        a.claim_due("a", now + 1600, 1000, 10).unwrap().is_empty(),
        "done for this cycle"
    );
    let served: Vec<String> = a
        .latest_report()
        .unwrap()
        .unwrap()
        .accounts
        .iter()
        .map(|x| x.account_id.clone())
        .collect();
    assert_eq!(served, ids, "served in the schedule's order");

    // A re-check claims the account now, and saves it in a run of its own.
    let c = b
        .claim_account(&ids[1], "b", now + 1700, 1000)
        .unwrap()
        .expect("free");
    let recheck = b
        .save_claimed(
            SaveTo::Recheck,
            "b",
            &[(ids[1].clone(), c.epoch)],
            &report(&[&ids[1]]),
            |_, _, _| Ok(()),
        )
        .unwrap();
    assert!(recheck.run_id > started.run_id && recheck.held == [ids[1].clone()]);
    assert_eq!(recheck.completed, None, "a re-check ends no cycle");
    assert!(
        a.claim_due("a", now + 1800, 1000, 10).unwrap().is_empty(),
        "a re-check does not make an account due"
    );

    // The next cycle without the sixth account: it leaves the schedule, the rest are due again.
    let next = a
        .start_cycle(&targets[..5], Utc::now(), |_, _, gone| {
            assert_eq!(gone, [ids[5].clone()]);
            Ok(())
        })
        .unwrap();
    assert_eq!(next.gone, [ids[5].clone()]);
    assert_eq!(a.latest_cycle().unwrap().unwrap().pending, 5);
    assert_eq!(a.served().unwrap().len(), 5);
    assert_eq!(a.latest_report().unwrap().unwrap().accounts.len(), 5);
}

/// A cycle ends with the save of its last due account, whichever replica makes it: two replicas
/// saving a cycle's last two accounts at the same moment (from two threads, twenty cycles) end it
/// exactly once between them, with its result (`success`, `partial` when an account could not be
/// audited, `error` when none could).
fn cycles_end_once_when_their_last_saves_race(backend: Backend) {
    use maturity_agent::state::schedule::SaveTo;
    use maturity_checks::audit::Target;
    use maturity_checks::report::AccountStatus;
    let dir = tempfile::tempdir().unwrap();
    let db = database(backend, &dir);
    let (a, b) = (Store::connect(&db).unwrap(), Store::connect(&db).unwrap());
    let ids = ["000000000001", "000000000002"];
    let targets: Vec<Target> = ids
        .iter()
        .map(|id| Target {
            account_id: (*id).to_owned(),
            account_name: format!("name-{id}"),
            role_arn: Some(format!("arn:aws:iam::{id}:role/audit")),
            external_id: None,
        })
        .collect();
    let account = |id: &str, failed: bool| {
        let mut r = run(id, Status::Pass, Utc::now());
        if failed {
            let x = &mut r.accounts[0];
            x.status = AccountStatus::Failed;
            x.error = Some("the audit role could not be assumed".into());
            x.checks.clear();
        }
        r
    };
    for i in 0..20 {
        let started = a
            .start_cycle(&targets, Utc::now(), |_, _, _| Ok(()))
            .unwrap();
        let now = Utc::now().timestamp_millis();
        let ca = a.claim_due("a", now, 60_000, 1).unwrap();
        let cb = b.claim_due("b", now, 60_000, 1).unwrap();
        assert_eq!((ca.len(), cb.len()), (1, 1), "cycle {i}");
        // Cycle i: account 1 fails when i % 3 == 1, both when i % 3 == 2.
        let fails = |c: &maturity_agent::state::schedule::Claim| match i % 3 {
            0 => false,
            1 => c.target.account_id == ids[0],
            _ => true,
        };
        let barrier = std::sync::Barrier::new(2);
        let save = |store: &Store, owner: &str, c: &maturity_agent::state::schedule::Claim| {
            let report = account(&c.target.account_id, fails(c));
            barrier.wait();
            store
                .save_claimed(
                    SaveTo::Cycle(started.run_id),
                    owner,
                    &[(c.target.account_id.clone(), c.epoch)],
                    &report,
                    |_, _, _| Ok(()),
                )
                .unwrap()
        };
        let (sa, sb) = std::thread::scope(|s| {
            let ta = s.spawn(|| save(&a, "a", &ca[0]));
            let tb = s.spawn(|| save(&b, "b", &cb[0]));
            (ta.join().unwrap(), tb.join().unwrap())
        });
        assert_eq!((sa.held.len(), sb.held.len()), (1, 1), "cycle {i}");
        let ends: Vec<_> = [sa.completed, sb.completed].into_iter().flatten().collect();
        assert_eq!(ends.len(), 1, "cycle {i} ended once: {sa:?} {sb:?}");
        let want = ["success", "partial", "error"][i % 3];
        assert_eq!(
            (ends[0].run_id, ends[0].accounts, ends[0].result()),
            (started.run_id, 2, want),
            "cycle {i}"
        );
        assert_eq!(a.latest_cycle().unwrap().unwrap().pending, 0);
    }
}

both!(
    cycles_end_once_when_their_last_saves_race,
    claims_share_the_schedule,
    runs_history_and_retention,
    regressions_alerts_and_outbox,
    rechecks_replace_their_account,
    newer_schema_is_refused,
    leases_fence_writes,
    last_accessed_reports_are_kept,
);

/// `state copy` from SQLite to PostgreSQL keeps every run, level, verdict, known status, alert and
/// notification; the next audit there compares with the copied baseline (no false regression, the
/// alert stays raised once), and new ids follow the copied ones. Copying into a database that
/// holds a state is refused.
#[test]
fn copy_sqlite_to_postgres_keeps_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let from = database(Backend::Sqlite, &dir);
    let to = database(Backend::Postgres, &dir);
    let source = Store::connect(&from).unwrap();
    let t0 = Utc::now() - Duration::hours(3);
    audit(&source, &run("111111111111", Status::Pass, t0));
    audit(
        &source,
        &run("111111111111", Status::Fail, t0 + Duration::hours(1)),
    );
    let mut two = run("111111111111", Status::Fail, t0 + Duration::hours(2));
    two.accounts
        .extend(run("222222222222", Status::Pass, t0).accounts);
    let (last_id, _) = audit(&source, &two);
    drop(source);

    let copied = state::copy::copy(&from, &to).unwrap();
    assert_eq!(
        copied.to_string(),
        "runs 3, account_runs 4, practice_levels 4, verdicts 4, last_known 2, alerts 3, regressions 3, outbox 3"
    );
    let (source, dest) = (Store::connect(&from).unwrap(), Store::connect(&to).unwrap());
    assert_eq!(
        serde_json::to_value(source.latest_report().unwrap()).unwrap(),
        serde_json::to_value(dest.latest_report().unwrap()).unwrap()
    );
    for id in ["111111111111", "222222222222"] {
        assert_eq!(
            serde_json::to_value(source.history(id, 10).unwrap()).unwrap(),
            serde_json::to_value(dest.history(id, 10).unwrap()).unwrap()
        );
        assert_eq!(source.last_known(id).unwrap(), dest.last_known(id).unwrap());
    }
    assert_eq!(
        serde_json::to_value(source.recent_regressions(10).unwrap()).unwrap(),
        serde_json::to_value(dest.recent_regressions(10).unwrap()).unwrap()
    );
    assert_eq!(dest.outbox_depth().unwrap()["am"], 3);

    // The audits continue in PostgreSQL: still failing is no new regression, and ids go on.
    let (id, plans) = audit(&dest, &run("111111111111", Status::Fail, Utc::now()));
    assert!(id > last_id, "{id} after {last_id}");
    assert!(
        plans
            .iter()
            .all(|p| p.regressions.is_empty() && p.notices.is_empty()),
        "{plans:?}"
    );
    assert_eq!(dest.recent_regressions(10).unwrap().len(), 3);
    assert_eq!(dest.active_alerts().unwrap().len(), 3);

    let e = state::copy::copy(&from, &to).unwrap_err();
    assert!(e.contains("already holds a state"), "{e}");
    // And back: PostgreSQL to a new SQLite file.
    let back = Database::Sqlite(dir.path().join("back.db"));
    let copied = state::copy::copy(&to, &back).unwrap();
    assert!(copied.to_string().starts_with("runs 4,"), "{copied}");
}

/// A database that cannot be reached is named in the error, the password nowhere.
#[test]
fn unreachable_postgres_is_named_without_password() {
    let port = integration_tests::free_port();
    let url = format!("postgres://agent@127.0.0.1:{port}/state?sslmode=disable&connect_timeout=2");
    let db = Database::Postgres(Box::new(
        PgTarget::new(&url, Some("s3cret".into()), None).unwrap(),
    ));
    let e = Store::connect(&db).err().unwrap().to_string();
    assert!(e.starts_with(&format!("state database {url}: ")), "{e}");
    assert!(!e.contains("s3cret"), "{e}");
    let e = state::check_usable(&db).unwrap_err();
    assert!(e.starts_with(&format!("state database {url}: ")), "{e}");
}

/// The agent's PostgreSQL sessions bound every statement (a hung one never holds the store) and
/// name the agent.
#[test]
fn postgres_sessions_bound_their_statements() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&database(Backend::Postgres, &dir)).unwrap();
    let setting = |name: &str| {
        let sql = format!("SELECT current_setting('{name}')");
        store
            .read(|db| db.query_one(&sql, &[])?.unwrap_or_default().text(0))
            .unwrap()
    };
    assert_eq!(setting("statement_timeout"), "1min");
    assert_eq!(setting("application_name"), "maturity-agent");
}
