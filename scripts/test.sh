#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs and starts what the tests need
# (npm packages, PostgreSQL, container engines and a registry), then runs lint, type check,
# unit tests and the end-to-end suites against SQLite and against PostgreSQL. Anything missing
# fails the run, saying what.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

results_dir=$(mktemp -d)
trap 'rm -rf "$results_dir"' EXIT

# --- Node.js -----------------------------------------------------------------------------
command -v node >/dev/null || die "Node.js is not installed (need >= 20.19)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js $(node --version) is too old: NestJS 12 needs >= 20.19 (require(esm))"

# --- npm packages ------------------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "Installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# --- PostgreSQL on 127.0.0.1:5432 ----------------------------------------------------------
pg_admin_url=${E2E_POSTGRES_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_reachable() { node -e '
  const { Client } = require("pg");
  const c = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 3000 });
  c.connect().then(() => c.end()).then(() => process.exit(0), () => process.exit(1));' "$pg_admin_url"; }

if ! pg_reachable; then
  say "PostgreSQL is not answering at $pg_admin_url: installing/starting it"
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    command -v apt-get >/dev/null || die "PostgreSQL is not running and apt-get is not available to install it"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
      || die "could not install PostgreSQL (apt-get install postgresql)"
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  # Tests connect over loopback as postgres without a password, as on the project's machines.
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
    || pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  for _ in $(seq 1 30); do pg_reachable && break; sleep 1; done
  pg_reachable || die "PostgreSQL did not come up at $pg_admin_url"
fi
export E2E_POSTGRES_ADMIN_URL=$pg_admin_url

# --- Container engines and registry (Podman serving the Docker API) --------------------------
say "Container engines and registry (scripts/test-env.sh)"
test_env=$(bash scripts/test-env.sh) || die "the container engine or the registry could not be started (see above)"
eval "$test_env"

# --- Static checks and build ---------------------------------------------------------------
say "Lint"
npx eslint . --max-warnings 0
say "Type check"
npx tsc --noEmit -p tsconfig.json
say "Build"
npm run build --silent

# --- Tests -----------------------------------------------------------------------------------
run_vitest() { # name, then vitest arguments
  local name=$1; shift
  say "Tests: $name"
  local code=0
  npx vitest run "$@" --reporter=default --reporter=json --outputFile="$results_dir/$name.json" || code=$?
  echo "$code" >"$results_dir/$name.exit"
  return "$code"
}

status=0
run_vitest unit --project unit || status=1
run_vitest e2e-backups --project e2e-backups || status=1
(unset DATABASE_URL; E2E_DATABASE=sqlite run_vitest e2e-sqlite --project e2e) || status=1
E2E_DATABASE=postgres run_vitest e2e-postgres --project e2e || status=1
E2E_DATABASE=postgres run_vitest e2e-replicas --project e2e-replicas || status=1
(unset DATABASE_URL; E2E_DATABASE=sqlite run_vitest e2e-engine-sqlite --project e2e-engine) || status=1
E2E_DATABASE=postgres run_vitest e2e-engine-postgres --project e2e-engine || status=1

# One closing line for the whole run; a suite that failed to load, or that Vitest failed for an
# error outside any test (an uncaught exception, say), counts as a failure.
node -e '
  const fs = require("fs"); const path = require("path");
  let passed = 0, failed = 0;
  for (const file of fs.readdirSync(process.argv[1]).filter((name) => name.endsWith(".json")).sort()) {
    const report = JSON.parse(fs.readFileSync(path.join(process.argv[1], file), "utf8"));
    const exitFile = path.join(process.argv[1], file.replace(/\.json$/, ".exit"));
    const exitCode = fs.existsSync(exitFile) ? Number(fs.readFileSync(exitFile, "utf8")) : 0;
    const broken = (!report.success || exitCode !== 0) && report.numFailedTests === 0 ? 1 : 0;
    passed += report.numPassedTests;
    failed += report.numFailedTests + broken;
    console.log(`${file.replace(/\.json$/, "")}: ${report.numPassedTests} passed, ${report.numFailedTests + broken} failed`);
  }
  console.log(`\n${passed} passed, ${failed} failed`);' "$results_dir"
exit $status
