#!/usr/bin/env bash
# Rafraîchit le verrou des dépendances, requirements-lock.txt : versions exactes et empreintes SHA-256 de tout
# ce qu'installent scripts/demo.sh, scripts/tests.sh, scripts/bench.sh et .ci/run (paquet, outils de test,
# pip et setuptools). Outil : uv (pip compile), posé dans .venv-outils.
# Usage : ./scripts/verrou.sh             garde les versions déjà verrouillées qui conviennent encore
#         ./scripts/verrou.sh --dernieres prend les dernières versions publiées (puis ./scripts/tests.sh)
set -euo pipefail
source "$(dirname "$0")/_commun.sh"
mise_a_jour=()
case "${1:-}" in
    --dernieres) mise_a_jour=(--upgrade) ;;
    "") ;;
    *) echo "Option inconnue : $1 (attendu : --dernieres)" >&2; exit 2 ;;
esac
[ -x .venv-outils/bin/uv ] || { python3 -m venv .venv-outils && .venv-outils/bin/python -m pip install --quiet "uv>=0.9"; }
.venv-outils/bin/uv pip compile pyproject.toml scripts/outils-installation.in --extra dev \
    --universal --python-version 3.11 --generate-hashes --quiet "${mise_a_jour[@]}" \
    --custom-compile-command "./scripts/verrou.sh" -o requirements-lock.txt
echo "→ requirements-lock.txt à jour ; lancez ./scripts/tests.sh avant de le valider (git diff requirements-lock.txt)."
