pub struct Mailer {
    pub notifier: String,
}

pub struct AppState {
    pub org: String,
    pub jobs: Vec<String>,
}

impl AppState {
    pub fn new(org: &str) -> Self {
        AppState {
            org: org.to_string(),
            jobs: Vec::new(),
        }
    }

    pub fn push(&mut self, job: &str) {
        self.jobs.push(job.to_string());
    }
}

pub fn mail() -> Mailer {
    Mailer {
        notifier: "smtp".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_keeps_jobs() {
        let mut state = AppState::new("acme");
        state.push("a");
        assert_eq!(state.jobs, ["a"]);
        assert_eq!(mail().notifier, "smtp");
    }
}
