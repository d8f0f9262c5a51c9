use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use super::*;
use crate::request::AuthMethod;

fn config() -> TasksConfig {
    TasksConfig { max_per_caller: 2, max_running: 3, max_stored: 4, page_size: 2, ..TasksConfig::default() }
}

fn tasks() -> Tasks {
    Tasks::new(config(), Arc::new(MemoryTaskStore::new()))
}

async fn create(tasks: &Tasks, owner: &str) -> Result<(Task, TaskRun), ErrorObject> {
    tasks.create(owner.to_owned(), "recount", ProtocolVersion::V2025_11_25, None, None).await
}

fn origin() -> Origin {
    Origin {
        at: SystemTime::now(),
        request_id: RequestId::Number(1.into()),
        trace: None,
        principal: Arc::new(Principal::anonymous()),
        transport: TransportKind::InProcess,
        version: ProtocolVersion::V2025_11_25,
        source: None,
        client: Arc::default(),
        tool: "recount".into(),
    }
}

/// Records each ended task through `record`, from the next creation on.
fn record_with(tasks: &Tasks, record: impl Fn(TaskEnded) + Send + Sync + 'static) {
    let record = Arc::new(record);
    tasks.record_with(Arc::new(move || {
        let record = Arc::clone(&record);
        Box::pin(async move {
            let recorder: Recorder = Box::new(move |ended| {
                record(ended);
                Box::pin(async {})
            });
            Ok(recorder)
        })
    }));
}

async fn finish(tasks: &Tasks, run: &TaskRun, status: TaskStatus) -> Option<Task> {
    let outcome = Some(TaskOutcome::ToolResult(json!({"content": []})));
    tasks.finish(run, status, outcome, Outcome::Ok, origin(), Instant::now()).await
}

#[test]
fn owners_are_principals_or_sessions() {
    let key = Principal::new("ops", ["a"], AuthMethod::ApiKey);
    assert_eq!(Tasks::owner_of(&key, None), "api-key:ops");
    let session = Session::with_id("s1");
    assert_eq!(Tasks::owner_of(&key, Some(&session)), "api-key:ops", "an authenticated caller owns across sessions");
    assert_eq!(Tasks::owner_of(&Principal::anonymous(), Some(&session)), "session:s1");
    assert_eq!(Tasks::owner_of(&Principal::anonymous(), None), "anonymous");
}

#[tokio::test]
async fn ids_are_random_and_only_the_owner_sees_a_task() {
    let tasks = tasks();
    let (a, _run_a) = create(&tasks, "alice").await.unwrap();
    let (b, _run_b) = create(&tasks, "alice").await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(a.id.len(), 22, "128 bits, URL-safe base64");
    assert_eq!(a.ttl, TasksConfig::default().ttl);
    assert_eq!(tasks.get("alice", &a.id).await.unwrap().status, TaskStatus::Working);
    let foreign = tasks.get("mallory", &a.id).await.unwrap_err();
    let unknown = tasks.get("mallory", "no-such-task").await.unwrap_err();
    assert_eq!(foreign.code, ErrorCode::INVALID_PARAMS);
    assert_eq!(foreign.code, unknown.code, "another's task reads as an unknown one");
    assert!(tasks.cancel("mallory", &a.id).await.is_err());
    assert_eq!(tasks.get("alice", &a.id).await.unwrap().status, TaskStatus::Working, "mallory cancelled nothing");
}

