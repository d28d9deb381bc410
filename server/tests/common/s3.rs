//! S3-compatible object storage for tests: moto's server (from PyPI), started per test on a
//! free port unless `AMTSWEG_TEST_S3` names one that is already running.

use std::process::{Child, Command, Stdio};

use amtsweg_server::config::Config;
use amtsweg_server::secret::Secret;

pub struct S3 {
    pub endpoint: String,
    child: Option<Child>,
}

impl S3 {
    pub async fn start() -> S3 {
        let s3 = match std::env::var("AMTSWEG_TEST_S3") {
            Ok(endpoint) => S3 {
                endpoint,
                child: None,
            },
            Err(_) => Self::spawn(),
        };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client.get(&s3.endpoint).send().await.is_ok() {
                return s3;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!(
            "no S3 test server on {} (is moto[server] installed?)",
            s3.endpoint
        );
    }

    fn spawn() -> S3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 to start moto (pip install 'moto[server]', as the test command does)");
        S3 {
            endpoint: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        }
    }

    /// A new, empty bucket; moto accepts the unsigned request that creates it.
    pub async fn bucket(&self) -> String {
        let name = format!("amtsweg-{}", uuid::Uuid::new_v4().simple());
        let r = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "bucket created: {}", r.status());
        name
    }

    /// Points `config` at `bucket` under a prefix, as an operator would.
    pub fn configure(&self, config: &mut Config, bucket: &str) {
        config.storage_url = Some(format!("s3://{bucket}/amtsweg"));
        config.s3_endpoint = Some(self.endpoint.clone());
        config.s3_region = Some("eu-central-1".into());
        config.s3_access_key_id = Some("amtsweg-test".into());
        config.s3_secret_access_key = Some(Secret::new("amtsweg-test-secret".into()));
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
