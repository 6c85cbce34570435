#!/usr/bin/env bash
# The printer embeds the DejaVu TrueType fonts (full Cyrillic with the Kyrgyz
# letters ң ө ү) in its PDFs. Install Debian's fonts-dejavu-core when they are
# missing. Used by `./dev` and deploy/local-services.sh; in production, install
# the package (or copy the four files and set KOZOMOL_FONT_DIR).
set -euo pipefail

dir="${KOZOMOL_FONT_DIR:-/usr/share/fonts/truetype/dejavu}"
missing=0
for name in DejaVuSans.ttf DejaVuSans-Bold.ttf DejaVuSansCondensed.ttf DejaVuSansCondensed-Bold.ttf; do
  [ -f "$dir/$name" ] || missing=1
done
[ "$missing" = 0 ] && exit 0

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "installing fonts-dejavu-core (the printer's fonts)" >&2
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core
