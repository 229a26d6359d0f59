# Shared by the kind and helm stand-ins (test doubles for labsh's tests; kind and helm
# cannot run on the test machine). Sourced, not run.
#
# Environment:
#   STANDIN_DIR          folder for the call log, kept files and the stand-ins' state (required)
#   STANDIN_FAIL         "PROGRAM ARGS" prefix (e.g. "helm upgrade"): that call prints
#                        STANDIN_FAIL_STDERR on stderr and exits STANDIN_FAIL_CODE (1)
#   STANDIN_HANG         "PROGRAM ARGS" prefix: that call starts a child that sleeps, writes its
#                        own pid to hang.pid and the child's to hang-child.pid, and waits forever

dir="${STANDIN_DIR:?STANDIN_DIR must name the stand-ins folder}"

# calls.log: per call, NUL-terminated fields: program, argument count, arguments.
standin_record() {
    prog=$1
    shift
    printf '%s\0' "$prog" "$#" "$@" >>"$dir/calls.log"
}

# Copies a file labsh passed (config, values) so the test can read it after labsh removed it;
# files.log gets "ORIGINAL<TAB>COPY".
standin_keep() {
    touch "$dir/files.log"
    n=$(($(wc -l <"$dir/files.log") + 1))
    copy="$dir/kept-$n-$(basename "$1")"
    cp "$1" "$copy"
    printf '%s\t%s\n' "$1" "$copy" >>"$dir/files.log"
}

standin_maybe_fail() {
    if [ -n "${STANDIN_FAIL:-}" ]; then
        case "$*" in
        "$STANDIN_FAIL"*)
            printf '%s\n' "${STANDIN_FAIL_STDERR:-Error: failed}" >&2
            exit "${STANDIN_FAIL_CODE:-1}"
            ;;
        esac
    fi
}

standin_maybe_hang() {
    if [ -n "${STANDIN_HANG:-}" ]; then
        case "$*" in
        "$STANDIN_HANG"*)
            sleep 1000 &
            child=$!
            echo "$child" >"$dir/hang-child.pid.tmp" && mv "$dir/hang-child.pid.tmp" "$dir/hang-child.pid"
            echo "$$" >"$dir/hang.pid.tmp" && mv "$dir/hang.pid.tmp" "$dir/hang.pid"
            while :; do wait; done
            ;;
        esac
    fi
}
