#!/bin/bash
# docs/options.md is what `pbe_dist list` prints, so the option tables researchers read are the
# registries' and options structs' own declarations; this fails when the file is stale, or when
# docs/spec.md's table does not name every dataset, model, attack and defense.
#   options_doc.sh PBE_DIST MPIEXEC SOURCE_DIR
set -euo pipefail
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PBE_DIST=$1 MPIEXEC=$2 SRC=$3
listed=$("$MPIEXEC" -n 1 "$PBE_DIST" list)
if ! diff -u "$SRC/docs/options.md" <(echo "$listed"); then
  echo "docs/options.md is stale: regenerate it with  pbe_dist list > docs/options.md" >&2
  exit 1
fi
for pair in dataset:dataset model:model attacks:attack defenses:defense; do
  kind=${pair%%:*} heading=${pair#*:}
  row=$(grep "^| \`$kind\` |" "$SRC/docs/spec.md") || { echo "docs/spec.md has no \`$kind\` row" >&2; exit 1; }
  for name in $(echo "$listed" | sed -n "s/^### $heading \`\(.*\)\`$/\1/p"); do
    [[ $row == *"\`$name\`"* ]] || { echo "docs/spec.md's \`$kind\` row does not name \`$name\`" >&2; exit 1; }
  done
done
echo "docs/options.md and docs/spec.md name every dataset, model, attack and defense"
