#!/usr/bin/env bash
# `make run`: the whole service on the embedded default. Initialises the SQLite store, imports
# the sample task list on first start, issues an office (admin) token, then serves the HTTP API
# and the web board (and the reminder scheduler, when present) until Ctrl-C.
#   scripts/run.sh [CONFIG]     env: DUBAN_HOST, DUBAN_PORT, DUBAN_SAMPLE, DUBAN_BIN
set -euo pipefail
config="${1:-examples/duban.toml}"
sample="${DUBAN_SAMPLE:-examples/tasks-2024.csv}"
host="${DUBAN_HOST:-127.0.0.1}"
port="${DUBAN_PORT:-8000}"
duban="${DUBAN_BIN:-.venv/bin/duban}"
token_id_file="var/make-run-token-id"   # the id only (not secret): to revoke it on the next start
export DUBAN_CONFIG="$config"

"$duban" init
if [ "$("$duban" board --format json | tr -d '[:space:]')" = "[]" ]; then
  "$duban" import "$sample" | tail -n 1   # the summary line, not the table of 35 rows
fi

mkdir -p var
if [ -s "$token_id_file" ]; then
  "$duban" token revoke "$(cat "$token_id_file")" --reason "make run 重新启动" >/dev/null 2>&1 || true
fi
token="$("$duban" token issue --role office --name "make run" --reason "make run 管理员令牌" --quiet)"
echo "$token" | cut -d_ -f2 >"$token_id_file"

url="http://${host}:${port}"
# The board needs sign-in: an office member "make run" (added once) and a one-time link for them.
"$duban" person add --role office --name "make run" --login make-run --reason "make run 管理员" \
  >/dev/null 2>&1 || true
signin="$("$duban" invite make-run --url "$url" --format json | sed -n 's/.*"link": *"\([^"]*\)".*/\1/p')"
cat <<MSG

督办 duban 已启动（配置 ${config}）
  看板  ${url}/
  登录链接（改革办，只能使用一次）: ${signin}
  API   ${url}/api/v1   接口说明 ${url}/openapi.json
  管理员令牌（office，只显示这一次；下次启动时自动吊销）:
    ${token}
  试一试:
    curl -H "Authorization: Bearer ${token}" ${url}/api/v1/board
按 Ctrl-C 停止。

MSG
exec "$duban" serve --host "$host" --port "$port"
