use std::sync::Mutex;

pub struct WorkerNotifier {
    sent: Mutex<Vec<(String, String)>>,
}

impl WorkerNotifier {
    pub fn new() -> Self {
        WorkerNotifier {
            sent: Mutex::new(Vec::new()),
        }
    }

    pub fn notify_work_available(&self, org: &str, queue: &str) -> usize {
        let mut sent = self.sent.lock().unwrap();
        sent.push((org.to_string(), queue.to_string()));
        sent.len()
    }
}

impl Default for WorkerNotifier {
    fn default() -> Self {
        Self::new()
    }
}
