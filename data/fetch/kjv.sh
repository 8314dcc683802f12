#!/usr/bin/env bash
# The King James Bible (public domain) from Debian `bible-kjv` (the `bible` program) + `bible-kjv-text` (its
# compressed text). Neither is installed: the unpacked `bible` runs against the unpacked data folder (-p).
# `-f` turns pretty-printing off, which prints one verse a line as "Ge1:1 In the beginning ..."; the reference
# is stripped, so kjv.txt is 31,102 lines, one verse each, with no chapter headings or verse numbers.
source "$(dirname "$0")/lib.sh"
dataset kjv data/kjv
fetch_deb bible-kjv
fetch_deb bible-kjv-text
bible=$(deb_root bible-kjv)/usr/bin/bible
mkdir -p "$OUT/data/kjv"
"$bible" -f -p "$(deb_root bible-kjv-text)/usr/lib" "gen1:1-rev22:21" >"$DL/kjv-refs.txt" 2>"$DL/bible.log" \
    || fail "the unpacked 'bible' program failed: $(head -2 "$DL/bible.log" | tr '\n' ' ')" \
            "command: $bible -f -p $(deb_root bible-kjv-text)/usr/lib gen1:1-rev22:21" \
            "fix: it needs libreadline8 ('apt-get install libreadline8'), then run 'make data-kjv' again."
bad=$(grep -cvE '^[1-3]?[A-Za-z]+[0-9]+:[0-9]+ ' "$DL/kjv-refs.txt" || true)
[ "$bad" = 0 ] || fail "$bad line(s) of the bible output do not start with a verse reference"
sed -E 's/^[^ ]+ //' "$DL/kjv-refs.txt" >"$OUT/data/kjv/kjv.txt"
verses=$(wc -l <"$OUT/data/kjv/kjv.txt")
[ "$verses" = 31102 ] || fail "expected 31,102 verses, got $verses"
finish
