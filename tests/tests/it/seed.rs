//! The demo data loader (`make seed`) against a local stack, small.

use integration_tests::*;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_data_loads_through_the_api_and_a_second_run_adds_nothing() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin_token().await;
    let scale = devstack::seed::Scale {
        employers: 2,
        jobs_per_employer: 6,
        seekers: 3,
    };
    let first = devstack::seed::run(&s.base, &admin, s.running.app, scale).await.expect("seeded");
    assert_eq!((first.categories, first.companies, first.jobs, first.seekers), (10, 2, 12, 3));
    let jobs = s.get("/jobs?limit=100", None).await;
    assert_eq!(jobs.status, StatusCode::OK);
    let open = jobs.body["items"].as_array().unwrap().len();
    assert!(open > 0 && open <= 12);
    let cats = s.get("/categories?limit=100", None).await.body;
    let counted: i64 = cats["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["open_job_count"].as_i64().unwrap())
        .sum();
    assert_eq!(counted as usize, open, "category counts match the open jobs");
    let login = s.login(&first.demo_seeker, devstack::seed::DEMO_PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK);

    let again = devstack::seed::run(&s.base, &admin, s.running.app, scale)
        .await
        .expect("second run");
    assert_eq!((again.categories, again.companies, again.jobs, again.seekers), (0, 0, 0, 0));
    s.shutdown().await;
}
