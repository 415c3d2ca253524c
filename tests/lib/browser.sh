# browser.sh: how a host test opens a page in headless Chromium, sourced after
# tests/lib/check.sh: the page's DOM and console, and a screenshot, for the report and
# dashboard tests alike.
# shellcheck shell=bash

# The Chromium binary, or nothing.
browser=$(command -v chromium || command -v chromium-browser || true)

# open_page NAME FILE [HEIGHT]: $work/NAME.dom (the DOM after loading), $work/NAME.console
# (the console, logged to stderr), and the screenshot $artifacts/NAME.png, HEIGHT pixels
# tall (default 2000; an earlier run's is removed first, so it must be made again to pass).
open_page() {
	local name=$1 file=$2 height=${3:-2000} profile
	profile=$(mktemp -d "$work/chromium.XXXXXX")
	rm -f "$artifacts/$name.png"
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --user-data-dir="$profile" --enable-logging=stderr --v=0 \
		--window-size=1280,"$height" --dump-dom "file://$file" \
		>"$work/$name.dom" 2>"$work/$name.console"
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --user-data-dir="$profile" --window-size=1280,"$height" \
		--screenshot="$artifacts/$name.png" "file://$file" >/dev/null 2>&1
}
