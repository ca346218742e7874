#!/usr/bin/env bash
# Installs the Debian packages the tests use (PostgreSQL server binaries; Chromium and its
# driver for the web board's browser test) when they are missing.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc)  # the reports test opens Excel files in LibreOffice
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)  # the documents test reads the PDFs' text
# A CJK font, so that the browser test's screenshot shows the Chinese text, not boxes, and the
# 督办单 / 通报 PDFs embed it.
dpkg -s fonts-wqy-zenhei >/dev/null 2>&1 || need+=(fonts-wqy-zenhei)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${need[*]} — install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
echo "installing system packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian's package starts a cluster of its own; the tests start their own on a free port.
if command -v pg_ctlcluster >/dev/null 2>&1; then
  for v in $(ls /usr/lib/postgresql); do pg_ctlcluster "$v" main stop 2>/dev/null || true; done
fi
