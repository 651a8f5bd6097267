#!/usr/bin/env bash
# Install openbadgeslib (PyPI, the most complete Python Open Badges library: OB 2.0 signed and
# hosted, OB 3.0 VC-JWT and Data Integrity eddsa-rdfc-2022, did:web, Bitstring Status List) into
# its OWN virtual environment, for use as a test oracle (tests/oracles/openbadgeslib_oracle.py
# runs tests/oracles/openbadgeslib_verify.py with it).
#
#   bash tests/oracles/install_openbadgeslib.sh          # idempotent; fast when up to date
#   bash tests/oracles/install_openbadgeslib.sh --force  # rebuild from scratch
#
# Location: ${BADGEKILN_ORACLES:-<repo>/.oracles}/openbadgeslib-venv  (.oracles/ is git-ignored)
# Interpreter: ${BADGEKILN_ORACLE_PYTHON:-python3}  (tested with CPython 3.11.7)
#
# The whole closure of openbadgeslib[ldp]==4.6.3 is pinned below and installed with --no-deps
# (all wheels), so the oracle does not move under the tests. A stamp file inside the venv records
# the sha256 of this script plus the interpreter version; when it matches and the venv imports,
# the script exits at once. Exit status is non-zero on any failure; the stamp is written only
# after a smoke test (a Data Integrity sign/verify round trip, fully offline).
set -euo pipefail

SCRIPT_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
REPO_ROOT="$(cd "$(dirname "$SCRIPT_PATH")/../.." && pwd)"
ORACLES_DIR="${BADGEKILN_ORACLES:-$REPO_ROOT/.oracles}"
VENV="$ORACLES_DIR/openbadgeslib-venv"
STAMP="$VENV/.badgekiln-openbadgeslib-stamp"
BASE_PYTHON="${BADGEKILN_ORACLE_PYTHON:-python3}"

FORCE=0
case "${1:-}" in
  --force) FORCE=1 ;;
  "") ;;
  -h|--help) sed -n '2,12p' "$SCRIPT_PATH"; exit 0 ;;
  *) echo "install_openbadgeslib.sh: unknown argument: $1" >&2; exit 2 ;;
esac

log() { echo "[openbadgeslib-oracle] $*" >&2; }

if ! command -v "$BASE_PYTHON" >/dev/null 2>&1; then
  log "interpreter '$BASE_PYTHON' not found (set BADGEKILN_ORACLE_PYTHON)"; exit 1
fi

SCRIPT_HASH="$(sha256sum "$SCRIPT_PATH" | cut -d' ' -f1)"
PY_ID="$("$BASE_PYTHON" -c 'import sys, platform; print(platform.python_implementation(), sys.version.split()[0])')"
WANT_STAMP="$SCRIPT_HASH $PY_ID"

SMOKE_TEST='
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openbadgeslib.ob3.ldp import add_data_integrity_proof, verify_data_integrity_proof
from openbadgeslib.ob3 import OB3LdpVerifier, OB3Verifier, OB3VerificationError
from openbadgeslib.ob2 import OB2Verifier
key = Ed25519PrivateKey.generate()
priv = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
doc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
       "issuer": "did:example:1", "credentialSubject": {"id": "did:example:2"}}
signed = add_data_integrity_proof(doc, priv, "did:example:1#k")
verify_data_integrity_proof(signed, pub)
signed["issuer"] = "did:example:3"
try:
    verify_data_integrity_proof(signed, pub)
except OB3VerificationError:
    pass
else:
    raise SystemExit("tampered document verified")
'

if [[ $FORCE -eq 0 && -f "$STAMP" && -x "$VENV/bin/python" ]] \
   && [[ "$(cat "$STAMP")" == "$WANT_STAMP" ]] \
   && "$VENV/bin/python" -c 'import openbadgeslib.ob3.ldp' >/dev/null 2>&1; then
  log "up to date: $VENV"
  exit 0
fi

mkdir -p "$ORACLES_DIR"
exec 9>"$ORACLES_DIR/.openbadgeslib-install.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

log "creating $VENV with $PY_ID"
rm -rf "$VENV"
"$BASE_PYTHON" -m venv "$VENV"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Complete, exact dependency closure of openbadgeslib[ldp]==4.6.3.
cat >"$WORK/requirements.txt" <<'REQS'
openbadgeslib==4.6.3
PyLD==3.3.0
cachetools==8.0.2
cffi==2.1.1
cryptography==50.0.2
defusedxml==0.7.1
frozendict==2.5.1
lxml==6.1.3
pycparser==3.12
PyJWT==2.15.1
pypng==0.20220715.0
REQS

log "installing openbadgeslib[ldp]==4.6.3 and its pinned closure (--no-deps)"
"$VENV/bin/python" -m pip --disable-pip-version-check --no-input install -q --no-deps -r "$WORK/requirements.txt"

log "smoke test"
(cd "$WORK" && "$VENV/bin/python" -c "$SMOKE_TEST")

printf '%s\n' "$WANT_STAMP" >"$STAMP"
log "ready: $VENV"
