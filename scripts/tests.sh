#!/usr/bin/env bash
# Toute la suite de tests sur une machine Debian neuve : installe LibreOffice, PostgreSQL, poppler, SoftHSM2 (le
# jeton PKCS#11 de la signature électronique)
# quand ils manquent, chromium pour les tests dans un navigateur (Playwright) et axe-core (npm) qui juge leurs
# pages, le paquet et ses outils de
# test aux versions du verrou requirements-lock.txt, puis lance ruff, mypy et pytest (sur deux processus :
# pytest-xdist).
# PostgreSQL : la suite démarre son propre serveur jetable (ou utilise PACTE_TEST_PG s'il est donné).
# Usage : ./scripts/tests.sh [--dernieres] [options de pytest]
#   --dernieres  la même suite avec les dernières versions publiées des dépendances, sans le verrou, dans
#                .venv-dernieres : pour rencontrer les nouvelles versions quand on le choisit, avant de
#                rafraîchir le verrou (./scripts/verrou.sh --dernieres).
set -euo pipefail
source "$(dirname "$0")/_commun.sh"
venv=.venv
if [ "${1:-}" = --dernieres ]; then
    shift
    export PACTE_DERNIERES=1
    venv=.venv-dernieres
fi
installer_paquets python3 python3-venv libreoffice-writer-nogui libreoffice-calc-nogui fonts-liberation2 fonts-dejavu \
    poppler-utils postgresql util-linux chromium softhsm2
command -v npm >/dev/null || installer_paquets npm
echo "→ axe-core (tests/navigateur, versions de package-lock.json)"
npm ci --prefix tests/navigateur --no-audit --no-fund --silent
preparer_venv ".[dev]" "$venv"
echo "→ ruff"
"$venv/bin/ruff" check src tests outils bench
echo "→ mypy"
"$venv/bin/mypy"
echo "→ pytest"
exec "$venv/bin/python" -m pytest "$@"
