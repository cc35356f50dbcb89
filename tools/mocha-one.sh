#!/usr/bin/env bash
# Runs only the given test files (mocha merges positional specs with .mocharc's spec list).
exec mocha --no-config --node-option import=tsx --extension ts --require test/setup.ts --timeout 20000 --reporter ./tools/mocha-summary-reporter.cjs "$@"
