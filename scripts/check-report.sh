#!/usr/bin/env bash
# Opens an iobench report.html in headless Chromium, as a reader would, and checks that every
# plot rendered: the DOM Chromium built must hold one <svg> with drawn content (shapes and
# text) per <figure class="plot"> in the file. Also saves a full-page screenshot to look at.
#
# Usage: scripts/check-report.sh REPORT.html [SCREENSHOT.png]
# Needs: chromium (Debian: apt-get install -y chromium), python3.
set -euo pipefail

html=$(realpath "${1:?usage: scripts/check-report.sh REPORT.html [SCREENSHOT.png]}")
shot=${2:-$(dirname "$html")/report.png}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z "$browser" ]]; then
  echo "check-report: chromium not found; install it (apt-get install -y chromium)" >&2
  exit 2
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
       --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$profile")

expected=$(grep -o '<figure [^>]*class="plot"' "$html" | wc -l)
if [[ "$expected" -eq 0 ]]; then
  echo "check-report: $html has no plots" >&2
  exit 1
fi

# Tall enough for the whole page: plots sit two per row, about 600 px each.
height=$(( 1600 + (expected + 1) / 2 * 620 ))
(( height > 16000 )) && height=16000
"$browser" "${flags[@]}" --window-size=1600,"$height" --screenshot="$shot" "file://$html" >/dev/null 2>&1
if [[ ! -s "$shot" ]]; then
  echo "check-report: chromium wrote no screenshot ($shot)" >&2
  exit 1
fi

dom=$(mktemp)
trap 'rm -rf "$profile" "$dom"' EXIT
"$browser" "${flags[@]}" --dump-dom "file://$html" 2>/dev/null >"$dom"

python3 - "$dom" "$expected" <<'PY'
import sys
from html.parser import HTMLParser

# An <svg> counts as rendered when Chromium kept it inside a plot figure with a size and it
# holds drawn shapes and text (axes, labels, data).
class Count(HTMLParser):
    def __init__(self):
        super().__init__()
        self.in_figure = 0
        self.svg = None
        self.rendered = 0
        self.empty = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure" and "plot" in (a.get("class") or ""):
            self.in_figure += 1
        elif tag == "svg" and self.in_figure and self.svg is None:
            sized = all(float(a.get(k, "0") or 0) > 0 for k in ("width", "height"))
            self.svg = {"sized": sized, "shapes": 0, "text": 0}
        elif self.svg is not None:
            if tag in ("path", "polyline", "rect", "circle", "line", "polygon"):
                self.svg["shapes"] += 1
            elif tag == "text":
                self.svg["text"] += 1
    def handle_endtag(self, tag):
        if tag == "svg" and self.svg is not None:
            s = self.svg
            if s["sized"] and s["shapes"] >= 3 and s["text"] >= 3:
                self.rendered += 1
            else:
                self.empty += 1
            self.svg = None
        elif tag == "figure" and self.in_figure:
            self.in_figure -= 1

dom, expected = open(sys.argv[1], encoding="utf-8").read(), int(sys.argv[2])
c = Count()
c.feed(dom)
print(f"check-report: {c.rendered} of {expected} plots rendered ({c.empty} empty)")
sys.exit(0 if c.rendered == expected and c.empty == 0 else 1)
PY
echo "check-report: screenshot $shot"
