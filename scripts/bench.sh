#!/usr/bin/env bash
# Le banc d'essai de performance (voir « Performances » dans le README) sur une machine Debian neuve :
# installe LibreOffice au besoin, puis lance bench/run.py (environ 20 minutes ; --rapide pour un essai court).
# Usage : ./scripts/bench.sh [--rapide] [--travaux docx,pdf,bilan,alertes,import,pages,calendrier]
set -euo pipefail
source "$(dirname "$0")/_commun.sh"
installer_paquets python3 python3-venv libreoffice-writer-nogui fonts-liberation2 fonts-dejavu
preparer_venv .
exec .venv/bin/python bench/run.py "$@"
