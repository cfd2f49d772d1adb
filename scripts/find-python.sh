#!/bin/sh
# Print the Python interpreter that has the given modules: $PDSIM_PYTHON if
# set, else the first of /usr/bin/python3 (Debian's packages) and python3.
# Exit 1, printing nothing, when none has them all.
#   scripts/find-python.sh MODULE...
mods=$(echo "$@" | tr ' ' ',')
for cand in ${PDSIM_PYTHON:-} /usr/bin/python3 python3; do
    # isolated mode (-I): a module file in the current folder is not imported
    if "$cand" -I -c "import ${mods:-sys}" 2>/dev/null; then
        echo "$cand"
        exit 0
    fi
done
exit 1
