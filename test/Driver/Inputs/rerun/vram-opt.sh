#!/bin/sh
# A stand-in for vram-opt in rerun-all.test: its first argument says how it
# ends, so that rerun_all.py can be shown each kind of run.
ulimit -c 0
case "$1" in
ok) echo "a report" ;;
fail) echo "vram-opt: error: $2: a diagnosed error" >&2; exit 1 ;;
exit2) echo "vram-opt: Unknown command line argument" >&2; exit 2 ;;
crash) echo "Stack dump:" >&2; kill -SEGV $$ ;;
tz) echo "time zone $TZ" ;; # differs from the first run to the second
# exactly the arguments 'one' and 'two|three': a continued RUN line joined
# and a quoted '|' kept
args) [ "$#" -eq 3 ] && [ "$2" = one ] && [ "$3" = 'two|three' ] ;;
exists) test -f "$2" ;;
*) exit 3 ;;
esac
