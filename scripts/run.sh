#!/usr/bin/env bash
# `make run`: the whole service on the embedded default. Initialises the SQLite store, seeds the
# living demo on first start (`duban demo seed`: the sample list re-dated to this year and a
# simulated quarter; a later start changes nothing), issues an office (admin) token, prints
# one-time sign-in links for a liaison, the office and an auditor, then serves the HTTP API and
# the web workspace (and the reminder scheduler) until Ctrl-C.
#   scripts/run.sh [CONFIG]     env: DUBAN_HOST, DUBAN_PORT, DUBAN_SAMPLE, DUBAN_BIN
set -euo pipefail
config="${1:-examples/duban.toml}"
sample="${DUBAN_SAMPLE:-examples/tasks-2024.csv}"
host="${DUBAN_HOST:-127.0.0.1}"
port="${DUBAN_PORT:-8000}"
duban="${DUBAN_BIN:-.venv/bin/duban}"
token_id_file="var/make-run-token-id"   # the id only (not secret): to revoke it on the next start
export DUBAN_CONFIG="$config"

url="http://${host}:${port}"
"$duban" init
# The demo's progress lines and summary now; its three sign-in links in the banner below.
seeded="$("$duban" demo seed --sample "$sample" --url "$url")"
printf '%s\n' "$seeded" | grep -v -e '/invite?t=' -e '^登录链接' || true
links="$(printf '%s\n' "$seeded" | grep '/invite?t=' | sed 's/^  /    /')"

mkdir -p var
if [ -s "$token_id_file" ]; then
  "$duban" token revoke "$(cat "$token_id_file")" --reason "make run 重新启动" >/dev/null 2>&1 || true
fi
token="$("$duban" token issue --role office --name "make run" --reason "make run 管理员令牌" --quiet)"
echo "$token" | cut -d_ -f2 >"$token_id_file"

cat <<MSG

督办 duban 已启动（配置 ${config}）
  看板  ${url}/    审计 ${url}/audit    工作台 ${url}/office    我的任务 ${url}/my
  登录链接（每个只能使用一次）:
${links}
  API   ${url}/api/v1   接口说明 ${url}/openapi.json
  改革办接口令牌（只显示这一次；下次启动时自动吊销）:
    ${token}
  试一试:
    curl -H "Authorization: Bearer ${token}" ${url}/api/v1/board
按 Ctrl-C 停止。

MSG
exec "$duban" serve --host "$host" --port "$port"
