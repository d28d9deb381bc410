#!/bin/sh
# Seeds the fuzz corpora (git-ignored) from the fixtures in the repository: camt statements,
# the demo form definitions, the demo postal code excerpt, sample API bodies and file names.
# Run from anywhere; existing corpus files are kept.
set -eu
cd "$(dirname "$0")"
for t in camt definition answers file_names upload postal api_body; do mkdir -p "corpus/$t"; done
cp ../tests/fixtures/camt/*.xml corpus/camt/
cp ../forms/*.toml corpus/definition/ 2>/dev/null || true
# The first byte picks the demo definition (answers) or the body type (api_body).
i=0
for f in corpus/definition/*.toml; do
    printf "\\$(printf %o $i)given_name\nxAnna\n\001 yes\n" > "corpus/answers/seed-$i"
    i=$((i + 1))
done
sed -n '/^pub const DEMO_EXCERPT: &str = "/,/^";/p' ../src/accounts/postal.rs \
    | sed '1s/^pub const DEMO_EXCERPT: &str = "//; $d' > corpus/postal/demo.csv
printf '../../etc/passwd\nC:\\Users\\x\\Ausweis.pdf\n. a\na.\343\200\200\n..\nFoto.PNG\nfoto.png\n' > corpus/file_names/seed
printf '\007\000\000\000%%PDF-1.7\n1 0 obj << /S /JS >>' > corpus/upload/pdf-script
printf '\007\003\005\000\211PNG\r\n\032\n....' > corpus/upload/png
printf '\007\001\001\001\377\330\377\340' > corpus/upload/jpeg
printf '\000{"outcome":"rejected","reason":"Unterlagen fehlen"}' > corpus/api_body/ack
printf '\001{"kind":"request","body":"Bitte nachreichen","reply_by":"2099-01-01","attachments":[{"file_name":"a.pdf","content_base64":"JVBERi0xLjcK"}]}' > corpus/api_body/message
printf '\002{"state":"in_progress"}' > corpus/api_body/state
printf '\003{"items":[{"label":"Gebühr","amount_cents":3070}],"legal_basis":"§ 1 GebO","due_date":"2099-01-01"}' > corpus/api_body/fees
printf '\004{"reason":"Irrtum"}' > corpus/api_body/cancel
printf '\005MTcwMDAwMDAwMDAwMC40ZjFjLWFh' > corpus/api_body/cursor
printf '\006order-4711' > corpus/api_body/idempotency
echo "seeded: $(find corpus -type f | wc -l) files"
