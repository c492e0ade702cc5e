"""The PDF a person reads: layout, fonts, metadata, links, reproducibility, worked examples."""

from __future__ import annotations

import re
import subprocess

from conftest import EPOCH, run_cli, warm_copy
from pypdf import PdfReader

PDF = "llmsym-cheatsheet.pdf"


def page_texts(pdf) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    return out.split("\f")


def flat(text: str) -> str:
    return " ".join(text.split())


def test_landscape_a4_and_the_face_fits_on_four_pages(built):
    reader = PdfReader(built / PDF)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    pages = page_texts(built / PDF)
    first_appendix = next(i for i, t in enumerate(pages) if "Appendix A" in t)
    assert first_appendix <= 4, f"the face takes {first_appendix} pages"  # issue 13's budget


def test_letter_paper_option(tmp_path, cache_dir, full_report):
    warm_copy(cache_dir, tmp_path)  # the checks are the same for every paper: only LaTeX runs
    proc = run_cli("build", "--paper", "letter", "--build-dir", str(tmp_path), env=EPOCH)
    assert proc.returncode == 0, proc.stderr
    box = PdfReader(tmp_path / PDF).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (792, 612)


def test_all_fonts_embedded(built):
    out = subprocess.run(["pdffonts", str(built / PDF)], capture_output=True, text=True,
                         check=True).stdout.splitlines()[2:]
    assert out, "no fonts listed"
    for line in out:
        assert line.split()[-5] == "yes", line  # the 'emb' column


def test_metadata(built):
    meta = PdfReader(built / PDF).metadata
    assert meta.title.startswith("llmsym")
    assert meta.author and meta.subject


def test_every_entry_links_to_its_derivation(built):
    reader = PdfReader(built / PDF)
    links = [a.get_object() for p in reader.pages[:2] for a in p.get("/Annots", [])
             if a.get_object().get("/Subtype") == "/Link"]
    assert links, "the sheet has no links"
    dests = reader.named_destinations
    targets = {str(a.get_object()["/A"].get("/D")) for a in links if "/A" in a.get_object()}
    assert targets and all(t in dests for t in targets)


def test_no_overfull_box_wider_than_1pt(built):
    log = (built / "llmsym-cheatsheet.log").read_text(errors="replace")
    widths = [float(w) for w in re.findall(r"Overfull \\hbox \((\d+\.\d+)pt too wide\)", log)]
    assert all(w <= 1.0 for w in widths), widths


def test_header_has_version_date_and_commit(built):
    first = flat(page_texts(built / PDF)[0])
    assert "llmsym 0.1.0" in first and "built 2026-01-01" in first and "commit" in first


def test_worked_example_values_are_computed(built):
    text = flat(" ".join(page_texts(built / PDF)))
    assert "Appendix D" in text
    assert "softmax(2, 1, 0.5) = (0.629, 0.231, 0.140)" in text


def test_two_clean_builds_are_byte_identical(built, tmp_path, cache_dir):
    warm_copy(cache_dir, tmp_path)  # a fresh output folder; the checks' cache does not shape it
    proc = run_cli("build", "--build-dir", str(tmp_path), env=EPOCH)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / PDF).read_bytes() == (built / PDF).read_bytes()
