mod failures;
mod lifecycle;
mod wire;

use super::{CreatePayment, XBezahlClient};
use crate::domain::Money;
use crate::payments::xbezahl_fake::FakeProvider;

pub(super) const USER: &str = "amtsweg-test";
pub(super) const PASS: &str = "s3cret-pass-word";

pub(super) fn payment(request_id: &str, cents: i64) -> CreatePayment {
    CreatePayment {
        request_id: request_id.to_owned(),
        amount: Money(cents),
        purpose: "RF18539007547034".to_owned(),
        description: "Bewohnerparkausweis Zone B".to_owned(),
        redirect_url: "https://amtsweg.example/zahlung/zurueck?n=1".to_owned(),
        items: vec![],
    }
}

pub(super) fn client_for(fake: &FakeProvider) -> XBezahlClient {
    XBezahlClient::new(fake.client_config(USER, PASS))
}
