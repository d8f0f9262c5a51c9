//! [`TaskStore`]: where tasks are kept between the request that created them and the polls that read
//! them. [`MemoryTaskStore`] keeps them in the process; a shared store (Redis) lets another replica answer
//! the polls.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use futures_util::future::BoxFuture;

use super::record::{Task, TaskChange, TaskStatus};

/// How many tasks a store admits: live ones (not yet ended) per owner and in total, and kept ones (ended
/// but within their ttl) in total. A creation beyond is refused; nothing is dropped before its ttl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskLimits {
    /// Live tasks one owner may hold.
    pub max_live_per_owner: usize,
    /// Live tasks in total.
    pub max_live: usize,
    /// Tasks held in total, ended ones included.
    pub max_stored: usize,
}

/// Why a store refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The owner holds its maximum of live tasks.
    #[error("this caller has {0} tasks running, its maximum (tasks.max_per_caller): wait for one to end or cancel one")]
    OwnerFull(usize),
    /// The server holds its maximum of live tasks.
    #[error("the server runs its maximum of {0} tasks (tasks.max_running): try again later")]
    ServerFull(usize),
    /// The store holds its maximum of tasks, ended ones within their ttl included.
    #[error("the server holds its maximum of {0} tasks (tasks.max_stored): try again later")]
    Stored(usize),
    /// A `tasks/list` cursor that names no task (made up, or its task expired since).
    #[error("invalid cursor: it names no task (made up, or expired): list again from the start")]
    BadCursor,
    /// The store could not be reached.
    #[error("the task store is unavailable: {0}")]
    Unavailable(String),
}

/// A page of one owner's tasks, newest last, and where the next page starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskPage {
    /// The tasks of this page.
    pub tasks: Vec<Task>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
}

/// Where tasks are kept. Ownership is the caller's business ([`Tasks`](super::Tasks) compares
/// [`Task::owner`]); a store keeps what it is given, counts it against [`TaskLimits`], applies changes to
/// tasks that have not ended, and forgets each task once its ttl passed.
pub trait TaskStore: Send + Sync + fmt::Debug + 'static {
    /// Keeps a new task, unless a limit refuses it.
    fn create(&self, task: Task, limits: TaskLimits) -> BoxFuture<'_, Result<(), StoreError>>;
    /// The task with this id, unless unknown or past its ttl.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Task>, StoreError>>;
    /// Applies a change to a task that has not ended, and returns the task as it is after it (`None`:
    /// unknown or expired). A task that ended is returned unchanged.
    fn update<'a>(&'a self, id: &'a str, change: TaskChange) -> BoxFuture<'a, Result<Option<Task>, StoreError>>;
    /// Forgets a task at once: one that never became visible (its call was answered without it).
    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// One owner's tasks, oldest first, at most `limit`, after the task `after` (a previous page's cursor).
    fn list<'a>(
        &'a self,
        owner: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<TaskPage, StoreError>>;
}

/// Tasks in this process's memory: what a single replica needs.
#[derive(Debug, Default)]
pub struct MemoryTaskStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    tasks: HashMap<String, Task>,
    /// Creation order, for listing: (sequence, id). Expired entries are pruned as they are met.
    order: std::collections::BTreeMap<u64, String>,
    seq: HashMap<String, u64>,
    next: u64,
}

impl Inner {
    fn purge(&mut self, now: SystemTime) {
        let expired: Vec<String> = self.tasks.values().filter(|t| t.expired(now)).map(|t| t.id.clone()).collect();
        for id in expired {
            self.remove(&id);
        }
    }

    fn remove(&mut self, id: &str) {
        self.tasks.remove(id);
        if let Some(seq) = self.seq.remove(id) {
            self.order.remove(&seq);
        }
    }

    fn live(&self, owner: Option<&str>) -> usize {
        self.tasks.values().filter(|t| !t.status.is_terminal() && owner.is_none_or(|o| t.owner == o)).count()
    }
}

impl MemoryTaskStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many tasks it holds now, ended ones within their ttl included.
    pub fn len(&self) -> usize {
        let mut inner = self.lock();
        inner.purge(SystemTime::now());
        inner.tasks.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl TaskStore for MemoryTaskStore {
    fn create(&self, task: Task, limits: TaskLimits) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut inner = self.lock();
        let admitted = (|| {
            if inner.tasks.len() >= limits.max_stored {
                inner.purge(SystemTime::now());
                if inner.tasks.len() >= limits.max_stored {
                    return Err(StoreError::Stored(limits.max_stored));
                }
            }
            if inner.live(Some(&task.owner)) >= limits.max_live_per_owner {
                return Err(StoreError::OwnerFull(limits.max_live_per_owner));
            }
            if inner.live(None) >= limits.max_live {
                return Err(StoreError::ServerFull(limits.max_live));
            }
            let seq = inner.next;
            inner.next += 1;
            inner.order.insert(seq, task.id.clone());
            inner.seq.insert(task.id.clone(), seq);
            inner.tasks.insert(task.id.clone(), task);
            Ok(())
        })();
        drop(inner);
        Box::pin(std::future::ready(admitted))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Task>, StoreError>> {
        let mut inner = self.lock();
        let now = SystemTime::now();
        let found = match inner.tasks.get(id) {
            Some(task) if task.expired(now) => {
                inner.remove(id);
                None
            }
            found => found.cloned(),
        };
        drop(inner);
        Box::pin(std::future::ready(Ok(found)))
    }

    fn update<'a>(&'a self, id: &'a str, change: TaskChange) -> BoxFuture<'a, Result<Option<Task>, StoreError>> {
        let mut inner = self.lock();
        let now = SystemTime::now();
        let updated = match inner.tasks.get_mut(id) {
            Some(task) if !task.expired(now) => {
                if !task.status.is_terminal() {
                    apply(task, change, now);
                }
                Some(task.clone())
            }
            _ => None,
        };
        drop(inner);
        Box::pin(std::future::ready(Ok(updated)))
    }

    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.lock().remove(id);
        Box::pin(std::future::ready(Ok(())))
    }

    fn list<'a>(
        &'a self,
        owner: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<TaskPage, StoreError>> {
        let mut inner = self.lock();
        inner.purge(SystemTime::now());
        // A cursor is the id of the last task of the previous page.
        let start = match after {
            Some(id) => match inner.seq.get(id) {
                Some(&seq) => seq + 1,
                None => return Box::pin(std::future::ready(Err(StoreError::BadCursor))),
            },
            None => 0,
        };
        let mut tasks: Vec<Task> = inner
            .order
            .range(start..)
            .filter_map(|(_, id)| inner.tasks.get(id))
            .filter(|t| t.owner == owner)
            .take(limit + 1)
            .cloned()
            .collect();
        let next = (tasks.len() > limit).then(|| {
            tasks.truncate(limit);
            tasks.last().map(|t| t.id.clone()).unwrap_or_default()
        });
        drop(inner);
        Box::pin(std::future::ready(Ok(TaskPage { tasks, next })))
    }
}

/// Applies `change` to a task that has not ended.
pub(crate) fn apply(task: &mut Task, change: TaskChange, now: SystemTime) {
    match change {
        TaskChange::Message(message) => task.status_message = Some(message),
        TaskChange::Inputs(requests) => {
            task.status = if requests.is_empty() { TaskStatus::Working } else { TaskStatus::InputRequired };
            task.input_requests = requests;
        }
        TaskChange::Finish(status, outcome) => {
            task.status = status;
            task.outcome = outcome;
            task.input_requests.clear();
        }
    }
    task.updated_at = now;
}
