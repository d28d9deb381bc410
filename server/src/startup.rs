//! Builds the application from a configuration: database, migrations, background workers, router.
//! Tests call `Application::build` with port 0 and a fresh database.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, Request};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel, DefaultPredicate};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::accounts::session::{self, Store};
use crate::config::Config;
use crate::db::{Db, DbOpenError};
use crate::http::{csrf, headers, origin};
use crate::mail::transport::Transport;
use crate::mail::MailWorker;
use crate::state::AppState;

/// Forms are small; uploads (which need more) lift this limit on their own route.
const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Database(#[from] DbOpenError),
    #[error("cannot listen on {0}: {1}")]
    Listen(std::net::SocketAddr, std::io::Error),
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    worker: Option<MailWorker>,
    sessions: Store,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartError> {
        config.validate().map_err(StartError::Config)?;
        let keyring = config.keyring().map_err(StartError::Config)?;
        let db = Db::connect(&config.database_url(), config.db_max_connections)
            .await?
            .with_keys(keyring);
        db.migrate().await?;
        let transport = match &config.smtp_url {
            Some(url) => {
                Transport::smtp(url.expose(), Duration::from_secs(config.mail_timeout_secs))
                    .map_err(StartError::Config)?
            }
            None => Transport::Files(config.mail_dir()),
        };
        let from = config
            .mail_from
            .parse()
            .map_err(|_| StartError::Config("invalid AMTSWEG_MAIL_FROM".into()))?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| StartError::Listen(config.listen, e))?;
        let sessions = Store::connect(&config.database_url(), db.backend)
            .await
            .map_err(|e| StartError::Database(DbOpenError::Connect(e)))?
            .taking_turns_with(&db);
        let payment_providers = match &config.payment_providers {
            Some(path) => {
                crate::payments::online::PaymentProviders::load(path).map_err(StartError::Config)?
            }
            None => crate::payments::online::PaymentProviders::default(),
        };
        let storage = config
            .storage()
            .map_err(|e| StartError::Config(e.to_string()))?;
        tracing::info!(storage = %storage.describe(), "file storage");
        let state = AppState::new(crate::state::Shared {
            payment_providers,
            db: db.clone(),
            mail_wakeup: Arc::new(Notify::new()),
            storage,
            home_services: Arc::new(crate::cache::TtlCache::new(Duration::from_secs(10))),
            catalogue: Arc::new(crate::cache::TtlCache::new(Duration::from_secs(10))),
            service_titles: Arc::new(crate::cache::TtlCache::new(Duration::from_secs(10))),
            config: Arc::new(config),
        });
        let worker = MailWorker {
            db,
            transport: Arc::new(transport),
            from,
            give_up_after: state.config.mail_give_up_after(),
            first_retry: Duration::from_secs(state.config.mail_retry_secs),
            send_timeout: Duration::from_secs(state.config.mail_timeout_secs),
            wakeup: state.mail_wakeup.clone(),
        };
        Ok(Self {
            listener,
            router: router(state.clone(), sessions.clone()),
            state,
            worker: Some(worker),
            sessions,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C / SIGTERM: in-flight requests finish, then background workers stop.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_with_shutdown(shutdown_signal()).await
    }

    pub async fn run_with_shutdown(
        mut self,
        signal: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = self
            .worker
            .take()
            .map(|w| tokio::spawn(w.run(stop_rx.clone())));
        let payments = tokio::spawn(crate::payments::online::poll_loop(
            self.state.clone(),
            stop_rx.clone(),
        ));
        let webhooks = tokio::spawn(crate::webhooks::worker::run(
            self.state.clone(),
            stop_rx.clone(),
        ));
        let maintenance = tokio::spawn(crate::jobs::maintenance(
            self.state.clone(),
            self.sessions.clone(),
            stop_rx,
        ));
        tracing::info!(address = %self.listener.local_addr()?, "Amtsweg is listening");
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(signal)
        .await?;
        let _ = stop_tx.send(true);
        if let Some(w) = worker {
            let _ = w.await;
        }
        let _ = maintenance.await;
        let _ = payments.await;
        let _ = webhooks.await;
        tracing::info!("Amtsweg stopped");
        Ok(())
    }
}

pub fn router(state: AppState, sessions: Store) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    // The outer limit admits the largest upload (plus multipart framing); forms and other
    // extractors stay at BODY_LIMIT.
    let upload_limit = usize::try_from(state.config.max_upload_mb * 1024 * 1024 + 1024 * 1024)
        .unwrap_or(usize::MAX);
    let mut app = Router::new()
        .merge(crate::site::router())
        .merge(crate::accounts::router())
        .merge(crate::applications::router())
        .merge(crate::backoffice::router())
        .merge(crate::postbox::router())
        .merge(crate::payments::router())
        .merge(crate::assets::router());
    if state.config.is_dev() {
        app = app.merge(crate::dev::router());
    }
    // `Router::layer` wraps outward: the last layer added sees the request first.
    let web = app
        .fallback(|| async { crate::error::AppError::NotFound })
        .layer(from_fn(csrf::verify_csrf))
        .layer(from_fn_with_state(state.clone(), origin::check_origin))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(upload_limit))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(CatchPanicLayer::new())
        .layer(from_fn_with_state(state.clone(), headers::error_pages))
        .layer(session::layer(sessions, &state.config))
        .layer(from_fn(headers::session_store_errors));
    // The API knows neither sessions nor CSRF tokens nor error pages: keys only, and problem
    // details (see `crate::api`).
    let api = crate::api::router(state.clone())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(CatchPanicLayer::new());
    web.merge(api)
        // Packages, PDFs and images are compressed already: compressing them again costs CPU
        // and drops Content-Length from the download. Pages are gzipped, not brotli'd: at the
        // fastest levels gzip (zlib-rs) takes a half to two thirds of the brotli crate's CPU for
        // a page and the result is about 15 % larger, a few hundred bytes (BENCHMARKS.md).
        // Stylesheet and icons are brotli'd once at build time (assets.rs).
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Fastest)
                .compress_when(
                    DefaultPredicate::new()
                        .and(NotForContentType::const_new("application/zip"))
                        .and(NotForContentType::const_new("application/pdf")),
                ),
        )
        .layer(from_fn_with_state(state.clone(), headers::security_headers))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested, finishing in-flight requests");
}
