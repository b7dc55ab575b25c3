"""Open the built documentation site in headless Chromium and check what a reader would see.

    python .ci/check_site.py BUILD_DIR [--chromium /usr/bin/chromium]

Needs Playwright's Python package and a Chromium (Debian's: no browser download). For each page:
the math is typeset (MathJax ran, and no raw ``$$``, ``\\frac`` or other TeX is left in the visible
text), every image loaded (``naturalWidth > 0``), nothing was fetched from the network (the site
is a folder of static files), and a full-page screenshot is saved in BUILD_DIR/_screenshots/.
Also: every public name of the six packages has an entry on the API pages (an element whose id
is its dotted name), ``minigrad.Tensor.backward`` among them, and the gallery shows every figure
of README's gallery with its caption. Exits 1 with a list of what failed.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATH_PAGES = ["docs/site/index", "docs/site/gallery", "docs/THEORY", "docs/ARCHITECTURE",
              "notebooks/02_vanishing_exploding", "notebooks/03_gated_cells"]  # fmt: skip
PAGES = MATH_PAGES + ["docs/site/quickstart", "docs/site/porting", "docs/RELIABILITY", "docs/COURSE",
                      "notebooks/01_first_look", "benchmarks/README", "docs/site/api/minigrad",
                      "docs/site/api/nn", "docs/site/api/optim", "docs/site/api/bptt", "docs/site/api/viz",
                      "docs/site/api/course"]  # fmt: skip
API_MODULES = ["minigrad", "minigrad.nn", "minigrad.optim", "minigrad.bptt", "minigrad.viz", "minigrad.course"]
# TeX left as text means MathJax did not typeset it; code blocks and MathJax's own output are skipped
RAW_TEX = re.compile(r"\$\$|\\(frac|partial|mathcal|lVert|rVert|prod|sum|sigma|mathrm|odot|le|ge)\b")

VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || el.closest('pre, code, script, style, mjx-container, mjx-assistive-mml, .MathJax')) continue;
    if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;  // not displayed
    out.push(walker.currentNode.textContent);
  }
  return out.join(' ');
}"""
IMAGES = """() => Array.from(document.images).map(img => ({
  src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0,
  alt: img.alt, caption: (img.closest('tr') || img.parentElement).innerText.trim()}))"""


def public_names(module_name: str) -> list[str]:
    """``module.name`` for each public name: ``__all__``, else what the module defines itself."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items() if not n.startswith("_") and getattr(v, "__module__", None)
                 and v.__module__.startswith("minigrad") and not isinstance(v, type(module))]  # fmt: skip
    out = []
    for n in names:
        value = getattr(module, n)
        if isinstance(value, type(module)):
            continue  # a submodule: its own names are checked where it has a page
        top = "minigrad." + n if getattr(importlib.import_module("minigrad"), n, None) is value else ""
        defined = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', n)}"
        out.append((f"{module_name}.{n}", defined, top))
    return out


def gallery_figures() -> list[str]:
    """The figure files README's gallery section shows, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Gallery", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"!\[[^\]]*\]\(docs/figures/([^)]+)\)", section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", type=Path)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    build = args.build.resolve()
    shots = build / "_screenshots"
    shots.mkdir(exist_ok=True)
    failures, external, ids, seen_images = [], [], set(), set()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def route(r):  # a static site: any request that is not a local file is a failure
            if r.request.url.startswith(("file://", "data:", "blob:")):
                return r.continue_()
            external.append(r.request.url)
            return r.abort()

        page.route("**/*", route)
        for name in PAGES:
            path = build / f"{name}.html"
            if not path.is_file():
                failures.append(f"{name}: page missing ({path})")
                continue
            page.goto(path.as_uri(), wait_until="load")
            page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
            page.evaluate("async () => { await Promise.all(Array.from(document.images).map("
                          "i => i.decode().catch(() => null))); }")  # fmt: skip
            page.screenshot(path=str(shots / f"{name.replace('/', '_')}.png"), full_page=True)
            text = page.evaluate(VISIBLE_TEXT)
            raw = sorted({m.group(0) for m in RAW_TEX.finditer(text)})
            if raw:
                i = RAW_TEX.search(text).start()
                failures.append(f"{name}: raw TeX in the visible text {raw}: ...{text[max(0, i - 60):i + 60]}...")
            typeset = page.locator("mjx-container").count()
            if name in MATH_PAGES and typeset == 0:
                failures.append(f"{name}: no math typeset (no mjx-container)")
            for img in page.evaluate(IMAGES):
                seen_images.add(Path(img["src"]).name)
                if not img["ok"]:
                    failures.append(f"{name}: image did not load: {img['src']}")
            if name.startswith("docs/site/api/"):
                ids |= set(page.evaluate("() => Array.from(document.querySelectorAll('[id]')).map(e => e.id)"))
            if name == "docs/site/gallery":
                shown = {Path(i["src"]).name: i for i in page.evaluate(IMAGES)}
                for fig in gallery_figures():
                    if fig not in shown:
                        failures.append(f"gallery: figure {fig} is not shown")
                    elif len(shown[fig]["caption"]) < 20:
                        failures.append(f"gallery: figure {fig} has no caption")
                if not gallery_figures():
                    failures.append("gallery: README's gallery section has no figure")
            print(f"  {name}: {typeset} formulas typeset, {len(page.evaluate(IMAGES))} images")
        browser.close()
    if "minigrad.Tensor.backward" not in ids:
        failures.append("API pages: no entry for minigrad.Tensor.backward")
    for module in API_MODULES:
        for public, *elsewhere in public_names(module):  # a re-export counts where it is documented
            if public not in ids and not ids.intersection(elsewhere):
                failures.append(f"API pages: {public} is not documented")
    figures = {p.name for p in (ROOT / "docs" / "figures").iterdir() if p.suffix in (".png", ".svg")}
    # first_look_graph.png is the PNG twin of the SVG the home page shows
    missing = sorted(figures - seen_images - {"first_look_graph.png"})
    if missing:
        failures.append(f"figures in docs/figures shown on no page: {missing}")
    failures += [f"network request from a page (the site must work offline): {u}" for u in sorted(set(external))]
    for f in failures:
        print("FAIL:", f)
    print(f"checked {len(PAGES)} pages, {len(ids)} API anchors; screenshots in {shots}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
