use leptos::prelude::*;

use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

pub struct ProfilePage {
    pub state: FormState,
    /// Municipalities to choose from when the postal code covers several: (AGS, label).
    pub municipalities: Vec<(String, String)>,
    /// Where the profile was used: (date, what).
    pub usages: Vec<(String, String)>,
    pub saved: bool,
}

pub fn profile(ctx: &PageCtx, page: ProfilePage) -> String {
    render_page(ctx, crate::i18n::t(ctx.lang, "profile.title"), move || {
        let s = page.state;
        let birth = DateValue {
            day: s.value("birth.day"),
            month: s.value("birth.month"),
            year: s.value("birth.year"),
        };
        view! {
            <p><a class="kern-link" href="/konto">{tr("account.back")}</a></p>
            <h1>{tr("profile.title")}</h1>
            <p>{tr("profile.intro")}</p>
            {page.saved.then(|| view! {
                <Alert kind=AlertKind::Success title=tr("profile.saved.title") announce=true>
                    <p>{tr("profile.saved.text")}</p>
                </Alert>
            })}
            <ErrorSummary errors=s.errors.clone()/>
            <form method="post" action="/konto/profil" novalidate>
                <CsrfField/>
                <TextInput name="given_name" label=tr("profile.given_name") autocomplete="given-name"
                    value=s.value("given_name") error=s.error("given_name") max_length=100/>
                <TextInput name="family_name" label=tr("profile.family_name") autocomplete="family-name"
                    value=s.value("family_name") error=s.error("family_name") max_length=100/>
                <DateInput name="birth" legend=tr("profile.birth_date") hint=tr("profile.birth_hint")
                    value=birth error=s.error("birth") autocomplete_bday=true/>
                <fieldset class="kern-fieldset">
                    <legend class="kern-label kern-heading-medium">{tr("profile.address")}</legend>
                    <TextInput name="street" label=tr("profile.street") autocomplete="address-line1"
                        value=s.value("street") error=s.error("street") max_length=100/>
                    <TextInput name="house_number" label=tr("profile.house_number") width="5"
                        value=s.value("house_number") error=s.error("house_number") max_length=10/>
                    <TextInput name="postal_code" label=tr("profile.postal_code") autocomplete="postal-code"
                        inputmode="numeric" width="5" value=s.value("postal_code") error=s.error("postal_code") max_length=5/>
                    {(!page.municipalities.is_empty()).then(|| view! {
                        <Radios name="ags" legend=tr("profile.municipality") hint=tr("profile.municipality_hint")
                            options=page.municipalities.clone() selected=s.value("ags") error=s.error("ags")/>
                    })}
                    <TextInput name="place" label=tr("profile.place") autocomplete="address-level2"
                        value=s.value("place") error=s.error("place") max_length=100/>
                </fieldset>
                <TextInput name="phone" label=tr("profile.phone") input_type="tel" autocomplete="tel"
                    value=s.value("phone") error=s.error("phone") max_length=30/>
                <Button kind=ButtonKind::Primary label=tr("profile.submit")/>
            </form>
            <h2 class="kern-heading-medium">{tr("profile.usage_title")}</h2>
            {if page.usages.is_empty() {
                view! { <p>{tr("profile.usage_none")}</p> }.into_any()
            } else {
                view! {
                    <ul class="kern-list">
                        {page.usages.into_iter().map(|(when, what)| view! { <li>{format!("{when}: {what}")}</li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        }
    })
}
