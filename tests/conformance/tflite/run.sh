#!/bin/sh
# run.sh "ITEM..." COMMAND...: fetch.sh the test models, then run COMMAND.
# When they can't be fetched (no npm registry) the test is skipped (77),
# not passed on fewer models.
set -u
items=$1
shift
# shellcheck disable=SC2086 # items is a word list
if ! sh "$(dirname "$0")/fetch.sh" $items; then
	echo "run.sh: could not fetch $items: skipping" >&2
	exit 77
fi
exec "$@"
