# Sourced by .ci/schemathesis and .ci/openapi-lint: starts the real server on
# a fresh SQLite database with a bootstrap admin, and seeds one account per
# role and an API client, so checks reach each role's logic.
#
# After `start_server <port>`: $base, $work (removed on exit), $password.
# After `seed_accounts`: $admin, $specialist, $coordinator, $practitioner
# (access tokens), $team, $client_id, $client_secret, $client_token.

start_server() {
  work=$(mktemp -d)
  base="http://127.0.0.1:$1"
  password="ci-admin-password"
  export APP__DATABASE__URL="sqlite://$work/st.db"
  export APP__SERVER__PORT=$1
  export APP__BOOTSTRAP__ADMIN_EMAIL=admin@st.local
  export APP__BOOTSTRAP__ADMIN_PASSWORD=$password
  # Checks sign in often; keep the throttle out of their way.
  export APP__AUTH__LOGIN_MAX_FAILURES_PER_ADDRESS=1000000
  export APP__AUTH__LOGIN_MAX_FAILURES_PER_ACCOUNT=1000000
  export APP__AUTH__LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS=1000000
  export APP__LIMITS__PER_CALLER_PER_MINUTE=0
  export APP__LIMITS__PER_ADDRESS_PER_MINUTE=0
  export APP__LOG__LEVEL=warn

  cargo build --quiet
  ./target/debug/nru-helpdesk serve > "$work/server.log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

  for _ in $(seq 1 100); do
    curl -fs "$base/readyz" >/dev/null && break
    sleep 0.2
  done
}

sign_in() {
  curl -fs -X POST "$base/api/v1/auth/login" \
    -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$2\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

seed_accounts() {
  admin=$(sign_in admin@st.local "$password")
  # Besides the admin, one account per role: a specialist, a coordinator
  # (with a team) and a practitioner.
  api() {
    curl -fs -X "$1" "$base/api/v1/$2" \
      -H "Authorization: Bearer $admin" -H 'content-type: application/json' -d "$3"
  }
  team=$(api POST teams '{"name":"Conformance team"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  api POST users "{\"email\":\"specialist@st.local\",\"display_name\":\"Specialist\",\"role\":\"specialist\",\"password\":\"$password\",\"team_ids\":[\"$team\"]}" >/dev/null
  api POST users "{\"email\":\"coordinator@st.local\",\"display_name\":\"Coordinator\",\"role\":\"coordinator\",\"password\":\"$password\",\"team_ids\":[\"$team\"]}" >/dev/null
  api POST users "{\"email\":\"practitioner@st.local\",\"display_name\":\"Practitioner\",\"role\":\"practitioner\",\"password\":\"$password\",\"organisation\":\"police\",\"region\":\"london\"}" >/dev/null
  specialist=$(sign_in specialist@st.local "$password")
  coordinator=$(sign_in coordinator@st.local "$password")
  practitioner=$(sign_in practitioner@st.local "$password")

  # An API client of the practitioner's organisation with every scope, so the
  # client endpoints reach their logic too.
  local client
  client=$(api POST admin/api-clients '{"name":"Conformance system","organisation":"police","scopes":["requests:write","requests:read","webhooks:manage"]}')
  client_id=$(echo "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client"]["id"])')
  client_secret=$(echo "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
  client_token=$(curl -fs -X POST "$base/api/v1/auth/token" \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$client_id" --data-urlencode "client_secret=$client_secret" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
}
