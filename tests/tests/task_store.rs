//! `Server::task_store`: tasks are kept in the store the application gives (here one that counts what it is
//! asked, over the memory store), and every read and change goes through it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::BoxFuture;
use mcp_runtime::prelude::*;
use mcp_runtime::tasks::{MemoryTaskStore, StoreError, Task, TaskChange, TaskLimits, TaskPage, TaskStore};
use mcp_tests::Harness;
use serde_json::json;

#[derive(Debug, Default)]
struct Counting {
    inner: MemoryTaskStore,
    creates: Arc<AtomicUsize>,
    reads: Arc<AtomicUsize>,
}

impl TaskStore for Counting {
    fn create(&self, task: Task, limits: TaskLimits) -> BoxFuture<'_, Result<(), StoreError>> {
        self.creates.fetch_add(1, Ordering::Relaxed);
        self.inner.create(task, limits)
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Task>, StoreError>> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.get(id)
    }
    fn update<'a>(&'a self, id: &'a str, change: TaskChange) -> BoxFuture<'a, Result<Option<Task>, StoreError>> {
        self.inner.update(id, change)
    }
    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.remove(id)
    }
    fn list<'a>(
        &'a self,
        owner: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<TaskPage, StoreError>> {
        self.inner.list(owner, after, limit)
    }
}

/// Answers after a moment.
#[mcp_tool(task = "required")]
async fn later() -> &'static str {
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    "later"
}

#[tokio::test]
async fn tasks_live_in_the_store_the_application_gives() {
    let store = Counting::default();
    let (creates, reads) = (Arc::clone(&store.creates), Arc::clone(&store.reads));
    let mut h = Harness::start(Server::new("s", "1.0.0").tool(later::SPEC).task_store(store)).await;
    let created = h.request(1, "tools/call", json!({"name": "later", "arguments": {}, "task": {}})).await;
    let id = created["result"]["task"]["taskId"].as_str().expect("a task").to_owned();
    assert_eq!(creates.load(Ordering::Relaxed), 1);
    let reads_before = reads.load(Ordering::Relaxed);
    let result = h.request(2, "tasks/result", json!({"taskId": id})).await;
    assert_eq!(mcp_tests::result_text(&result["result"]), "later", "{result}");
    assert!(reads.load(Ordering::Relaxed) > reads_before, "tasks/result read the task from the store");
    h.close_input().await;
    h.finished().await.unwrap();
}
