#!/usr/bin/env bash
# Install the official 1EdTech Open Badges 2.0 validator (PyPI "openbadges" 1.1.2,
# a.k.a. openbadges-validator-core) into its OWN virtual environment, for use as a
# test oracle (tests/oracles/ob2.py runs tests/oracles/ob2_validate.py with it).
#
#   bash tests/oracles/install_ob2_validator.sh          # idempotent; fast when up to date
#   bash tests/oracles/install_ob2_validator.sh --force  # rebuild from scratch
#
# Location: ${BADGEKILN_ORACLES:-<repo>/.oracles}/ob2-venv  (.oracles/ is git-ignored)
# Interpreter: ${BADGEKILN_ORACLE_PYTHON:-python3}         (tested with CPython 3.11.7)
#
# Why not just "pip install openbadges==1.1.2": its exact pins do not import on
# Python 3.11 (pycryptodome 3.6.6 is Python-2 code, python-jose 3.0.1 and pytz 2017.2
# use collections.Mapping). So every distribution is installed with --no-deps from the
# fully pinned list below, which keeps openbadges' own pins except these overrides:
#   pycryptodome 3.6.6 -> 4.4.0   (latest; provides Crypto.PublicKey.RSA used by the validator)
#   python-jose  3.0.1 -> 3.1.0   (last release with the pycryptodome backend; 3.3+/3.5 fail
#                                  on jwk.construct(<Crypto RSA key>, 'RS256'))
#   pytz       2017.2 -> 2026.6   (latest)
#   openbadges-bakery -> 1.2.4    (what pip's resolver picks under openbadges' pins)
# The sdists (future, language-tags, pydux, PyLD, validators) are built with a pinned
# setuptools and --no-build-isolation, so the whole install is reproducible from PyPI.
# `pip check` WILL complain about the overridden pins: that is expected.
#
# A stamp file inside the venv records the sha256 of this script plus the interpreter
# version; when it matches and the venv imports, the script exits in well under a second.
# Exit status is non-zero on any failure; the stamp is written only after a smoke test.
set -euo pipefail

SCRIPT_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
REPO_ROOT="$(cd "$(dirname "$SCRIPT_PATH")/../.." && pwd)"
ORACLES_DIR="${BADGEKILN_ORACLES:-$REPO_ROOT/.oracles}"
VENV="$ORACLES_DIR/ob2-venv"
STAMP="$VENV/.badgekiln-ob2-stamp"
BASE_PYTHON="${BADGEKILN_ORACLE_PYTHON:-python3}"

FORCE=0
case "${1:-}" in
  --force) FORCE=1 ;;
  "") ;;
  -h|--help) sed -n '2,12p' "$SCRIPT_PATH"; exit 0 ;;
  *) echo "install_ob2_validator.sh: unknown argument: $1" >&2; exit 2 ;;
esac

log() { echo "[ob2-oracle] $*" >&2; }

if ! command -v "$BASE_PYTHON" >/dev/null 2>&1; then
  log "interpreter '$BASE_PYTHON' not found (set BADGEKILN_ORACLE_PYTHON)"; exit 1
fi

SCRIPT_HASH="$(sha256sum "$SCRIPT_PATH" | cut -d' ' -f1)"
PY_ID="$("$BASE_PYTHON" -c 'import sys, platform; print(platform.python_implementation(), sys.version.split()[0])')"
WANT_STAMP="$SCRIPT_HASH $PY_ID"

# Imports everything the validator needs on the signed path and checks that
# python-jose really uses the pycryptodome backend with a Crypto RSA key.
SMOKE_TEST='
import openbadges
from openbadges import verify
from openbadges.verifier.tasks import crypto
from Crypto.PublicKey import RSA
from jose import jwk, jws
import jose.backends
assert jose.backends.RSAKey.__module__.endswith("pycrypto_backend"), jose.backends.RSAKey
key = RSA.generate(1024)
token = jws.sign(b"{\"a\": 1}", key.export_key().decode(), algorithm="RS256")
pub = jwk.construct(key.publickey(), "RS256").to_dict()
assert jws.verify(token, pub, None) == b"{\"a\": 1}"
'

if [[ $FORCE -eq 0 && -f "$STAMP" && -x "$VENV/bin/python" ]] \
   && [[ "$(cat "$STAMP")" == "$WANT_STAMP" ]] \
   && "$VENV/bin/python" -c 'import openbadges.verifier' >/dev/null 2>&1; then
  log "up to date: $VENV"
  exit 0
fi

mkdir -p "$ORACLES_DIR"

# One installer at a time (e.g. two CI steps racing).
exec 9>"$ORACLES_DIR/.ob2-install.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

log "creating $VENV with $PY_ID"
rm -rf "$VENV"
"$BASE_PYTHON" -m venv "$VENV"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cat >"$WORK/build-requirements.txt" <<'EOF'
setuptools==75.8.2
EOF

# Complete, exact dependency closure of openbadges==1.1.2 (+ overrides, see header).
cat >"$WORK/requirements.txt" <<'EOF'
openbadges==1.1.2
openbadges-bakery==1.2.4
aniso8601==10.0.1
certifi==2026.10.18
charset-normalizer==3.5.2
click==6.7
decorator==5.3.1
defusedxml==0.7.1
ecdsa==0.19.2
future==0.16.0
idna==3.20
jsonschema==2.6.0
language-tags==0.4.3
pyasn1==0.6.5
pycryptodome==4.4.0
pydux==0.2.2
PyLD==0.7.1
pypng==0.20220715.0
python-jose==3.1.0
python-mimeparse==1.6.0
pytz==2026.6
requests==2.34.2
requests-cache==0.4.13
rfc3986==0.4.1
rsa==4.9.1
six==1.17.0
urllib3==2.8.0
validators==0.11.2
EOF

PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input)

log "installing build backend"
"${PIP[@]}" install -q --no-deps -r "$WORK/build-requirements.txt"
log "installing openbadges==1.1.2 and its pinned closure (--no-deps)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -r "$WORK/requirements.txt"

log "smoke test"
(cd "$WORK" && "$VENV/bin/python" -c "$SMOKE_TEST")

printf '%s\n' "$WANT_STAMP" >"$STAMP"
log "ready: $VENV"
