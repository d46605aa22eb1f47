use std::time::Duration;

use sample_sdk::WorkflowWorkerConfig;

#[test]
fn struct_update_keeps_other_defaults() {
    let config = WorkflowWorkerConfig {
        enable_notifications: false,
        ..Default::default()
    };
    assert_eq!(config.no_work_backoff, Duration::from_millis(100));
    assert_eq!(config.max_concurrent, 10);
}