#[tokio::test]
async fn caps_refuse_beyond_and_admit_again_when_a_task_ends() {
    let tasks = tasks();
    let (_, first) = create(&tasks, "alice").await.unwrap();
    create(&tasks, "alice").await.unwrap();
    let refused = create(&tasks, "alice").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::RATE_LIMITED);
    assert_eq!(refused.data.as_ref().unwrap()["limit"], "tasks");
    assert!(refused.message.contains("tasks.max_per_caller"), "{}", refused.message);
    create(&tasks, "bob").await.unwrap();
    let full = create(&tasks, "carol").await.unwrap_err();
    assert!(full.message.contains("tasks.max_running"), "{}", full.message);
    finish(&tasks, &first, TaskStatus::Completed).await.unwrap();
    create(&tasks, "alice").await.expect("a live place was freed");
    // Four kept (one ended within its ttl): the store is full even though fewer run.
    let stored = create(&tasks, "dave").await.unwrap_err();
    assert!(stored.message.contains("tasks.max_stored"), "{}", stored.message);
}

#[tokio::test]
async fn a_task_is_kept_for_its_ttl_and_then_forgotten() {
    let tasks = tasks();
    let ttl = Some(Duration::from_millis(150));
    let (task, _run) = tasks.create("alice".into(), "t", ProtocolVersion::V2025_11_25, ttl, None).await.unwrap();
    assert_eq!(task.ttl, Duration::from_millis(150));
    assert!(tasks.get("alice", &task.id).await.is_ok());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(tasks.get("alice", &task.id).await.is_err(), "dropped once its ttl passed");
    let long = Some(Duration::from_secs(365 * 24 * 3600));
    let (task, _run) = tasks.create("alice".into(), "t", ProtocolVersion::V2025_11_25, long, None).await.unwrap();
    assert_eq!(task.ttl, TasksConfig::default().max_ttl, "a ttl above tasks.max_ttl is cut to it");
}

#[tokio::test]
async fn an_ended_task_never_changes_and_cancel_wins_a_race() {
    let tasks = tasks();
    let recorded = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&recorded);
    record_with(&tasks, move |ended| {
        assert_eq!(ended.status, TaskStatus::Cancelled);
        assert!(ended.outcome.is_none(), "a cancelled task has no result");
        assert_eq!(ended.reason, Outcome::Cancelled, "the status the store kept decides the reason");
        seen.fetch_add(1, Ordering::Relaxed);
    });
    let (task, run) = create(&tasks, "alice").await.unwrap();
    let (cancelled, live) = tasks.cancel("alice", &task.id).await.unwrap();
    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    assert!(live);
    let (again, live) = tasks.cancel("alice", &task.id).await.unwrap();
    assert!(again.status == TaskStatus::Cancelled && !live, "a second cancel finds it ended");
    assert!(run.cancel.is_cancelled(), "the runner is told to stop");
    // The tool returned just as the cancel came: the task stays cancelled, without a result.
    let ended = finish(&tasks, &run, TaskStatus::Completed).await.unwrap();
    assert_eq!(ended.status, TaskStatus::Cancelled);
    assert!(ended.outcome.is_none());
    assert_eq!(recorded.load(Ordering::Relaxed), 1, "one outcome record");
    assert_eq!(tasks.running_count(), 0);
}

#[tokio::test]
async fn lists_page_by_cursor_and_show_only_the_owners_tasks() {
    let tasks = Tasks::new(TasksConfig { page_size: 2, ..TasksConfig::default() }, Arc::new(MemoryTaskStore::new()));
    let mut ids = Vec::new();
    for owner in ["alice", "bob", "alice", "alice", "bob", "alice", "alice"] {
        let (task, _run) = create(&tasks, owner).await.unwrap();
        if owner == "alice" {
            ids.push(task.id);
        }
    }
    let (mut listed, mut cursor) = (Vec::new(), None);
    for _ in 0..3 {
        let page = tasks.list("alice", cursor.as_deref()).await.unwrap();
        assert!(page.tasks.len() <= 2);
        listed.extend(page.tasks.into_iter().map(|t| t.id));
        cursor = page.next;
    }
    assert_eq!(listed, ids, "every one of alice's tasks once, oldest first");
    assert!(cursor.is_none(), "three pages of two hold five");
    let made_up = tasks.list("alice", Some("made-up")).await.unwrap_err();
    assert_eq!(made_up.code, ErrorCode::INVALID_PARAMS);
}

