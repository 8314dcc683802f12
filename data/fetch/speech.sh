#!/usr/bin/env bash
# Real speech: the 568 English prompts of Asterisk's en_US_f_Allison voice (one female speaker, PCM16 mono 8 kHz),
# Debian `asterisk-core-sounds-en-wav` (CC-BY-SA-3.0). The WAV tree is kept as shipped, subfolders included.
source "$(dirname "$0")/lib.sh"
dataset speech data/speech
fetch_deb asterisk-core-sounds-en-wav
mkdir -p "$OUT/data/speech"
cp -r "$(deb_root asterisk-core-sounds-en-wav)/usr/share/asterisk/sounds/en_US_f_Allison" "$OUT/data/speech/"
count=$(find "$OUT/data/speech" -name '*.wav' | wc -l)
[ "$count" = 568 ] || fail "expected 568 WAV files in asterisk-core-sounds-en-wav, found $count"
finish
