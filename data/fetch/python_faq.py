"""Extracts the questions of the Python FAQ: reST section titles that end in "?", one a line.

usage: python3 python_faq.py FAQ_SOURCES_FOLDER OUTPUT
A title is a line followed by an underline of one repeated punctuation character at least as long. Markup is
stripped (``code`` -> code, :role:`text` -> text, `text <url>`_ -> text); duplicates after normalisation
(lower case, collapsed whitespace) are dropped, keeping the first.
"""
import pathlib
import re
import sys

folder, output = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
underline = re.compile(r'([=\-~^"*+#`:.\'_])\1*')


def plain(title):
    title = re.sub(r":[a-z:]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", title)  # :role:`text <target>` -> text
    title = re.sub(r"`([^`<]*?)\s*<[^>]*>`_+", r"\1", title)               # `text <url>`_ -> text
    title = re.sub(r"``([^`]*)``", r"\1", title)                           # ``literal`` -> literal
    title = re.sub(r"`([^`]*)`_*", r"\1", title)                           # `interpreted` -> interpreted
    title = title.replace("\\", "")
    return " ".join(title.split())


questions, seen = [], set()
for path in sorted(folder.glob("*.rst.txt")):
    lines = path.read_text(encoding="utf-8").splitlines()
    for title, under in zip(lines, lines[1:]):
        title, under = title.strip(), under.strip()
        if title and under and len(under) >= len(title) and underline.fullmatch(under) and title.endswith("?"):
            question = plain(title)
            key = question.lower()
            if key not in seen:
                seen.add(key)
                questions.append(question)
if not questions:
    sys.exit(f"no questions found under {folder}")
output.write_text("".join(q + "\n" for q in questions), encoding="utf-8")
print(f"python FAQ: {len(questions)} questions", file=sys.stderr)
