//! The pay page, where a person chooses "Bezahlen" or "Abbrechen" and is sent back.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::state::Shared;
use crate::payments::xbezahl::PaymentStatus;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"de\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} – Testbezahldienst</title></head>\n<body>\
         <p><strong>Testbezahldienst</strong> – hier fließt kein Geld.</p>\n{body}</body></html>\n"
    )
}

pub(super) async fn pay_page(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    let mut book = shared.book();
    book.counters.pay_page_views += 1;
    let Some(stored) = book
        .transactions
        .iter()
        .find(|s| s.public.transaction_id == id)
    else {
        return (
            StatusCode::NOT_FOUND,
            Html(page("Unbekannt", "<h1>Zahlung nicht gefunden</h1>\n")),
        )
            .into_response();
    };
    let tx = &stored.public;
    let body = if tx.status == PaymentStatus::Initial {
        let items: String = tx
            .items
            .iter()
            .map(|(d, m)| format!("<li>{} – {}</li>\n", escape(d), escape(&m.format_de())))
            .collect();
        format!(
            "<h1>Zahlung</h1>\n<p>{description}</p>\n<ul>\n{items}</ul>\n\
             <p>Betrag: <strong>{amount}</strong><br>Verwendungszweck: {purpose}</p>\n\
             <form method=\"post\">\n\
             <button type=\"submit\" name=\"action\" value=\"pay\">Bezahlen</button>\n\
             <button type=\"submit\" name=\"action\" value=\"cancel\">Abbrechen</button>\n\
             </form>\n",
            description = escape(&tx.description),
            amount = escape(&tx.amount.format_de()),
            purpose = escape(&tx.purpose),
        )
    } else {
        format!(
            "<h1>Zahlung abgeschlossen</h1>\n<p>Status: {}</p>\n\
             <p><a href=\"{}\">Zurück zum Portal</a></p>\n",
            escape(tx.status.as_wire()),
            escape(&tx.redirect_url),
        )
    };
    Html(page("Zahlung", &body)).into_response()
}

#[derive(Deserialize)]
pub(super) struct PayForm {
    action: String,
}

pub(super) async fn pay_page_submit(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Form(form): Form<PayForm>,
) -> Response {
    let mut book = shared.book();
    book.counters.pay_page_submissions += 1;
    let Some(stored) = book
        .transactions
        .iter_mut()
        .find(|s| s.public.transaction_id == id)
    else {
        return (StatusCode::NOT_FOUND, "Zahlung nicht gefunden").into_response();
    };
    let tx = &mut stored.public;
    // Only an open transaction can change; a second click (back button, double submit) just
    // returns the citizen to the portal, as real pay pages do.
    if tx.status == PaymentStatus::Initial {
        match form.action.as_str() {
            "pay" => {
                tx.status = PaymentStatus::Payed;
                tx.payment_method = Some("OTHER".to_owned());
            }
            "cancel" => tx.status = PaymentStatus::Canceled,
            _ => return (StatusCode::BAD_REQUEST, "Unbekannte Aktion").into_response(),
        }
    }
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, tx.redirect_url.clone())],
    )
        .into_response()
}
