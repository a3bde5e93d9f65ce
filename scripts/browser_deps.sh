#!/usr/bin/env bash
# The console's browser tests (tests/browser/) drive Debian's chromium through its
# chromedriver, both from apt: installed here if missing. Sourced by scripts/test.sh.
# A CJK font too (fonts-wqy-zenhei, small), or the screenshots show the Chinese labels as boxes.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || [ ! -d /usr/share/fonts/truetype/wqy ]; then
  printf '[setup] %s\n' "installing chromium, chromium-driver and a CJK font for the browser tests" >&2
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-zenhei >/dev/null \
      || printf '[setup] %s\n' "could not install chromium (the browser tests will fail)" >&2
  fi
fi
