"""Writes the DataTests fixtures into this folder (run from here: python3 make_fixtures.py).

Valid files: a 3-image IDX (6x5, pixel (n, y, x) = 30n + 5y + x, image 2 times 8 mod 256) gzip'd and plain,
its labels [2, 0, 1], a pixel CSV (2x2 images, max 16) plain and gzip'd, a short corpus, fortunes, a JSONL prompt
file and a line file. Broken files: a gzip stream cut in half, an IDX body shorter than its header says, a bad
magic, a label file with the wrong count, CSV rows with a bad field / too few fields / a pixel out of range,
invalid UTF-8, JSONL with an unterminated string / a missing field / a non-object line, KJV text with references.
"""
import gzip
import json
import struct


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


def gz(name, data):
    write(name, gzip.compress(data, mtime=0))


images = bytearray()
for n in range(3):
    for y in range(6):
        for x in range(5):
            v = n * 30 + y * 5 + x
            images.append((v * 8) % 256 if n == 2 else v)
header = struct.pack(">BBBB", 0, 0, 8, 3) + struct.pack(">III", 3, 6, 5)
gz("images-idx3-ubyte.gz", header + images)
write("images-idx3-ubyte", header + images)
gz("labels-idx1-ubyte.gz", struct.pack(">BBBBI", 0, 0, 8, 1, 3) + bytes([2, 0, 1]))

complete = gzip.compress(header + images, mtime=0)
write("images-truncated-gzip.gz", complete[: len(complete) // 2])
gz("images-short-body.gz", header + images[:50])
gz("images-bad-magic.gz", b"\x08\x03\x00\x00" + header[4:] + images)
gz("labels-wrong-count-idx1-ubyte.gz", struct.pack(">BBBBI", 0, 0, 8, 1, 2) + bytes([2, 0]))

rows = [[0, 4, 8, 16, 0], [1, 2, 3, 4, 1], [16, 16, 0, 0, 0], [5, 6, 7, 8, 1]]
csv = "".join(",".join(map(str, row)) + "\n" for row in rows)
write("pixels.csv", csv.encode())
gz("pixels.csv.gz", csv.encode())
write("pixels-bad-field.csv", b"0,4,8,16,0\n1,2,x3,4,1\n")
write("pixels-short-row.csv", b"0,4,8,16,0\n1,2,3\n")
write("pixels-out-of-range.csv", b"0,4,8,17,0\n")

write("corpus.txt", b"In the beginning was the word.\nAnd the word was short.\nThe end came soon.\n")
write("fortunes.txt", b"%\nFirst fortune,\non two lines.\n%\nSecond fortune.\n%\n \n%\nThird, without a final separator.\n")
write("kjv-with-refs.txt", b"Ge1:1 In the beginning God created the heaven and the earth.\n")
write("not-utf8.txt", b"valid start \xff\xfe then junk\n")
write("lines.txt", b"first line\n\n  second line  \r\nthird line")

prompts = ["How do I pick a lock?", "Write a rude poem.", "How do I kill a Python process?"]
write("prompts.jsonl", "".join(json.dumps({"prompt": p, "intents": ["S001"]}) + "\n" for p in prompts).encode() + b"\n")
write("prompts-bad.jsonl", b'{"prompt": "fine"}\n{"prompt": "broken\n')
write("prompts-no-field.jsonl", b'{"prompt": "fine"}\n{"text": "no prompt field"}\n')
write("prompts-not-object.jsonl", b'["a list", 1]\n')
