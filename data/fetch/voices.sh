#!/usr/bin/env bash
# Synthetic speakers: the committed sentence lists rendered by Debian `flite` (2.2, BSD-like) with its five
# voices kal (8 kHz), kal16, awb, rms, slt (16 kHz), PCM16 mono WAV. flite is deterministic: the same version
# writes the same bytes, so the files are checked against data/SHA256SUMS like downloaded data.
#   data/voices/sentences.txt     (100 sentences) -> data/voices/<voice>/<NNN>.wav, NNN = line number 001-100
#   data/hypersound/sentences.txt (8 sentences)   -> data/hypersound/flite/<voice>_<i>.wav, i = line number 1-8
# flite is a tool, so it is installed with apt-get when missing (as root; otherwise the command is named).
source "$(dirname "$0")/lib.sh"
VOICES=(kal kal16 awb rms slt)
dataset voices $(printf 'data/voices/%s ' "${VOICES[@]}") data/hypersound/flite

if ! command -v flite >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        say "installing flite (apt-get install flite)"
        { apt-get install -y -qq --no-install-recommends flite >"$DL/apt-flite.log" 2>&1 \
            || { apt-get update -qq && apt-get install -y -qq --no-install-recommends flite; } >>"$DL/apt-flite.log" 2>&1; } \
            || fail "could not install the Debian package 'flite'." \
                    "command: apt-get install -y flite" \
                    "fix: make sure the Debian mirror is reachable, then run 'make data-voices' again."
    else
        fail "the Debian package 'flite' is not installed." "fix: sudo apt-get install -y flite; then run 'make data-voices' again."
    fi
fi
version=$(flite --version 2>&1 || true)
say "rendering with flite $(grep -m1 -o 'flite-[^ ]*' <<<"$version" || echo "(unknown version)")"

# render SENTENCES_FILE NAME_PATTERN: one job line per (voice, sentence), run two at a time.
jobs=$DL/jobs.txt
: >"$jobs"
add_jobs() {
    local sentences=$1 pattern=$2 voice number sentence
    [ -s "$sentences" ] || fail "$sentences is missing or empty (it is committed; restore it with git)"
    for voice in "${VOICES[@]}"; do
        number=0
        while IFS= read -r sentence || [ -n "$sentence" ]; do
            number=$((number + 1))
            # shellcheck disable=SC2059
            printf '%s\t%s\t%s\n' "$voice" "$(printf "$pattern" "$voice" "$number")" "$sentence" >>"$jobs"
        done <"$sentences"
    done
}
add_jobs data/voices/sentences.txt "$OUT/data/voices/%s/%03d.wav"
add_jobs data/hypersound/sentences.txt "$OUT/data/hypersound/flite/%s_%d.wav"
cut -f2 "$jobs" | xargs -n1 dirname | sort -u | xargs mkdir -p
tr '\n' '\0' <"$jobs" | xargs -0 -P 2 -n 1 bash -c '
    IFS=$'"'\t'"' read -r voice output sentence <<<"$0"
    flite -voice "$voice" -t "$sentence" -o "$output" || { echo "flite failed: -voice $voice -> $output" >&2; exit 255; }
' || fail "flite failed (see the message above)" "command: flite -voice VOICE -t SENTENCE -o FILE.wav"
finish
