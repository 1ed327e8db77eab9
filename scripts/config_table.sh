#!/usr/bin/env bash
# Regenerates README.md's "Configuration" table from the settings arrays that
# `auth_service --help` and `sum_service --help` print (auth_service/auth_config.cc,
# sum_service/sum_config.cc, through the config_table tool). Only the lines
# between <!-- config-table:begin --> and <!-- config-table:end --> change.
#
#   scripts/config_table.sh [--check] [--build-dir DIR] [--table-from PATH] [--readme FILE]
#
#   --check            change nothing; exit 1 with a diff when the table is out of date
#   --build-dir DIR    build directory in which to build config_table  [build]
#                      (TOLLGATE_BUILD_DIR; configured like scripts/build.sh when new)
#   --table-from PATH  an already built config_table; nothing is built
#   --readme FILE      the file to update or check  [README.md]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${TOLLGATE_BUILD_DIR:-build}"
check=0
table_from=""
readme="$root/README.md"
while (($#)); do
  case "$1" in
    --check) check=1; shift ;;
    --build-dir) build_dir="${2:?--build-dir needs a value}"; shift 2 ;;
    --build-dir=*) build_dir="${1#*=}"; shift ;;
    --table-from) table_from="${2:?--table-from needs a value}"; shift 2 ;;
    --table-from=*) table_from="${1#*=}"; shift ;;
    --readme) readme="${2:?--readme needs a value}"; shift 2 ;;
    --readme=*) readme="${1#*=}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "config_table.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [[ -z "$table_from" ]]; then
  [[ "$build_dir" = /* ]] || build_dir="$root/$build_dir"
  if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    generator=(-G "Unix Makefiles")
    if command -v ninja >/dev/null; then generator=(-G Ninja); fi
    cmake -S "$root" -B "$build_dir" "${generator[@]}" >/dev/null
  fi
  cmake --build "$build_dir" --target config_table >/dev/null
  table_from="$build_dir/tools/config_table"
fi

begin='<!-- config-table:begin -->'
end='<!-- config-table:end -->'
if [[ "$(grep -cxF "$begin" "$readme")" != 1 || "$(grep -cxF "$end" "$readme")" != 1 ]]; then
  echo "config_table.sh: $readme needs exactly one '$begin' line and one '$end' line" >&2
  exit 2
fi

table="$(mktemp)"
updated="$(mktemp)"
trap 'rm -f "$table" "$updated"' EXIT
"$table_from" >"$table"
# Keep everything outside the markers; put the table between them.
awk -v begin="$begin" -v end="$end" -v table="$table" '
  $0 == begin { print; while ((getline line < table) > 0) print line; skip = 1; next }
  $0 == end { if (!skip) { print "config_table.sh: end marker before begin marker" > "/dev/stderr"; exit 3 }
              skip = 0 }
  !skip { print }
' "$readme" >"$updated"

if cmp -s "$readme" "$updated"; then
  exit 0
fi
if ((check)); then
  echo "config_table.sh: the configuration table in $readme is out of date; run scripts/config_table.sh" >&2
  diff -u "$readme" "$updated" >&2 || true
  exit 1
fi
cat "$updated" >"$readme"
echo "config_table.sh: updated the configuration table in $readme"
