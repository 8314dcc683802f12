"""Joins the fortune files of Debian `fortunes` into one file whose entries each end with a line "%".

usage: python3 fortunes.py FORTUNE_FOLDER OUTPUT
Files are taken in name order; *.dat (strfile indexes) and *.u8 (links to the same files) are skipped.
"""
import pathlib
import sys

folder, output = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
entries = []
for path in sorted(folder.iterdir()):
    if path.suffix in (".dat", ".u8") or path.is_symlink() or not path.is_file():
        continue
    entry = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.rstrip() == "%":
            if "".join(entry).strip():
                entries.append("\n".join(entry))
            entry = []
        else:
            entry.append(line)
    if "".join(entry).strip():
        entries.append("\n".join(entry))
output.write_text("".join(e + "\n%\n" for e in entries), encoding="utf-8")
print(f"fortunes: {len(entries)} entries", file=sys.stderr)
