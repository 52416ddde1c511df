#!/usr/bin/env bash
# Toute la suite de tests sur une machine Debian neuve : installe LibreOffice, PostgreSQL et poppler
# quand ils manquent, chromium pour les tests dans un navigateur (Playwright), le paquet et ses outils de
# test, puis lance ruff, mypy et pytest.
# PostgreSQL : la suite démarre son propre serveur jetable (ou utilise PACTE_TEST_PG s'il est donné).
# Usage : ./scripts/tests.sh [options de pytest]
set -euo pipefail
source "$(dirname "$0")/_commun.sh"
installer_paquets python3 python3-venv libreoffice-writer-nogui fonts-liberation2 fonts-dejavu \
    poppler-utils postgresql util-linux chromium
preparer_venv ".[dev]"
echo "→ ruff"
.venv/bin/ruff check src tests outils bench
echo "→ mypy"
.venv/bin/mypy
echo "→ pytest"
exec .venv/bin/python -m pytest "$@"
