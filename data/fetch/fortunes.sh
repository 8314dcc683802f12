#!/usr/bin/env bash
# Fortune cookies (BSD) from Debian `fortunes`: every file under /usr/share/games/fortunes/ except the *.dat
# indexes and the *.u8 links, in name order, normalised so that every entry ends with a line "%"
# (some files lack the last "%", one starts with one; empty entries are dropped).
source "$(dirname "$0")/lib.sh"
dataset fortunes data/fortunes
fetch_deb fortunes
mkdir -p "$OUT/data/fortunes"
python3 "$(dirname "$0")/fortunes.py" "$(deb_root fortunes)/usr/share/games/fortunes" "$OUT/data/fortunes/fortunes.txt" \
    || fail "converting the fortune files failed" \
            "command: python3 data/fetch/fortunes.py $(deb_root fortunes)/usr/share/games/fortunes ..."
finish