#[tokio::test]
async fn requests_to_the_client_make_a_task_input_required_until_answered() {
    let tasks = tasks();
    let (task, run) = create(&tasks, "alice").await.unwrap();
    let asking = run.clone();
    let ask = tokio::spawn(async move {
        asking.request("elicitation/create", json!({"message": "sure?"}), Duration::from_secs(5)).await
    });
    let key = loop {
        let seen = tasks.get("alice", &task.id).await.unwrap();
        if let Some(key) = seen.input_requests.keys().next() {
            assert_eq!(seen.status, TaskStatus::InputRequired);
            break key.clone();
        }
        tokio::task::yield_now().await;
    };
    let answered = tasks.respond("alice", &task.id, Map::from_iter([(key, json!({"action": "accept"}))])).await;
    assert_eq!(answered.unwrap(), 1);
    assert_eq!(ask.await.unwrap().unwrap()["action"], "accept");
    let after = tasks.get("alice", &task.id).await.unwrap();
    assert_eq!(after.status, TaskStatus::Working);
    assert!(after.input_requests.is_empty());
}

#[tokio::test]
async fn shutdown_waits_for_the_grace_then_cancels() {
    let tasks = tasks();
    let (quick_task, quick) = create(&tasks, "alice").await.unwrap();
    let (slow_task, slow) = create(&tasks, "alice").await.unwrap();
    let runner = |run: TaskRun, took: Duration, tasks: Tasks| async move {
        let status = tokio::select! {
            () = tokio::time::sleep(took) => TaskStatus::Completed,
            () = run.cancel.cancelled() => TaskStatus::Cancelled,
        };
        tasks.finish(&run, status, None, Outcome::Ok, origin(), Instant::now()).await;
    };
    tasks.spawn(runner(quick, Duration::from_millis(50), tasks.clone()));
    tasks.spawn(runner(slow, Duration::from_secs(60), tasks.clone()));
    let began = Instant::now();
    tasks.shutdown(Duration::from_millis(300)).await;
    assert!(began.elapsed() < Duration::from_secs(5));
    assert_eq!(tasks.get("alice", &quick_task.id).await.unwrap().status, TaskStatus::Completed);
    assert_eq!(tasks.get("alice", &slow_task.id).await.unwrap().status, TaskStatus::Cancelled);
    assert!(create(&tasks, "alice").await.is_err(), "no task starts once shutdown began");
}

#[tokio::test]
async fn a_task_that_outlived_its_ttl_still_gets_its_outcome_record() {
    let tasks = tasks();
    let ttl = Some(Duration::from_millis(30));
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&recorded);
    record_with(&tasks, move |ended| seen.lock().unwrap().push((ended.id, ended.status, ended.reason)));
    let (task, run) = tasks.create("alice".into(), "t", ProtocolVersion::V2025_11_25, ttl, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    let error = TaskOutcome::RpcError(ErrorObject::internal("ran past its ttl"));
    let ended = tasks.finish(&run, TaskStatus::Failed, Some(error), Outcome::Timeout, origin(), Instant::now()).await;
    assert!(ended.is_none(), "the store dropped it at its ttl");
    assert_eq!(*recorded.lock().unwrap(), [(task.id, TaskStatus::Failed, Outcome::Timeout)]);
}

#[tokio::test]
async fn a_creation_whose_record_cannot_be_reserved_makes_no_task() {
    let tasks = tasks();
    tasks.record_with(Arc::new(|| {
        Box::pin(async { Err(ErrorObject::new(ErrorCode::RATE_LIMITED, "the audit queue is full")) })
    }));
    let refused = create(&tasks, "alice").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::RATE_LIMITED);
    assert!(tasks.list("alice", None).await.unwrap().tasks.is_empty(), "nothing was created");
    assert_eq!(tasks.running_count(), 0);
}
