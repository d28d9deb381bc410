//! Mail texts in German and English, plain text plus HTML. Mails name no personal data beyond
//! what the recipient already knows, and never the contents of applications.

use amtsweg_app::i18n::{t, tf, Lang};

use super::OutgoingMail;

pub enum Template<'a> {
    /// An administrator created a staff or citizen account for this address.
    AccountCreated { role: &'a str },
    /// An administrator created a staff account (or sent a new link): the owner sets the
    /// password through the single-use link, so nobody else ever knows it.
    StaffInvitation { token: &'a str, role: &'a str },
    /// Confirm the address given at registration.
    VerifyEmail { token: &'a str },
    /// Someone registered with an address that has an account already.
    AlreadyRegistered,
    /// A password reset was requested.
    ResetPassword { token: &'a str },
    /// The password was changed (or reset).
    PasswordChanged,
    /// Confirm a new address (sent to the new address).
    ConfirmNewEmail { token: &'a str },
    /// The address of the account was changed (sent to the old address).
    EmailChanged { new_email: &'a str },
    /// The account was deleted.
    AccountDeleted,
    /// A draft will be deleted on `date` unless it is continued.
    DraftReminder { service: &'a str, date: &'a str },
    /// An application was submitted (reference and service title only, never its contents).
    ApplicationReceived {
        reference: &'a str,
        service: &'a str,
    },
    /// Something new arrived in the citizen's postbox (never what it says).
    NewPostboxItem { reference: &'a str },
}

type Parts = (&'static str, Vec<String>, Option<(&'static str, String)>);

fn parts(template: &Template<'_>, lang: Lang, base: &str) -> Parts {
    let p = |k: &str| t(lang, k).to_string();
    match template {
        Template::AccountCreated { role } => (
            "mail.account_created.subject",
            vec![
                tf(
                    lang,
                    "mail.account_created.body",
                    &[("role", t(lang, &format!("role.{role}")))],
                ),
                p("mail.account_created.not_you"),
            ],
            Some(("mail.account_created.action", format!("{base}/anmelden"))),
        ),
        Template::StaffInvitation { token, role } => (
            "admin.mail.subject",
            vec![
                tf(
                    lang,
                    "admin.mail.body",
                    &[("role", t(lang, &format!("role.{role}")))],
                ),
                p("admin.mail.expiry"),
                p("admin.mail.not_you"),
            ],
            Some(("admin.mail.action", format!("{base}/passwort-neu/{token}"))),
        ),
        Template::VerifyEmail { token } => (
            "mail.verify.subject",
            vec![
                p("mail.verify.body"),
                p("mail.verify.expiry"),
                p("mail.not_you"),
            ],
            Some((
                "mail.verify.action",
                format!("{base}/konto/bestaetigen/{token}"),
            )),
        ),
        Template::AlreadyRegistered => (
            "mail.already.subject",
            vec![
                p("mail.already.body"),
                p("mail.already.reset"),
                p("mail.not_you"),
            ],
            Some(("mail.already.action", format!("{base}/passwort-vergessen"))),
        ),
        Template::ResetPassword { token } => (
            "mail.reset.subject",
            vec![
                p("mail.reset.body"),
                p("mail.reset.expiry"),
                p("mail.not_you"),
            ],
            Some(("mail.reset.action", format!("{base}/passwort-neu/{token}"))),
        ),
        Template::PasswordChanged => (
            "mail.password_changed.subject",
            vec![
                p("mail.password_changed.body"),
                p("mail.password_changed.not_you"),
            ],
            Some((
                "mail.password_changed.action",
                format!("{base}/passwort-vergessen"),
            )),
        ),
        Template::ConfirmNewEmail { token } => (
            "mail.confirm_email.subject",
            vec![
                p("mail.confirm_email.body"),
                p("mail.verify.expiry"),
                p("mail.not_you"),
            ],
            Some((
                "mail.confirm_email.action",
                format!("{base}/konto/email/{token}"),
            )),
        ),
        Template::EmailChanged { new_email } => (
            "mail.email_changed.subject",
            vec![
                tf(lang, "mail.email_changed.body", &[("email", new_email)]),
                p("mail.password_changed.not_you"),
            ],
            None,
        ),
        Template::DraftReminder { service, date } => (
            "mail.draft_reminder.subject",
            vec![tf(
                lang,
                "mail.draft_reminder.body",
                &[("service", service), ("date", date)],
            )],
            Some((
                "mail.draft_reminder.action",
                format!("{base}/konto/antraege"),
            )),
        ),
        Template::ApplicationReceived { reference, service } => (
            "mail.received.subject",
            vec![
                tf(
                    lang,
                    "mail.received.body",
                    &[("reference", reference), ("service", service)],
                ),
                p("mail.received.next"),
            ],
            Some(("mail.received.action", format!("{base}/konto/antraege"))),
        ),
        Template::NewPostboxItem { reference } => (
            "mail.new_item.subject",
            vec![
                tf(lang, "mail.new_item.body", &[("reference", reference)]),
                p("mail.new_item.privacy"),
            ],
            Some((
                "mail.new_item.action",
                format!("{base}/konto/postfach/{reference}"),
            )),
        ),
        Template::AccountDeleted => ("mail.deleted.subject", vec![p("mail.deleted.body")], None),
    }
}

pub fn render(template: &Template<'_>, lang: Lang, to: &str, public_url: &str) -> OutgoingMail {
    let base = public_url.trim_end_matches('/');
    let (subject_key, paragraphs, link) = parts(template, lang, base);
    let subject = t(lang, subject_key).to_string();
    let link = link.map(|(label, url)| (t(lang, label).to_string(), url));
    let greeting = t(lang, "mail.greeting");
    let footer = t(lang, "mail.footer");
    let mut text = format!("{greeting}\n\n");
    for p in &paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
    }
    if let Some((label, url)) = &link {
        text.push_str(&format!("{label}: {url}\n\n"));
    }
    text.push_str("-- \n");
    text.push_str(footer);
    text.push('\n');

    let mut html = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.5;color:#1b1b1b;max-width:36em\"><p>{}</p>",
        lang.code(),
        escape(&subject),
        escape(greeting)
    );
    for p in &paragraphs {
        html.push_str(&format!("<p>{}</p>", escape(p)));
    }
    if let Some((label, url)) = &link {
        html.push_str(&format!(
            "<p><a href=\"{}\" style=\"color:#004b76\">{}</a></p>",
            escape(url),
            escape(label)
        ));
    }
    html.push_str(&format!(
        "<hr><p style=\"font-size:0.875em;color:#4a4a4a\">{}</p></body></html>",
        escape(footer)
    ));
    OutgoingMail {
        to: to.to_string(),
        subject,
        text,
        html,
    }
}

pub fn escape(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_render_text_and_html() {
        for lang in Lang::ALL {
            let m = render(
                &Template::AccountCreated { role: "caseworker" },
                lang,
                "a@example.org",
                "https://portal.example/",
            );
            assert!(!m.subject.is_empty());
            assert!(m.text.contains("https://portal.example/anmelden"));
            assert!(m.html.contains("href=\"https://portal.example/anmelden\""));
            assert!(
                !m.text.contains("role."),
                "untranslated key in {lang:?}: {}",
                m.text
            );
        }
    }

    #[test]
    fn every_template_is_translated_and_carries_no_placeholder() {
        let all = [
            Template::AccountCreated { role: "citizen" },
            Template::StaffInvitation {
                token: "tok",
                role: "caseworker",
            },
            Template::VerifyEmail { token: "tok" },
            Template::AlreadyRegistered,
            Template::ResetPassword { token: "tok" },
            Template::PasswordChanged,
            Template::ConfirmNewEmail { token: "tok" },
            Template::EmailChanged {
                new_email: "new@example.org",
            },
            Template::AccountDeleted,
            Template::DraftReminder {
                service: "Hundesteuer",
                date: "2026-12-24",
            },
            Template::ApplicationReceived {
                reference: "A7K-3M9-XQ2",
                service: "Hundesteuer",
            },
            Template::NewPostboxItem {
                reference: "A7K-3M9-XQ2",
            },
        ];
        for lang in Lang::ALL {
            for tpl in &all {
                let m = render(tpl, lang, "a@example.org", "https://p.example");
                let leftover = [".subject", ".body", ".action", ".expiry", "not_you", "{"];
                assert!(
                    !leftover.iter().any(|k| m.text.contains(k)),
                    "{lang:?}: {}",
                    m.text
                );
            }
        }
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
