#!/bin/sh
# valgrind-wrap.sh ARGS... - run the daemon named by TLSTRUST_REAL_BIN under
# valgrind's leak checker, one log per process in TLSTRUST_VALGRIND_DIR.
# Used in place of the daemon by scripts/test's valgrind stage.
exec valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
    --log-file="$TLSTRUST_VALGRIND_DIR/vg.%p.log" "$TLSTRUST_REAL_BIN" "$@"
