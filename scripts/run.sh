#!/usr/bin/env bash
# `make run`: initialise the embedded SQLite store, import the sample task list, show the board.
set -euo pipefail
config="${1:-examples/duban.toml}"
duban=".venv/bin/duban"
export DUBAN_CONFIG="$config"
"$duban" init
"$duban" import examples/tasks-2024.csv
"$duban" board
